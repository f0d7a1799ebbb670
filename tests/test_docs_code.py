"""Every Python code block of the Markdown pages runs, in both languages, as a learner would.

The torch annotation pages execute their blocks at build time (markdown-exec); this
runs them again here, with warnings as errors, so a block that only warns or that
depends on a block of another page fails too. Blocks of one `session` share a
namespace, in page order, as they do in the build.
"""

from __future__ import annotations

import contextlib
import functools
import io
import re
from pathlib import Path

import pytest

from tools import twins

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted(
    [
        *(ROOT / "docs" / "en").rglob("*.md"),
        *(ROOT / "docs" / "zh").rglob("*.md"),
        ROOT / "README.md",
    ]
)
BLOCK = re.compile(r"^```(?:python|py)\b([^\n]*)\n(.*?)^```", re.S | re.M)
SESSION = re.compile(r'session="([^"]+)"')


def _blocks(page: Path) -> list[tuple[str, str]]:
    """(session, code) of each Python block; blocks without a session get their own."""
    found = []
    for number, match in enumerate(BLOCK.finditer(page.read_text(encoding="utf-8"))):
        session = SESSION.search(match.group(1))
        found.append((session.group(1) if session else f"block {number}", match.group(2)))
    return found


CASES = [page for page in PAGES if _blocks(page)]


def test_the_annotation_pages_have_code_in_both_languages() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in CASES}
    for page in ("torch/linear.md", "torch/mseloss.md", "torch/sgd.md"):
        assert f"docs/en/{page}" in names
        assert f"docs/zh/{page}" in names


@functools.cache
def _printed(page: Path) -> list[str]:
    """Run the page's blocks in order; return what each one printed."""
    namespaces: dict[str, dict[str, object]] = {}
    printed = []
    for number, (session, code) in enumerate(_blocks(page), 1):
        namespace = namespaces.setdefault(session, {"__name__": "__main__"})
        output = io.StringIO()
        try:
            with contextlib.redirect_stdout(output):
                exec(compile(code, f"{page.name}, block {number}", "exec"), namespace)
        except Exception as error:  # report which block of which page failed
            pytest.fail(
                f"{page.relative_to(ROOT)}, block {number}: {type(error).__name__}: {error}"
            )
        printed.append(output.getvalue())
    return printed


@pytest.mark.parametrize("page", CASES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_python_blocks_run(page: Path) -> None:
    assert len(_printed(page)) == len(_blocks(page))


@pytest.mark.parametrize("page", CASES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_block_prints_nan(page: Path) -> None:
    # A number a page shows as a check is a number: nan would check nothing.
    printed = "\n".join(_printed(page))
    assert not re.search(r"\b(nan|inf)\b", printed), printed[:2000]


TWINS = [p for p in CASES if p.is_relative_to(ROOT / "docs" / "en")]


@pytest.mark.parametrize(
    "page", TWINS, ids=lambda p: p.relative_to(ROOT / "docs" / "en").as_posix()
)
def test_both_languages_print_the_same_numbers(page: Path) -> None:
    chinese = ROOT / "docs" / "zh" / page.relative_to(ROOT / "docs" / "en")
    twins.check_same_numbers(_printed(page), _printed(chinese))
