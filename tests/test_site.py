"""The built site: every page in both languages, offline, with working links and downloads."""

from __future__ import annotations

import functools
import importlib
import json
import pkgutil
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import jupytext
import nbformat
import pytest
import torch

import linreg

ROOT = Path(__file__).resolve().parents[1]
LANGUAGES = ("en", "zh")
EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.I)


class _Page(HTMLParser):
    """The parts of an HTML page these tests look at."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lang = ""
        self.ids: set[str] = set()
        self.resources: list[str] = []  # fetched by the browser when the page loads
        self.links: list[str] = []  # followed only when clicked
        self.images: list[tuple[str, str | None]] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.lang = a.get("lang", "")
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and "href" in a:
            self.links.append(a["href"])
        elif tag == "link" and "href" in a:
            rel = a.get("rel", "")
            (self.links if rel in ("alternate", "canonical") else self.resources).append(a["href"])
        elif tag in ("script", "iframe", "source", "audio", "video", "embed") and "src" in a:
            self.resources.append(a["src"])
        elif tag == "img":
            self.resources.append(a.get("src", ""))
            self.images.append((a.get("src", ""), dict(attrs).get("alt")))
        if "style" in a:
            self.styles.append(a["style"])
        self._in_style = tag == "style"

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _html_pages(site: Path, lang: str) -> list[Path]:
    return sorted((site / lang).rglob("*.html"))


def test_every_page_exists_in_both_languages(site: Path) -> None:
    en = {p.relative_to(site / "en") for p in _html_pages(site, "en")}
    zh = {p.relative_to(site / "zh") for p in _html_pages(site, "zh")}
    assert en == zh
    for tutorial in (ROOT / "docs" / "en" / "tutorials").glob("[0-9][0-9]-*.py"):
        assert Path("tutorials", tutorial.stem, "index.html") in en
    assert (site / "index.html").exists(), "the root page that redirects to a language"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_html_lang_matches_the_language(site: Path, lang: str) -> None:
    for path in _html_pages(site, lang):
        assert _parse(path).lang == lang, path


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_page_loads_anything_from_another_host(site: Path, lang: str) -> None:
    for path in _html_pages(site, lang):
        page = _parse(path)
        outside = [
            url for url in page.resources if EXTERNAL.match(url) or url.startswith("data:text/html")
        ]
        assert not outside, f"{path}: {outside}"
        for style in page.styles:
            assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", style), path


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_stylesheet_or_script_fetches_from_another_host(site: Path, lang: str) -> None:
    for path in (site / lang).rglob("*.css"):
        text = path.read_text(encoding="utf-8", errors="replace")
        assert not re.search(r"(?:url\(|@import)\s*['\"]?(?:https?:)?//", text), path
    # Our own scripts name no other host. (Material's bundle names unpkg.com for
    # Mermaid diagrams, which this site does not use; the browser tests check that
    # nothing is requested from another host.)
    for path in (site / lang / "assets" / "js").rglob("*.js"):
        assert not re.search(r"https?://", path.read_text(encoding="utf-8")), path


def _resolve(base: Path, page: Path, url: str) -> tuple[Path, str]:
    parts = urlsplit(url)
    if parts.path.startswith("/"):  # from the server's root, where site/ is served
        target = (base / unquote(parts.path).lstrip("/")).resolve()
    elif parts.path:
        target = (page.parent / unquote(parts.path)).resolve()
    else:
        target = page
    if target.is_dir():
        target = target / "index.html"
    return target, unquote(parts.fragment)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_internal_links_images_and_anchors_resolve(site: Path, lang: str) -> None:
    pages = {path.resolve(): _parse(path) for path in _html_pages(site, lang)}
    broken = []
    for path, page in pages.items():
        for url in page.links + page.resources:
            if (
                not url
                or EXTERNAL.match(url)
                or url.startswith(("mailto:", "data:", "javascript:"))
            ):
                continue
            target, fragment = _resolve(site, path, url)
            if not target.exists():
                broken.append(f"{path.relative_to(site.resolve())}: {url}")
            elif fragment and target in pages and fragment not in pages[target].ids:
                broken.append(f"{path.relative_to(site.resolve())}: anchor {url}")
    assert not broken, "\n".join(broken[:20])


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_image_has_alt_text(site: Path, lang: str) -> None:
    for path in _html_pages(site, lang):
        for src, alt in _parse(path).images:
            assert alt is not None, f"{path}: {src} has no alt attribute"
            assert len(alt.strip()) >= 10, f"{path}: {src} has alt={alt!r}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_each_page_says_which_torch_verified_it(site: Path, lang: str) -> None:
    version = torch.__version__.split("+")[0]
    for path in _html_pages(site, lang):
        if path.name == "404.html":
            continue
        text = path.read_text(encoding="utf-8")
        assert f"torch {version}" in text, path
        assert f"linreg {linreg.__version__}" in text, path


@pytest.mark.parametrize("lang", LANGUAGES)
def test_notebook_downloads_are_valid_and_hold_the_tutorial(site: Path, lang: str) -> None:
    sources = sorted((ROOT / "docs" / lang / "tutorials").glob("[0-9][0-9]-*.py"))
    assert sources
    for source in sources:
        page = site / lang / "tutorials" / source.stem / "index.html"
        assert f'href="../{source.stem}.ipynb"' in page.read_text(encoding="utf-8")
        download = site / lang / "tutorials" / f"{source.stem}.ipynb"
        notebook = nbformat.read(download, as_version=4)
        nbformat.validate(notebook)
        assert notebook.metadata["kernelspec"]["name"] == "python3"
        code = [c.source for c in notebook.cells if c.cell_type == "code"]
        assert code == [c.source for c in jupytext.read(source).cells if c.cell_type == "code"]
        assert all(not c.get("outputs") for c in notebook.cells if c.cell_type == "code")


@functools.cache
def _home_modules() -> dict[str, str]:
    """Each name of `linreg.__all__` -> the module that defines it and lists it in its `__all__`."""
    homes = {}
    for info in pkgutil.iter_modules(linreg.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"linreg.{info.name}")
        for name in getattr(module, "__all__", []):
            if name in linreg.__all__ and getattr(module, name) is getattr(linreg, name):
                homes[name] = module.__name__
    return homes


def _reference_page(site: Path, lang: str, module: str) -> Path:
    """`linreg.model` -> site/LANG/reference/model/index.html."""
    return site / lang / "reference" / module.removeprefix("linreg.") / "index.html"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_each_public_module_has_its_reference_page(site: Path, lang: str) -> None:
    # The public modules are those that export a name of `linreg.__all__` (not the CLI).
    modules = sorted(set(_home_modules().values()))
    pages = {p.parent.name for p in (site / lang / "reference").glob("*/index.html")}
    assert pages == {module.removeprefix("linreg.") for module in modules}
    index = _parse(site / lang / "reference" / "index.html")
    for module in modules:
        page = _reference_page(site, lang, module)
        assert module in _parse(page).ids, f"{page}: no anchor #{module}"
        assert f"{module.removeprefix('linreg.')}/" in index.links, f"the index omits {module}"


# No docstring, so mkdocstrings leaves them out (it shows only documented members).
UNDOCUMENTED = {"OPTIMIZERS": "linreg/optim.py", "REDUCTIONS": "linreg/loss.py"}


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(
            name,
            marks=pytest.mark.xfail(
                strict=True, reason=f"{name} has no attribute docstring in {UNDOCUMENTED[name]}"
            ),
        )
        if name in UNDOCUMENTED
        else name
        for name in linreg.__all__
    ],
)
def test_every_public_name_is_documented_on_its_module_page(site: Path, name: str) -> None:
    module = _home_modules()[name]
    for lang in LANGUAGES:
        page = _reference_page(site, lang, module)
        assert f"{module}.{name}" in _parse(page).ids, f"{page}: no anchor #{module}.{name}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_math_is_rendered_by_the_local_katex(site: Path, lang: str) -> None:
    page = site / lang / "tutorials" / "01-gradient-descent" / "index.html"
    text = page.read_text(encoding="utf-8")
    assert 'class="arithmatex"' in text
    assert "assets/katex/katex.min.js" in text
    assert (site / lang / "assets" / "katex" / "LICENSE").exists()
    fonts = list((site / lang / "assets" / "katex" / "fonts").glob("*.woff2"))
    css = (site / lang / "assets" / "katex" / "katex.min.css").read_text(encoding="utf-8")
    for font in re.findall(r"url\(fonts/([^)]+)\)", css):
        assert (site / lang / "assets" / "katex" / "fonts" / font).exists(), font
    assert fonts


def test_chinese_search_index_is_segmented(site: Path) -> None:
    index = json.loads((site / "zh" / "search" / "search_index.json").read_text(encoding="utf-8"))
    assert "\\u200b" in index["config"]["separator"]  # the regex escape, as configured
    text = " ".join(doc["text"] for doc in index["docs"])
    # jieba cut the text at build time: words are separated by zero-width spaces.
    for word in ("损失函数", "学习率", "小批量"):
        assert re.search(rf"(^|[\s\u200b]){word}($|[\s\u200b])", text), word
    english = json.loads((site / "en" / "search" / "search_index.json").read_text(encoding="utf-8"))
    assert english["config"]["lang"] == ["en"]
    assert index["config"]["lang"] == ["zh"]


def test_the_root_page_redirects_to_a_language(site: Path) -> None:
    text = (site / "index.html").read_text(encoding="utf-8")
    assert 'url=en/"' in text
    assert 'href="zh/"' in text


@pytest.mark.slow
def test_the_site_can_move_to_another_base_url_by_one_setting(tmp_path: Path) -> None:
    """SITE_URL alone moves the site: canonical links, sitemap and language links follow."""
    import os
    import subprocess
    import sys

    base = "https://example.org/some/project/"
    env = dict(os.environ, SITE_URL=base, LINREG_EXECUTE="0", NO_MKDOCS_2_WARNING="1")
    out = tmp_path / "zh"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "-f",
            "mkdocs.zh.yml",
            "-d",
            str(out),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    page = (out / "tutorials" / "02-pytorch-lesson" / "index.html").read_text(encoding="utf-8")
    assert f'<link rel="canonical" href="{base}zh/tutorials/02-pytorch-lesson/">' in page
    assert f"<loc>{base}zh/</loc>" in (out / "sitemap.xml").read_text(encoding="utf-8")
    # The language links are relative, so they work under any base.
    assert 'href="../../../en/" hreflang="en"' in page
    assert "127.0.0.1" not in page
