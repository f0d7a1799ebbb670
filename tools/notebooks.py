"""Tutorial notebooks: execute the jupytext sources and turn them into Markdown pages.

A tutorial is a percent-format Python file (`docs/<lang>/tutorials/NN-name.py`), so
diffs stay readable and no outputs are committed. At every site build each one is
run in a real Jupyter kernel; the outputs become an ordinary Markdown page that
MkDocs and Material render like any other page (code copy buttons, math, heading
ids, search, dark mode), with each figure saved as a PNG file with alt text,
re-encoded with a palette of 256 colours to weigh less than half as much (`compact_png`).

The two languages share their code cells (a test and this module enforce it), so a
tutorial is executed once, from its English source, with figures drawn in both
languages (`LINREG_FIGURE_TRANSLATIONS`); the Chinese page takes its prose and alt
texts from the Chinese source and its outputs from that execution.

The build fails loudly when a cell raises, when a cell writes to stderr (a
warning), when a figure has no alt text, or when a cell tagged as expecting an
error or a warning does not produce one. Results are cached under `.cache/`,
keyed on the notebook, every file of `linreg`, this file, the matplotlib style,
the torch version and the language: a changed `train()` means a re-run.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import jupytext
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CACHE = ROOT / ".cache" / "notebooks"
MATPLOTLIBRC = DOCS / "matplotlibrc"
LANGUAGES = ("en", "zh")
SOURCE_LANGUAGE = "en"  # the language whose source is executed

# Cell tags a tutorial may use.
RAISES = "raises-exception"  # the cell must raise; the error is shown (nbclient's own tag)
WARNS = "warns"  # the cell must write to stderr (a warning); it is shown
HIDE_INPUT = "hide-input"  # show the outputs only

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class NotebookError(RuntimeError):
    """A tutorial failed: the message names the file and the cell."""


@dataclass
class Page:
    """A tutorial rendered for MkDocs."""

    markdown: str
    images: dict[str, bytes] = field(default_factory=dict)  # file name -> PNG bytes


def read_source(path: Path) -> nbformat.NotebookNode:
    """A percent-format source as a notebook (no outputs)."""
    return cast(nbformat.NotebookNode, jupytext.read(path))


def sources(lang: str) -> list[Path]:
    """The tutorial sources of one language, in learning order."""
    return sorted((DOCS / lang / "tutorials").glob("[0-9][0-9]-*.py"))


def fingerprint(path: Path, lang: str) -> str:
    """A key that changes whenever the notebook's outputs could change."""
    import torch

    digest = hashlib.sha256()
    inputs = [path, Path(__file__), MATPLOTLIBRC, *sorted((ROOT / "linreg").rglob("*.py"))]
    for item in inputs:
        digest.update(item.name.encode())
        digest.update(item.read_bytes())
    digest.update(f"torch {torch.__version__} lang {lang}".encode())
    return digest.hexdigest()[:16]


def kernel_environment(lang: str) -> dict[str, str]:
    """The kernel's environment: our matplotlib style, the languages of the figures."""
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)  # "Agg" there would swallow the inline figures
    env["MATPLOTLIBRC"] = str(MATPLOTLIBRC)
    env["LINREG_LANG"] = lang
    env["LINREG_FIGURE_TRANSLATIONS"] = ",".join(x for x in LANGUAGES if x != lang)
    env["PYTHONHASHSEED"] = "0"
    return env


def run_notebook(path: Path, lang: str, timeout: int = 600) -> nbformat.NotebookNode:
    """Run a tutorial in a fresh kernel and check its outputs.

    Args:
        path: the percent-format source.
        lang: `'en'` or `'zh'`, passed to the kernel as `LINREG_LANG`.
        timeout: seconds allowed per cell.

    Returns:
        The executed notebook.

    Raises:
        NotebookError: if a cell fails or the outputs break a rule (see module docs).
    """
    notebook = read_source(path)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    try:
        client.execute(env=kernel_environment(lang))
    except CellExecutionError as err:
        raise NotebookError(f"{_relative(path)}: a cell failed:\n{_plain(str(err))}") from None
    check_outputs(notebook, path)
    return notebook


def check_outputs(notebook: nbformat.NotebookNode, path: Path) -> None:
    """Enforce the output rules on an executed notebook."""
    for number, cell in _code_cells(notebook):
        tags = set(cell.metadata.get("tags", []))
        where = f"{_relative(path)}, code cell {number}"
        stderr = "".join(
            o.get("text", "")
            for o in cell.outputs
            if o.output_type == "stream" and o.name == "stderr"
        )
        errors = [o for o in cell.outputs if o.output_type == "error"]
        if stderr and WARNS not in tags:
            head = "\n".join(stderr.splitlines()[:10])
            raise NotebookError(f"{where} wrote to stderr (tag it '{WARNS}' if meant):\n{head}")
        if WARNS in tags and not stderr:
            raise NotebookError(f"{where} is tagged '{WARNS}' but wrote nothing to stderr")
        if RAISES in tags and not errors:
            raise NotebookError(f"{where} is tagged '{RAISES}' but raised nothing")
        for output in cell.outputs:
            if "image/png" in output.get("data", {}) and not cell.metadata.get("alt"):
                raise NotebookError(f'{where} draws a figure but has no alt text (alt="...")')


def _code_cells(notebook: nbformat.NotebookNode) -> Iterator[tuple[int, Any]]:
    number = 0
    for cell in notebook.cells:
        if cell.cell_type == "code":
            number += 1
            yield number, cell


def to_markdown(
    notebook: nbformat.NotebookNode,
    stem: str,
    *,
    has_outputs: bool = True,
    download_label: str | None = None,
    lang: str = SOURCE_LANGUAGE,
) -> Page:
    """Render a notebook as Markdown for MkDocs.

    Args:
        notebook: the notebook, run (or, for a preview, not run).
        stem: the tutorial's file name without suffix; names its images.
        has_outputs: whether the notebook was run; a preview says outputs are missing.
        download_label: if given, a button with this text linking `<stem>.ipynb`
            follows the page's title.
        lang: the page's language; picks the figures drawn with its labels.

    Returns:
        The page text and the PNG files it refers to (relative to the page).
    """
    page = Page(markdown="")
    parts: list[str] = []
    for number, cell in enumerate(notebook.cells, 1):
        if cell.cell_type == "markdown":
            parts.append(cell.source)
            continue
        if cell.cell_type != "code":
            continue
        tags = set(cell.metadata.get("tags", []))
        if HIDE_INPUT not in tags and cell.source.strip():
            parts.append(f"```python\n{cell.source.rstrip()}\n```")
        # Warnings first: the kernel flushes stderr and stdout separately, and a
        # warning is nearly always raised before the cell's prints finish.
        outputs = sorted(_merge_streams(cell), key=lambda o: o.get("name") != "stderr")
        for index, output in enumerate(outputs):
            name = f"{stem}-{number}-{index}"
            parts.extend(_render_output(output, cell, name, page, lang))
    if download_label:
        button = f"[:material-download: {download_label}]({stem}.ipynb){{ .md-button download }}"
        title, _, rest = parts[0].partition("\n")
        parts[0] = f"{title}\n\n{button}\n{rest}"
    if not has_outputs:
        notice = '!!! warning "Preview"\n    Outputs are not shown: this page was not executed.'
        parts.insert(1, notice)
    page.markdown = "\n\n".join(parts) + "\n"
    return page


def _merge_streams(cell: Any) -> list[Any]:
    """Join the stdout (and the stderr) chunks of a cell: one block each, not one per flush."""
    merged: list[Any] = []
    streams: dict[str, Any] = {}
    for output in cell.get("outputs", []):
        if output.output_type != "stream":
            merged.append(output)
        elif output.name in streams:
            streams[output.name].text += output.text
        else:
            streams[output.name] = nbformat.from_dict(dict(output))
            merged.append(streams[output.name])
    return merged


def _render_output(output: Any, cell: Any, name: str, page: Page, lang: str) -> list[str]:
    kind = output.output_type
    if kind == "stream":
        if output.name == "stderr":
            return [_text_block(_warning_text(output.text), "nb-stderr")]
        return [_text_block(output.text, "nb-output")]
    if kind == "error":
        return [_text_block(f"{output.ename}: {_plain(output.evalue)}", "nb-error")]
    data = output.get("data", {})
    if "image/png" in data:
        file_name = f"{name}.png"
        image = data.get(f"image/x-linreg-{lang}+png", data["image/png"])
        page.images[file_name] = base64.b64decode(image)  # compacted when cached
        alt = cell.metadata["alt"].replace("]", "\\]")
        return [f"![{alt}](img/{file_name}){{ .nb-figure }}"]
    if "text/markdown" in data:
        return [data["text/markdown"]]
    if "text/plain" in data:
        return [_text_block(data["text/plain"], "nb-output")]
    return []


def compact_png(data: bytes) -> bytes:
    """A figure's PNG re-encoded with a palette of 256 colours, if that is smaller.

    matplotlib writes 8 bits per channel and an alpha channel even for an opaque
    figure. A chart holds a handful of colours plus the anti-aliased shades between
    them (about a thousand in all), so 256 well-chosen colours come within a few
    levels of every pixel: the palette is chosen by maximum coverage, then refined
    by k-means, without dithering (dither would speckle flat areas and compress
    worse). Median cut, by contrast, merges the colour of a thin curve into its
    neighbours' (errors of up to 63 levels), and octree makes the white background
    off-white. The same input gives the same bytes: no metadata is written but the
    resolution (`pHYs`) the input had.

    Args:
        data: a PNG file, e.g. a notebook's `image/png` output.

    Returns:
        The palette PNG; or `data` itself if the palette PNG is no smaller, or if it has
        any transparency (kept exactly as drawn; the site's figures are opaque white).
    """
    with Image.open(io.BytesIO(data)) as image:
        image.load()
    rgba = image.convert("RGBA")
    if rgba.getchannel("A").getextrema() != (255, 255):
        return data
    palette = rgba.convert("RGB").quantize(
        colors=256,
        method=Image.Quantize.MAXCOVERAGE,
        kmeans=1,  # iterate until at most one pixel changes its colour
        dither=Image.Dither.NONE,
    )
    buffer = io.BytesIO()
    options = {"dpi": image.info["dpi"]} if "dpi" in image.info else {}
    palette.save(buffer, format="PNG", optimize=True, **options)
    compact = buffer.getvalue()
    return compact if len(compact) < len(data) else data


_WARNING_LINE = re.compile(r"^\S.*?:\d+: (\w+: .*)$")


def _warning_text(text: str) -> str:
    """Drop the kernel's temporary file name and the echoed source line from warnings.

    `/tmp/ipykernel_123/456.py:3: UserWarning: message` becomes `UserWarning: message`.
    """
    lines = []
    skip_echo = False
    for line in _plain(text).splitlines():
        match = _WARNING_LINE.match(line)
        if match:
            lines.append(match.group(1))
            skip_echo = True
        elif skip_echo and line.startswith("  "):
            skip_echo = False
        else:
            lines.append(line)
            skip_echo = False
    return "\n".join(lines)


def _text_block(text: str, css: str) -> str:
    text = _plain(text).rstrip("\n")
    fence = "````" if "```" in text else "```"
    return f"{fence} {{ .text .{css} }}\n{text}\n{fence}"


def _plain(text: str) -> str:
    return _ANSI.sub("", text)


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def page_notebook(path: Path, lang: str) -> nbformat.NotebookNode:
    """The notebook the page of `path` shows: its cells, with the outputs of a run.

    The run is the English twin's (`cached_run`); for another language its outputs
    go with the cells of `path` (see `with_outputs`).
    """
    source = DOCS / SOURCE_LANGUAGE / path.relative_to(DOCS / lang)
    notebook = cached_run(source)
    return notebook if lang == SOURCE_LANGUAGE else with_outputs(notebook, path)


def with_outputs(notebook: nbformat.NotebookNode, path: Path) -> nbformat.NotebookNode:
    """The cells of `path` (another language) with the outputs of `notebook`, a run.

    Raises:
        NotebookError: if the two do not have the same cells and code.
    """
    twin = read_source(path)
    kinds = [(c.cell_type, c.source if c.cell_type == "code" else "") for c in twin.cells]
    expected = [(c.cell_type, c.source if c.cell_type == "code" else "") for c in notebook.cells]
    if kinds != expected:
        raise NotebookError(f"{_relative(path)}: its cells or code differ from the English twin")
    for cell, executed_cell in zip(twin.cells, notebook.cells, strict=True):
        if cell.cell_type == "code":
            cell.outputs = executed_cell.outputs
            cell.execution_count = executed_cell.execution_count
    check_outputs(twin, path)
    return twin


def cached_run(path: Path) -> nbformat.NotebookNode:
    """Run an English source (`run_notebook`), or read its run from the cache.

    A lock file lets the two language builds (separate processes) share the work:
    whoever comes second waits for the first, then reads the cache.
    """
    lang = SOURCE_LANGUAGE
    cached = CACHE / f"{path.stem}-{fingerprint(path, lang)}.ipynb"
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / f"{path.stem}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if cached.exists():
            return cast(nbformat.NotebookNode, nbformat.read(cached, as_version=4))
        return _run_into_cache(path, cached)


def _compact_figures(notebook: nbformat.NotebookNode) -> None:
    """Re-encode every PNG output (each language's) with `compact_png`, in place."""
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            for kind in [k for k in data if k == "image/png" or k.endswith("+png")]:
                png = compact_png(base64.b64decode(data[kind]))
                data[kind] = base64.b64encode(png).decode("ascii")


def _run_into_cache(path: Path, cached: Path) -> nbformat.NotebookNode:
    notebook = run_notebook(path, SOURCE_LANGUAGE)
    _compact_figures(notebook)  # once per run, not at every build (k-means is slow)
    cached.parent.mkdir(parents=True, exist_ok=True)
    for stale in cached.parent.glob(f"{path.stem}-*.ipynb"):
        stale.unlink(missing_ok=True)  # another build may be cleaning up too
    temporary = cached.with_name(f".{cached.name}.{os.getpid()}.tmp")
    nbformat.write(notebook, temporary)
    temporary.replace(cached)
    return notebook


def download(path: Path) -> str:
    """The notebook a learner downloads: the same cells, no outputs, a Python kernel."""
    notebook = read_source(path)
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    notebook.metadata.pop("jupytext", None)
    return str(jupytext.writes(notebook, fmt="ipynb"))
