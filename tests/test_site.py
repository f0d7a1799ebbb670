"""The built site, read as files: every page in both languages, offline, with working
links and anchors, alt texts, math typeset at build time, and the notebook downloads.

What only a browser shows (console errors, images that load, axe-core, search, the
language switcher) is in test_browser.py; no check is made in both files.
"""

from __future__ import annotations

import functools
import html
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
from PIL import Image

import linreg
from tools import math_render
from tools.notebooks import sources

ROOT = Path(__file__).resolve().parents[1]

LANGUAGES = ("en", "zh")
pytestmark = pytest.mark.site

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


HEADING_ID = re.compile(r'<h([1-6])[^>]*\sid="([^"]+)"')


def test_headings_have_the_same_ids_in_both_languages(site: Path) -> None:
    # The language switch keeps the address's #anchor: the section must exist there too.
    pages = [p.relative_to(site / "en") for p in _html_pages(site, "en")]
    compared = 0
    for page in pages:
        en = HEADING_ID.findall((site / "en" / page).read_text(encoding="utf-8"))
        zh = HEADING_ID.findall((site / "zh" / page).read_text(encoding="utf-8"))
        assert zh == en, f"{page}: pin the English ids on the Chinese headings ({{ #id }})"
        compared += len(en)
    assert compared > 100


PERMALINK_TITLE = re.compile(r'<a class="headerlink"[^>]*\stitle="([^"]*)"')


@pytest.mark.parametrize(("lang", "title"), [("en", "Permanent link"), ("zh", "永久链接")])
def test_heading_links_are_titled_in_the_language(site: Path, lang: str, title: str) -> None:
    # The ¶ after each heading: its title is what a mouse or a screen reader announces.
    titles = [
        t for path in _html_pages(site, lang) for t in PERMALINK_TITLE.findall(path.read_text())
    ]
    assert len(titles) > 100
    assert set(titles) == {title}


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


def _figures_drawn(source: Path) -> int:
    """The figures a tutorial draws: a cell that draws one has an alt="..." option (README)."""
    return len(re.findall(r'^# %%.*\balt="', source.read_text("utf-8"), re.M))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_tutorials_show_every_figure(site: Path, lang: str) -> None:
    for source in sources(lang):
        drawn = _figures_drawn(source)
        page = site / lang / "tutorials" / source.stem / "index.html"
        shown = [src for src, _ in _parse(page).images if src.startswith("../img/")]
        assert len(shown) == drawn, page


@pytest.mark.parametrize("lang", LANGUAGES)
def test_tutorial_figures_load_lazily(site: Path, lang: str) -> None:
    # A figure is fetched as the reader nears it: a first visit pays for the top of the page.
    for source in sources(lang):
        text = (site / lang / "tutorials" / source.stem / "index.html").read_text("utf-8")
        figures = re.findall(r'<img\b[^>]*src="\.\./img/[^>]*>', text)
        assert len(figures) == _figures_drawn(source), source
        assert all('loading="lazy"' in tag for tag in figures), source


SOLUTION_TITLE = {"en": "Solution", "zh": "参考答案"}
EXERCISES = {"en": "Exercises", "zh": "练习"}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_tutorial_ends_with_exercises_and_folded_executed_solutions(
    site: Path, lang: str
) -> None:
    for source in sources(lang):
        text = (site / lang / "tutorials" / source.stem / "index.html").read_text("utf-8")
        heading = re.search(r'<h2 id="exercises">(.*?)<a', text, re.S)
        assert heading, f"{source}: no Exercises heading (id 'exercises')"
        assert heading.group(1).strip() == EXERCISES[lang], source
        after = text[heading.end() :]
        assert "<h2" not in after, f"{source}: the exercises are not the last section"
        solutions = re.findall(r'<details class="success">(.*?)</details>', after, re.S)
        assert 3 <= len(solutions) <= 5, f"{source}: {len(solutions)} solutions"
        for solution in solutions:
            assert f"<summary>{SOLUTION_TITLE[lang]}</summary>" in solution, source
            # Executed at build: its code is shown with what it printed.
            assert 'class="highlight"' in solution, source
            assert "nb-output" in solution, f"{source}: a solution shows no output"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_images_say_their_size(site: Path, lang: str) -> None:
    # width and height reserve the image's place before it loads: nothing below it jumps.
    found = 0
    for path in _html_pages(site, lang):
        text = path.read_text(encoding="utf-8")
        for tag in re.findall(r"<img\b[^>]*>", text):
            src = re.search(r'src="([^"]+)"', tag)
            if not src or not src.group(1).endswith(".png"):
                continue
            image = (path.parent / src.group(1)).resolve()
            with Image.open(image) as png:
                size = png.size
            assert f'width="{size[0]}"' in tag, (path, tag)
            assert f'height="{size[1]}"' in tag, (path, tag)
            found += 1
    # Every figure the tutorials draw, and the home page's.
    assert found == sum(map(_figures_drawn, sources(lang))) + 1


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
    assert sources(lang)
    for source in sources(lang):
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
    # The public modules are those that export a name of `linreg.__all__` (not the CLI),
    # and `linreg.distributed`, a namespace (as torch.distributed) rather than names.
    modules = sorted({*_home_modules().values(), linreg.distributed.__name__})
    pages = {p.parent.name for p in (site / lang / "reference").glob("*/index.html")}
    assert pages == {module.removeprefix("linreg.") for module in modules}
    index = _parse(site / lang / "reference" / "index.html")
    for module in modules:
        page = _reference_page(site, lang, module)
        assert module in _parse(page).ids, f"{page}: no anchor #{module}"
        assert f"{module.removeprefix('linreg.')}/" in index.links, f"the index omits {module}"


@pytest.mark.parametrize("name", linreg.__all__)
def test_every_public_name_is_documented_on_its_module_page(site: Path, name: str) -> None:
    module = _home_modules()[name]
    for lang in LANGUAGES:
        page = _reference_page(site, lang, module)
        assert f"{module}.{name}" in _parse(page).ids, f"{page}: no anchor #{module}.{name}"


# Text a reader does not see as prose: code, scripts, and the TeX source KaTeX keeps in
# its MathML for screen readers.
UNSHOWN = re.compile(r"<(pre|code|script|annotation)\b.*?</\1>", re.S)
RAW_MATH = ("\\(", "\\)", "\\[", "\\]", "$$")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_math_is_typeset_at_build_time(site: Path, lang: str) -> None:
    pages = sorted((site / lang).rglob("index.html"))
    with_math = [p for p in pages if 'class="arithmatex"' in p.read_text(encoding="utf-8")]
    assert len(with_math) >= 8
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "katex.min.js" not in text
        assert "auto-render" not in text
        typeset = 'class="arithmatex"' in text
        assert ("assets/katex/katex.min.css" in text) == typeset, page
        if typeset:
            assert 'class="katex"' in text
            assert 'class="katex-mathml"' in text
            formulas = re.findall(r'<(span|div) class="arithmatex">(.{0,40})', text)
            assert all(f.startswith('<span class="katex') for _, f in formulas), page
        assert "katex-error" not in text, page
        shown = html.unescape(re.sub(r"<[^>]+>", "", UNSHOWN.sub("", text)))
        assert [d for d in RAW_MATH if d in shown] == [], f"{page}: TeX left untypeset"
    assert not list((site / lang).rglob("katex.min.js"))
    assert (site / lang / "assets" / "katex" / "LICENSE").exists()
    css = (site / lang / "assets" / "katex" / "katex.min.css").read_text(encoding="utf-8")
    fonts = re.findall(r"url\(fonts/([^)]+)\)", css)
    assert fonts
    for font in fonts:
        assert (site / lang / "assets" / "katex" / "fonts" / font).exists(), font


def test_chinese_search_index_is_segmented(site: Path) -> None:
    index = json.loads((site / "zh" / "search" / "search_index.json").read_text(encoding="utf-8"))
    text = " ".join(doc["text"] for doc in index["docs"])
    # jieba cut the text at build time: words are separated by zero-width spaces.
    for word in ("损失函数", "学习率", "小批量"):
        assert re.search(rf"(^|[\s\u200b]){word}($|[\s\u200b])", text), word


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
    # The language links are absolute (search engines require it), from the same setting.
    assert f'<link rel="alternate" href="{base}en/" hreflang="en">' in page
    assert f'<link rel="alternate" href="{base}zh/" hreflang="zh">' in page
    assert "127.0.0.1" not in page


@pytest.mark.parametrize("lang", LANGUAGES)
def test_search_index_has_mathml_not_tex(site: Path, lang: str) -> None:
    index = json.loads((site / lang / "search" / "search_index.json").read_text("utf-8"))
    texts = [doc["text"] for doc in index["docs"]]
    outside_code = [math_render.CODE.sub("", text) for text in texts]
    assert not [t for t in outside_code if math_render.SEARCH_MATH.search(t)]
    assert sum(text.count("<math") for text in texts) >= 50


@pytest.mark.parametrize("lang", LANGUAGES)
def test_search_waits_for_the_reader(site: Path, lang: str) -> None:
    # The script that holds the index back must run before the theme's bundle.
    for page in (site / lang).rglob("index.html"):
        text = page.read_text(encoding="utf-8")
        on_demand = text.find("assets/js/search.js")
        bundle = text.find("assets/javascripts/bundle.")
        assert 0 <= on_demand < bundle, page


@pytest.mark.parametrize("lang", LANGUAGES)
def test_cut_fonts_keep_every_character_the_formulas_show(site: Path, lang: str) -> None:
    # KaTeX's fonts are cut to the characters of the formulas (math_render.subset_fonts):
    # typeset every formula of the built pages again, and check that each font still has
    # every character it had that a formula shows.
    from fontTools.ttLib import TTFont

    formulas = set()
    for page in (site / lang).rglob("index.html"):
        text = page.read_text(encoding="utf-8")
        for tag, tex in re.findall(
            r'<(span|div) class="arithmatex">.*?<annotation encoding="application/x-tex">(.*?)'
            r"</annotation>",
            text,
        ):
            formulas.add((html.unescape(tex), tag == "div"))
    assert len(formulas) >= 50
    katex = math_render.Katex()
    try:
        for tex, display in formulas:
            katex.render(tex, display=display)
    finally:
        katex.close()
    shown = {ord(c) for c in katex.characters}
    originals = ROOT / "docs" / "shared" / "assets" / "katex" / "fonts"
    for original in sorted(originals.glob("*.woff2")):
        whole = set(TTFont(original).getBestCmap())
        cut = set(TTFont(site / lang / "assets" / "katex" / "fonts" / original.name).getBestCmap())
        missing = sorted(chr(c) for c in (whole & shown) - cut)
        assert not missing, f"{original.name} lost {missing}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_katex_fonts_are_cut_from_the_originals(site: Path, lang: str) -> None:
    vendored = ROOT / "docs" / "shared" / "assets" / "katex" / "fonts"
    originals = {f"assets/katex/fonts/{p.name}": p.read_bytes() for p in vendored.glob("*.woff2")}
    fonts = site / lang / "assets" / "katex" / "fonts"
    built = {f"assets/katex/fonts/{p.name}": p.read_bytes() for p in fonts.glob("*.woff2")}
    assert set(built) == set(originals)
    assert all(len(built[name]) < len(originals[name]) for name in built)
