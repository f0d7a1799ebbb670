"""A Chinese page is Chinese all the way down: prose, code comments, the words the code
prints, figure labels, alt texts and admonition titles.

Read from the sources: the code cells of the tutorials and the Python blocks of the
Markdown pages (which run at build). Where the English twin has words (a comment, or a
string with two English words in a row), the Chinese must have Chinese words: so the
checks below also count that they found what they expect, and cannot pass on an empty
page. Identifiers, torch's own messages and printed numbers stay as they are.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import jupytext
import pytest

from tools import twins

ROOT = Path(__file__).resolve().parents[1]
EN, ZH = ROOT / "docs" / "en", ROOT / "docs" / "zh"
PAGES = sorted(p.relative_to(EN) for p in EN.rglob("*") if p.suffix in (".md", ".py"))
PROSE = re.compile(r"\b[A-Za-z]{2,} [A-Za-z]{2,}\b")  # two English words in a row
CHINESE = re.compile(r"[\u4e00-\u9fff]")
PYTHON_BLOCK = re.compile(r"^```(?:python|py)\b[^\n]*\n(.*?)^```", re.S | re.M)
ADMONITION = re.compile(r'^\s*(?:#\s*)?(?:!!!|\?\?\?\+?) \w+(?: "([^"]*)")?', re.M)


def _code(path: Path) -> list[str]:
    """The code a page runs: a tutorial's code cells, or a Markdown page's Python blocks."""
    if path.suffix == ".py":
        cells = jupytext.read(path).cells
        # A `%%writefile` cell is the script it writes (tools/twins.py).
        return [twins.python_code(cell.source) for cell in cells if cell.cell_type == "code"]
    return PYTHON_BLOCK.findall(path.read_text(encoding="utf-8"))


def _words(code: str) -> list[str]:
    """The comments and string constants of `code` (f-strings' literal parts included)."""
    found = [
        token.string
        for token in tokenize.generate_tokens(io.StringIO(code).readline)
        if token.type == tokenize.COMMENT
    ]
    found += [
        node.value
        for node in ast.walk(ast.parse(code))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]
    return found


def _prose(code: list[str]) -> list[str]:
    """The comments and strings in English words; an indented string is source code."""
    return [
        w
        for cell in code
        for w in _words(cell)
        if PROSE.search(w) and not CHINESE.search(w) and not w.startswith("    ")
    ]


@pytest.mark.parametrize("page", PAGES, ids=str)
def test_code_speaks_chinese_where_the_english_speaks_english(page: Path) -> None:
    english, chinese = _code(EN / page), _code(ZH / page)
    untranslated = _prose(chinese)
    assert untranslated == [], f"English words in the Chinese code: {untranslated[:5]}"
    # Not vacuous: as many Chinese comments and strings as the English has prose.
    wanted = len(_prose(english))
    found = sum(1 for cell in chinese for w in _words(cell) if CHINESE.search(w))
    assert found >= wanted, f"{wanted} English comments and strings, {found} Chinese ones"


LANG = {"en": "en", "zh": "zh"}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_figures_are_labelled_in_the_pages_language(lang: str) -> None:
    calls = 0
    for page in PAGES:
        for cell in _code(ROOT / "docs" / lang / page):
            for node in ast.walk(ast.parse(cell)):
                name = (
                    node.func.attr
                    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    else ""
                )
                if name.startswith("plot_"):
                    calls += 1
                    given = {k.arg: k.value for k in node.keywords}
                    value = given.get("lang")
                    assert isinstance(value, ast.Constant), f"{page}: {name} without lang="
                    assert value.value == LANG[lang], f"{page}: {name}(lang={value.value!r})"
    assert calls > 0


@pytest.mark.parametrize("page", [p for p in PAGES if p.suffix == ".py"], ids=str)
def test_alt_texts_are_chinese(page: Path) -> None:
    cells = jupytext.read(ZH / page).cells
    alts = [c.metadata["alt"] for c in cells if c.cell_type == "code" and "alt" in c.metadata]
    assert all(CHINESE.search(alt) for alt in alts), alts


@pytest.mark.parametrize("page", PAGES, ids=str)
def test_admonitions_have_chinese_titles(page: Path) -> None:
    # Without a title an admonition shows its kind in English ("Note", "Warning");
    # `""` shows none.
    text = (ZH / page).read_text(encoding="utf-8")
    found = list(ADMONITION.finditer(text))
    assert len(found) == len(ADMONITION.findall((EN / page).read_text(encoding="utf-8")))
    for match in found:
        title = match.group(1)
        assert title is not None, f"{match.group(0)!r}: give it a Chinese title"
        assert title == "" or CHINESE.search(title), f"{match.group(0)!r}"
