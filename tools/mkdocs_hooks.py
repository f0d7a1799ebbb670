"""MkDocs hooks shared by the English and the Chinese build.

- `on_config`: derive this language's `site_url` from the one setting `SITE_URL`
  (the address the whole site is served from), and record the torch and linreg
  versions that verified the pages.
- `on_files`: add the shared assets (KaTeX, CSS, JS) to the build, and replace
  every tutorial source `tutorials/NN-name.py` by its executed Markdown page, its
  figures and a downloadable `.ipynb`.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

sys.path.insert(0, str(Path(__file__).resolve().parent))
import notebooks  # a sibling module, found through the sys.path line above

DEFAULT_SITE_URL = "http://127.0.0.1:8000/"
DOWNLOAD = {"en": "Download this notebook (.ipynb)", "zh": "下载本教程的 Notebook（.ipynb）"}
# page path -> (source, future of its notebook, executed?, the build's Files)
_TUTORIALS: dict[str, tuple[Path, Any, bool, Files]] = {}


def _language(config: MkDocsConfig) -> str:
    return str(config.theme["language"]).split("_")[0].split("-")[0]


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Set `site_url` per language and the versions shown in the footer."""
    import torch

    import linreg

    base = os.environ.get("SITE_URL", DEFAULT_SITE_URL).rstrip("/")
    config.site_url = f"{base}/{_language(config)}/"
    config.extra["torch_version"] = torch.__version__.split("+")[0]
    config.extra["linreg_version"] = linreg.__version__
    return config


def on_page_markdown(markdown: str, page: Any, config: MkDocsConfig, files: Files) -> str:
    """Fill in `{{ torch_version }}` with the torch that builds (and verifies) the page."""
    return markdown.replace("{{ torch_version }}", config.extra["torch_version"])


def _lesson_figure(lang: str) -> bytes:
    """The home page's figure: the lesson's loss curve, trained now, labelled in `lang`."""
    import tempfile

    import matplotlib
    import torch

    import linreg

    os.environ["LINREG_LANG"] = lang  # this build's process only: picks the axis labels
    x, y = linreg.lesson_data()
    torch.manual_seed(0)
    model = linreg.LinearModel()
    optimizer = linreg.make_optimizer("SGD", model.parameters(), lr=0.01)
    history = linreg.train(model, x, y, linreg.make_criterion("sum"), optimizer, epochs=100)
    with matplotlib.rc_context(fname=str(notebooks.MATPLOTLIBRC)):
        figure = linreg.plot_loss(history, title="SGD, lr = 0.01")
        with tempfile.TemporaryDirectory() as folder:
            path = linreg.save_figure(figure, Path(folder) / "loss.png", dpi=120)
            return path.read_bytes()


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
    # The two language builds run side by side and share the executions (a lock per
    # notebook): English starts from the first tutorial, Chinese from the last.
    order = sources if lang == notebooks.SOURCE_LANGUAGE else sources[::-1]
    workers = int(os.environ.get("LINREG_NOTEBOOK_WORKERS", "2"))
    pool = ThreadPoolExecutor(max_workers=max(1, workers))
    _TUTORIALS.clear()
    for source in order:
        stem = f"tutorials/{source.stem}"
        original = files.get_file_from_path(f"{stem}.py")
        if original is not None:
            files.remove(original)
        future = (
            pool.submit(notebooks.executed, source, lang)
            if execute
            else pool.submit(notebooks.jupytext.read, source)
        )
        _TUTORIALS[f"{stem}.md"] = (source, future, execute, files)
        files.append(File.generated(config, f"{stem}.ipynb", content=notebooks.download(source)))
    pool.shutdown(wait=False)
    files.append(File.generated(config, "img/lesson-loss.png", content=_lesson_figure(lang)))
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
        future.result(), source.stem, executed=execute, download_label=DOWNLOAD[lang], lang=lang
    )
    for name, data in rendered.images.items():
        files.append(File.generated(config, f"tutorials/img/{name}", content=data))
    return rendered.markdown
