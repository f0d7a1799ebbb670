"""MkDocs hooks shared by the English and the Chinese build (`hooks:` in mkdocs.yml).

MkDocs loads this file by its path, not as `tools.mkdocs_hooks`; the `tools` package
it imports is on `sys.path` through the project's editable install.

- `on_config`: derive this language's `site_url` and the absolute addresses of the
  languages (`extra.alternate`) from the one setting `SITE_URL` (the address the whole
  site is served from), title the headings' ¶ links in the language, and record the
  torch versions (the one that verified the pages, the oldest the package admits) and
  linreg's.
- `on_page_markdown`: fill in `{{ torch_version }}` and `{{ torch_floor }}` where pages
  name them.
- `on_files`: add the shared assets (KaTeX's stylesheet and fonts, CSS, the explorer's
  script) and the explorer's data (tools/explorer.py) to the build, and replace every
  tutorial source `tutorials/NN-name.py` by its Markdown page (its notebook starts
  running in the background), its figures and a downloadable `.ipynb`.
- `on_page_read_source`: a tutorial's Markdown, once its notebook has run.
- `on_page_content`: fail the build on a table cell showing nan or inf.
- `on_post_page`: mend Material's navigation markup (an empty `tabindex`, nameless
  section `<nav>`s), make every code block focusable until the theme sets it up,
  typeset the page's math with KaTeX (tools/math_render.py) and link KaTeX's
  stylesheet from the pages that have math, and only from those.
- `on_post_build`: put MathML for the TeX in the search index (the results show it),
  and cut KaTeX's fonts to the characters of the formulas.
- `on_shutdown`: stop the KaTeX process.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from mkdocs.utils import get_relative_url

from tools import explorer, math_render, notebooks

log = logging.getLogger("mkdocs.hooks.linreg")
DEFAULT_SITE_URL = "http://127.0.0.1:8000/"
DOWNLOAD = {"en": "Download this notebook (.ipynb)", "zh": "下载本教程的 Notebook（.ipynb）"}
SOLUTION = {"en": "Solution", "zh": "参考答案"}
PERMALINK = {"en": "Permanent link", "zh": "永久链接"}  # the title of each heading's ¶
# page path -> (source, future of its notebook, executed?, the build's Files)
_TUTORIALS: dict[str, tuple[Path, Any, bool, Files]] = {}
_KATEX: list[math_render.Katex] = []  # this build's KaTeX process, started on first use
KATEX_CSS = "assets/katex/katex.min.css"
EXTRA_CSS = "assets/css/extra.css"


def _language(config: MkDocsConfig) -> str:
    return str(config.theme["language"]).split("_")[0].split("-")[0]


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Set `site_url` per language, the languages' addresses and the footer's versions.

    Material writes each language's address into every page's head as
    `<link rel="alternate" hreflang>`, which search engines (and Lighthouse) require
    absolute. Its language selector reads those links as the languages' roots (it
    fetches `sitemap.xml` next to each), so they stay the roots: the selector then
    keeps the reader on the same page.
    """
    import torch

    import linreg

    base = os.environ.get("SITE_URL", DEFAULT_SITE_URL).rstrip("/")
    config.site_url = f"{base}/{_language(config)}/"
    for alternate in config.extra["alternate"]:
        alternate["link"] = f"{base}/{alternate['lang']}/"
    config.mdx_configs.setdefault("toc", {})["permalink_title"] = PERMALINK[_language(config)]
    config.extra["torch_version"] = torch.__version__.split("+")[0]
    config.extra["linreg_version"] = linreg.__version__
    # The oldest torch the package admits, as pyproject.toml declares it (`torch>=2.3`).
    requirements = importlib.metadata.requires("torch-linreg") or []
    floors = [m.group(1) for r in requirements if (m := re.match(r"torch\s*>=\s*([\d.]+)", r))]
    if len(floors) != 1:
        raise PluginError(f"no single torch>=X among the requirements {requirements}")
    config.extra["torch_floor"] = floors[0]
    return config


def on_page_markdown(markdown: str, page: Any, config: MkDocsConfig, files: Files) -> str:
    """Fill in the torch versions the pages name.

    `{{ torch_version }}` is the torch that builds (and verifies) the page,
    `{{ torch_floor }}` the oldest torch the package admits.
    """
    for name in ("torch_version", "torch_floor"):
        markdown = markdown.replace(f"{{{{ {name} }}}}", config.extra[name])
    return markdown


_TABLE_CELL = re.compile(r"<td[^>]*>(.*?)</td>", re.S)
_TAG = re.compile(r"<[^>]+>")
_WORD = re.compile(r"[^\W\d_]")  # a letter, of any script


def on_page_content(html: str, page: Any, config: MkDocsConfig, files: Files) -> str:
    """Fail the build on a table cell whose number is nan or inf.

    The tables of the annotation pages are printed by code at build (markdown-exec):
    a cell there is a result or a check, and nan or inf would check nothing. (A
    tutorial's printed numbers obey the same rule in `notebooks.check_outputs`.)
    """
    for cell in _TABLE_CELL.findall(html):
        text = _TAG.sub("", cell)
        # A cell of numbers (not prose that names NaN, as a docstring's "Raises" may).
        rest = notebooks.NON_FINITE.sub("", text)
        if rest != text and not _WORD.search(rest):
            raise PluginError(
                f"{page.file.src_uri}: a table shows {text.strip()!r}: a number a page "
                "presents as a result or a check must be finite"
            )
    return html


def _lesson_figure(lang: str) -> bytes:
    """The home page's figure: the lesson's loss curve, trained now, labelled in `lang`."""
    import tempfile

    import matplotlib
    import torch

    import linreg

    x, y = linreg.lesson_data()
    torch.manual_seed(0)
    model = linreg.LinearModel()
    optimizer = linreg.make_optimizer("SGD", model.parameters(), lr=0.01)
    history = linreg.train(model, x, y, linreg.make_criterion("sum"), optimizer, epochs=100)
    with matplotlib.rc_context(fname=str(notebooks.MATPLOTLIBRC)):
        labels: Literal["en", "zh"] = "zh" if lang == "zh" else "en"
        figure = linreg.plot_loss(history, title="SGD, lr = 0.01", lang=labels)
        with tempfile.TemporaryDirectory() as folder:
            path = linreg.save_figure(figure, Path(folder) / "loss.png", dpi=120)
            return notebooks.compact_png(path.read_bytes())


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add shared assets and the executed tutorials."""
    shared = notebooks.DOCS / "shared"
    for path in sorted(p for p in shared.rglob("*") if p.is_file()):
        files.append(
            File(
                path.relative_to(shared).as_posix(),
                src_dir=str(shared),
                dest_dir=config.site_dir,
                use_directory_urls=config.use_directory_urls,
            )
        )

    lang = _language(config)
    execute = os.environ.get("LINREG_EXECUTE", "1") != "0"
    sources = notebooks.sources(lang)
    # The two language builds run side by side; each page needs both languages' runs,
    # which the builds share (a lock per notebook): English starts from the first
    # tutorial, Chinese from the last, so each build runs about half of them.
    order = sources if lang == "en" else sources[::-1]
    workers = int(os.environ.get("LINREG_NOTEBOOK_WORKERS", "2"))
    pool = ThreadPoolExecutor(max_workers=max(1, workers))
    _TUTORIALS.clear()
    for source in order:
        stem = f"tutorials/{source.stem}"
        original = files.get_file_from_path(f"{stem}.py")
        if original is not None:
            files.remove(original)
        future = (
            pool.submit(notebooks.page_notebook, source)
            if execute
            else pool.submit(notebooks.read_source, source)
        )
        _TUTORIALS[f"{stem}.md"] = (source, future, execute, files)
        files.append(File.generated(config, f"{stem}.ipynb", content=notebooks.download(source)))
    pool.shutdown(wait=False)
    files.append(File.generated(config, "img/lesson-loss.png", content=_lesson_figure(lang)))
    # The loss-surface explorer's runs (tutorial 4), trained now or read from the cache.
    files.append(File.generated(config, explorer.DATA, content=explorer.data_json()))
    # Tutorial pages come last, so the other pages are rendered while the notebooks run.
    for source in sources:
        files.append(File.generated(config, f"tutorials/{source.stem}.md", content=""))
    return files


def on_page_read_source(page: Any, config: MkDocsConfig) -> str | None:
    """A tutorial's Markdown, once its notebook has run; None for every other page."""
    entry = _TUTORIALS.get(page.file.src_uri)
    if entry is None:
        return None
    source, future, execute, files = entry
    lang = _language(config)
    rendered = notebooks.to_markdown(
        future.result(),
        source.stem,
        has_outputs=execute,
        download_label=DOWNLOAD[lang],
        solution_label=SOLUTION[lang],
    )
    for name, data in rendered.images.items():
        files.append(File.generated(config, f"tutorials/img/{name}", content=data))
    return rendered.markdown


# Material's partials/nav-item.html writes `tabindex=""` on the labels of sections
# (invalid HTML; browsers read it as no tabindex), and names each section's <nav> by
# the label that opens it, which holds only an icon when the section has an index page
# (navigation.indexes): every section's <nav> was nameless (axe: landmark-unique). The
# section's title, the first label inside that <nav>, names it instead.
_SECTION_TITLE = re.compile(r'<label class="md-nav__title" for="(__nav_[0-9_]+)"')
_SECTION_NAME = re.compile(r'aria-labelledby="(__nav_[0-9_]+)_label"')


def _fix_navigation(html: str) -> str:
    html = html.replace(' tabindex=""', "")
    html = _SECTION_TITLE.sub(r'\g<0> id="\1_title"', html)
    return _SECTION_NAME.sub(r'aria-labelledby="\1_title"', html)


# Material sets each code block up when it first comes into view (`content.lazy` in
# mkdocs.yml): a block that overflows then gets tabindex="0" (with a mouse) so the keyboard
# can scroll it; one not yet seen would have none (axe: scrollable-region-focusable).
# Every block starts focusable; the theme removes it from those that do not overflow.
_CODE_BLOCK = re.compile(r"(<pre[^>]*>(?:<span></span>)?)<code>")


def on_post_page(output: str, page: Any, config: MkDocsConfig) -> str:
    """Mend Material's navigation and code blocks; typeset the math (then link KaTeX's CSS)."""
    output = _CODE_BLOCK.sub(r'\1<code tabindex="0">', _fix_navigation(output))
    if 'class="arithmatex"' not in output:
        return output
    if not _KATEX:
        _KATEX.append(math_render.Katex())
    try:
        output, count = _KATEX[0].typeset(output)
    except math_render.MathError as err:
        raise PluginError(f"{page.file.src_uri}: {err}") from None
    if count:  # before extra.css, so that our own rules come last
        link = f'<link rel="stylesheet" href="{get_relative_url(KATEX_CSS, page.url)}">'
        before = f'<link rel="stylesheet" href="{get_relative_url(EXTRA_CSS, page.url)}">'
        if before not in output:
            raise PluginError(f"{page.file.src_uri}: no link to {EXTRA_CSS} to put KaTeX's before")
        output = output.replace(before, f"{link}\n    {before}", 1)
    return output


def _search_index_math(site: Path) -> None:
    """Give the search results MathML instead of TeX (tools/math_render.py)."""
    path = site / "search" / "search_index.json"
    if not path.exists():
        raise PluginError(f"no {path}: the search plugin must write it before this hook")
    index = json.loads(path.read_text(encoding="utf-8"))
    for doc in index["docs"]:
        doc["text"] = _KATEX[0].typeset_search_text(doc["text"])
    path.write_text(json.dumps(index, separators=(",", ":")), encoding="utf-8")


def on_post_build(config: MkDocsConfig) -> None:
    """MathML in the search results; KaTeX's fonts cut to what the formulas show."""
    if _KATEX:
        _search_index_math(Path(config.site_dir))
        fonts = math_render.subset_fonts(
            Path(config.site_dir) / "assets" / "katex" / "fonts", _KATEX[0].characters
        )
        before = sum(b for b, _ in fonts.values())
        after = sum(a for _, a in fonts.values())
        log.info(
            f"KaTeX fonts cut to the formulas' text: {before / 1024:.0f} -> {after / 1024:.0f} KB"
        )


def on_shutdown() -> None:
    """Stop the KaTeX process."""
    while _KATEX:
        _KATEX.pop().close()
