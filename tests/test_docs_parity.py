"""Bilingual parity: every page exists in English and Chinese, with the same code."""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import pytest
import yaml

from tools import twins

ROOT = Path(__file__).resolve().parents[1]
EN, ZH = ROOT / "docs" / "en", ROOT / "docs" / "zh"
PAGES = sorted(p.relative_to(EN) for p in EN.rglob("*") if p.suffix in (".md", ".py"))
TUTORIALS = [p for p in PAGES if p.suffix == ".py"]
MARKDOWN = [p for p in PAGES if p.suffix == ".md"]

FENCE = re.compile(r"^```[^\n]*\n.*?^```", re.S | re.M)
PYTHON_BLOCK = re.compile(r"^```(?:python|py)\b[^\n]*\n(.*?)^```", re.S | re.M)
DIRECTIVE = re.compile(r"^::: .+$", re.M)
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)]+)\)")
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)#]+\.md)(#[^)]*)?\)")
NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.])")


def _pages(root: Path) -> set[Path]:
    return {p.relative_to(root) for p in root.rglob("*") if p.suffix in (".md", ".py")}


def test_both_languages_have_the_same_pages() -> None:
    assert PAGES, "no English pages found"
    assert _pages(EN) == _pages(ZH)


def _cells(path: Path) -> list[tuple[str, str, list[str]]]:
    notebook = jupytext.read(path)
    return [
        (
            cell.cell_type,
            cell.source if cell.cell_type == "code" else "",
            cell.metadata.get("tags", []),
        )
        for cell in notebook.cells
    ]


@pytest.mark.parametrize("page", TUTORIALS, ids=str)
def test_tutorials_are_one_program_in_both_languages(page: Path) -> None:
    # The build checks this too (tools/notebooks.py), and that the numbers printed agree.
    en, zh = _cells(EN / page), _cells(ZH / page)
    assert [kind for kind, _, _ in en] == [kind for kind, _, _ in zh], "cell kinds differ"
    assert [tags for _, _, tags in en] == [tags for _, _, tags in zh], "cell tags differ"
    twins.check_same_program(
        [code for kind, code, _ in en if kind == "code"],
        [code for kind, code, _ in zh if kind == "code"],
    )


@pytest.mark.parametrize("page", TUTORIALS, ids=str)
def test_every_figure_has_alt_text_in_both_languages(page: Path) -> None:
    figures = []
    for root in (EN, ZH):
        notebook = jupytext.read(root / page)
        alts = [c.metadata.get("alt") for c in notebook.cells if c.cell_type == "code"]
        figures.append([alt is not None for alt in alts])
        assert all(alt is None or len(alt.strip()) >= 10 for alt in alts), "alt text too short"
    assert figures[0] == figures[1], "figures (cells with alt text) differ between languages"


def _markdown_parts(path: Path) -> dict[str, list[str]]:
    text = path.read_text(encoding="utf-8")
    return {
        # Shell commands are the same; their comments speak the page's language.
        "code blocks other than Python": [
            re.sub(r"[ \t]+#[^\n]*", "", block)
            for block in FENCE.findall(text)
            if not block.startswith(("```python", "```py"))
        ],
        "mkdocstrings directives": DIRECTIVE.findall(text),
        "images": IMAGE.findall(text),
        "links to pages": [m.group(1) for m in LINK.finditer(text)],
        "tables of values": [
            NUMBER.findall(line) for line in text.splitlines() if line.startswith("|")
        ],
    }


@pytest.mark.parametrize("page", MARKDOWN, ids=str)
def test_markdown_pages_have_the_same_code_images_links_and_numbers(page: Path) -> None:
    en, zh = _markdown_parts(EN / page), _markdown_parts(ZH / page)
    for part in en:
        assert en[part] == zh[part], f"{part} differ"
    # Python blocks are one program in both languages (their words may differ);
    # tests/test_docs_code.py runs both and compares the numbers they print.
    twins.check_same_program(
        *(PYTHON_BLOCK.findall(p.read_text("utf-8")) for p in (EN / page, ZH / page))
    )


def _nav_pages(config: Path) -> list[str]:
    def walk(items: list[object]) -> list[str]:
        found = []
        for item in items:
            value = next(iter(item.values())) if isinstance(item, dict) else item
            found += walk(value) if isinstance(value, list) else [str(value)]
        return found

    data = yaml.load(config.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    return walk(data["nav"])


def test_navigation_lists_the_same_pages_in_the_same_order() -> None:
    en = _nav_pages(ROOT / "mkdocs.yml")
    assert en == _nav_pages(ROOT / "mkdocs.zh.yml")
    sources = {p.with_suffix(".md").as_posix() for p in PAGES}
    assert set(en) == sources, (
        "a page is missing from the navigation, or the nav names a missing page"
    )
