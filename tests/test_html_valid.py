"""Every page of the built site is valid HTML, by the Nu HTML Checker (vnu.jar).

vnu.jar comes from npm (`vnu-jar`, pinned in package.json and package-lock.json: `npm ci`)
and runs on Java (Debian's default-jre-headless, installed by tools/system-deps.sh).
One run checks every page of both languages (about 15 s). The errors that remain are
upstream's, listed below with their issues; anything else fails the test.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"

# (the start of vnu's message, markup in what it quotes): errors that are not ours.
UPSTREAM = [
    # Material for MkDocs (base.html) keeps the drawer and search toggles unchecked on
    # reload with autocomplete="off" on checkboxes, which HTML allows only on text-like
    # inputs; Material keeps it on purpose, for Firefox, which otherwise restores them:
    # https://github.com/squidfunk/mkdocs-material/issues/1513
    # (and the validator's side: https://github.com/validator/validator/issues/1141).
    (
        "Attribute “autocomplete” is only allowed when the input type is",
        '<input class="md-toggle" data-md-toggle="',
    ),
]
# Not listed, because the pages avoid it: KaTeX writes x_{\max} as <msub> with three
# children (the operator's name and an invisible function application <mo>), where
# MathML allows two (https://github.com/KaTeX/KaTeX/issues/3721). The pages write
# \lambda_{\mathrm{max}}, which looks the same (contributing page, "Build and check").


def _upstream(message: dict, text: str, markup: str) -> bool:
    return message["message"].startswith(text) and markup in message.get("extract", "")


def _line(site: Path, message: dict) -> str:
    page = Path(message["url"].removeprefix("file:")).relative_to(site)
    extract = re.sub(r"\s+", " ", message.get("extract", ""))[:120]
    return f"{page}:{message.get('lastLine')}: {message['message']} {extract}"


@pytest.mark.site
def test_every_page_is_valid_html(site: Path) -> None:
    java = shutil.which("java")
    assert java, "no Java: run tools/system-deps.sh (Debian's default-jre-headless)"
    assert VNU.exists(), f"no {VNU.relative_to(ROOT)}: run `npm ci`"
    pages = sorted(str(page) for page in site.rglob("*.html"))
    result = subprocess.run(
        [java, "-jar", str(VNU), "--errors-only", "--format", "json", *pages],
        capture_output=True,
        text=True,
    )
    messages = json.loads(result.stderr)["messages"]  # vnu writes its report to stderr
    ours = [
        _line(site, m)
        for m in messages
        if not any(_upstream(m, text, markup) for text, markup in UPSTREAM)
    ]
    assert ours == [], f"{len(ours)} errors, the first:\n" + "\n".join(ours[:20])
    for text, markup in UPSTREAM:  # an exception that no page needs any more goes
        assert any(_upstream(m, text, markup) for m in messages), f"fixed upstream? {text}"
