"""Tutorial notebooks: execute the jupytext sources and turn them into Markdown pages.

A tutorial is a percent-format Python file (`docs/<lang>/tutorials/NN-name.py`), so
diffs stay readable and no outputs are committed. At every site build each one is
run in a real Jupyter kernel; the outputs become an ordinary Markdown page that
MkDocs and Material render like any other page (code copy buttons, math, heading
ids, search, dark mode), with each figure saved as a PNG file with alt text,
re-encoded with a palette of 256 colours to weigh less than half as much (`compact_png`).

Each language's source is run on its own: the Chinese page shows what its own code
printed and drew, with Chinese comments, labels and figures. The two sources must
be one program that prints the same numbers (tools/twins.py): `page_notebook`
checks both before a page is made, and fails the build naming the cell.

The build fails loudly when a cell raises, when a cell writes to stderr (a
warning), when a cell prints nan or inf (a number shown as a result checks nothing),
when a figure has no alt text, or when a cell tagged as expecting an
error or a warning does not produce one. Results are cached under `.cache/`,
keyed on the notebook, every file of `linreg`, this file, the matplotlib style
and the torch version: a changed `train()` means a re-run.

The functions, in the order a build uses them: `sources` (a language's tutorials),
`page_notebook` (what a page shows, its twin checked), `cached_run` (a run, from the
cache or `run_notebook`: a fresh kernel, then `check_outputs`), `to_markdown` (the
page and its figures) and `download` (the .ipynb a learner gets).
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

from tools import twins

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CACHE = ROOT / ".cache" / "notebooks"
MATPLOTLIBRC = DOCS / "matplotlibrc"
LANGUAGES = ("en", "zh")

# Cell tags a tutorial may use.
RAISES = "raises-exception"  # the cell must raise; the error is shown (nbclient's own tag)
WARNS = "warns"  # the cell must write to stderr (a warning); it is shown
HIDE_INPUT = "hide-input"  # show the outputs only
VARIES = twins.VARIES  # the cell prints timings: its numbers differ between runs
SOLUTION = "solution"  # an exercise's worked solution: folded away (markdown or code cells)

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# A number a page prints as a result or a check is finite: nan or inf there checks nothing
# (an error a cell is meant to raise is an error output, not printed text).
NON_FINITE = re.compile(r"(?<![\w.])[-+]?(?:nan|inf|infinity)(?![\w(])", re.IGNORECASE)


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


def fingerprint(path: Path) -> str:
    """A key that changes whenever the notebook's outputs could change."""
    import torch

    digest = hashlib.sha256()
    inputs = [path, Path(__file__), MATPLOTLIBRC, *sorted((ROOT / "linreg").rglob("*.py"))]
    for item in inputs:
        digest.update(item.name.encode())
        digest.update(item.read_bytes())
    digest.update(f"torch {torch.__version__}".encode())
    return digest.hexdigest()[:16]


def kernel_environment() -> dict[str, str]:
    """The kernel's environment: our matplotlib style, this tree's `linreg`."""
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)  # "Agg" there would swallow the inline figures
    env["MATPLOTLIBRC"] = str(MATPLOTLIBRC)
    # The kernel starts in the tutorial's folder: `linreg` must come from this tree
    # (a scratch copy's too), not from wherever the venv's editable install points.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PYTHONHASHSEED"] = "0"
    return env


def run_notebook(path: Path, timeout: int = 600) -> nbformat.NotebookNode:
    """Run a tutorial in a fresh kernel and check its outputs.

    Args:
        path: the percent-format source.
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
        client.execute(env=kernel_environment())
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
        stdout = "".join(
            o.get("text", "")
            for o in cell.outputs
            if o.output_type == "stream" and o.name == "stdout"
        )
        if match := NON_FINITE.search(stdout):
            line = next(x for x in stdout.splitlines() if NON_FINITE.search(x))
            raise NotebookError(
                f"{where} printed {match.group(0)!r}, which checks nothing: {line.strip()!r}"
            )
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
    solution_label: str = "Solution",
) -> Page:
    """Render a notebook as Markdown for MkDocs.

    Args:
        notebook: the notebook, run (or, for a preview, not run).
        stem: the tutorial's file name without suffix; names its images.
        has_outputs: whether the notebook was run; a preview says outputs are missing.
        download_label: if given, a button with this text linking `<stem>.ipynb`
            follows the page's title.
        solution_label: the title of a folded solution. Consecutive cells tagged
            `solution` (markdown or code, with their outputs) become one collapsible
            admonition, closed until the reader opens it.

    Returns:
        The page text and the PNG files it refers to (relative to the page).
    """
    page = Page(markdown="")
    parts: list[str] = []
    solution: list[str] | None = None  # the parts of the solution being folded, if any
    for number, cell in enumerate(notebook.cells, 1):
        if cell.cell_type not in ("markdown", "code"):
            continue
        tags = set(cell.metadata.get("tags", []))
        if SOLUTION in tags and solution is None:
            solution = []
        elif SOLUTION not in tags and solution is not None:
            parts.append(_folded(solution_label, solution))
            solution = None
        target = parts if solution is None else solution
        if cell.cell_type == "markdown":
            target.append(cell.source)
            continue
        if HIDE_INPUT not in tags and cell.source.strip():
            target.append(f"```python\n{cell.source.rstrip()}\n```")
        for index, output in enumerate(_shown_outputs(cell)):
            name = f"{stem}-{number}-{index}"
            target.extend(_render_output(output, cell, name, page))
    if solution is not None:
        parts.append(_folded(solution_label, solution))
    if download_label:
        button = f"[:material-download: {download_label}]({stem}.ipynb){{ .md-button download }}"
        title, _, rest = parts[0].partition("\n")
        parts[0] = f"{title}\n\n{button}\n{rest}"
    if not has_outputs:
        notice = '!!! warning "Preview"\n    Outputs are not shown: this page was not executed.'
        parts.insert(1, notice)
    page.markdown = "\n\n".join(parts) + "\n"
    return page


def _folded(title: str, parts: list[str]) -> str:
    """Markdown parts inside a collapsible admonition (pymdownx.details), closed."""
    body = "\n\n".join(parts)
    indented = "\n".join(f"    {line}" if line.strip() else "" for line in body.splitlines())
    return f'??? success "{title}"\n\n{indented}'


def _shown_outputs(cell: Any) -> list[Any]:
    """A cell's outputs as its page shows them: streams merged, warnings first.

    The kernel flushes stderr and stdout separately, and may deliver their chunks in
    either order; a warning is nearly always raised before the cell's prints finish.
    """
    return sorted(_merge_streams(cell), key=lambda o: o.get("name") != "stderr")


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


def _render_output(output: Any, cell: Any, name: str, page: Page) -> list[str]:
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
        png = page.images[file_name] = base64.b64decode(data["image/png"])  # compacted when cached
        alt = cell.metadata["alt"].replace("]", "\\]")
        # Its size in the page before it loads: the text below does not jump (no layout
        # shift). Loaded lazily: the browser fetches a figure as the reader nears it, so a
        # page of many figures costs a first visit only those near the top.
        width, height = Image.open(io.BytesIO(png)).size
        size = f'width="{width}" height="{height}"'
        return [f'![{alt}](img/{file_name}){{ .nb-figure {size} loading="lazy" }}']
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


def twin(path: Path) -> Path:
    """The same tutorial in the other language."""
    lang = path.parent.parent.name
    other = next(x for x in LANGUAGES if x != lang)
    return DOCS / other / path.relative_to(DOCS / lang)


def page_notebook(path: Path) -> nbformat.NotebookNode:
    """The run of `path` that its page shows, once its twin is checked against it.

    Both languages run (or come from the cache); then the two must be one program
    that printed the same numbers (tools/twins.py).

    Raises:
        NotebookError: if a run fails, or the twins differ (naming the cell).
    """
    other = twin(path)
    if not other.exists():
        raise NotebookError(f"{_relative(path)} has no twin: write {_relative(other)}")
    try:  # the code first: a pair that is not one program fails before any run
        twins.check_same_program(*(_code(read_source(p)) for p in (path, other)))
        run, other_run = cached_run(path), cached_run(other)
        varies = [VARIES in cell.metadata.get("tags", []) for _, cell in _code_cells(run)]
        twins.check_same_numbers(_printed(run), _printed(other_run), varies)
    except twins.TwinError as err:
        raise NotebookError(f"{_relative(path)} and {_relative(other)}: {err}") from None
    return run


def _code(notebook: nbformat.NotebookNode) -> list[str]:
    return [str(cell.source) for _, cell in _code_cells(notebook)]


def _printed(notebook: nbformat.NotebookNode) -> list[str]:
    """What each code cell printed: its text outputs, warnings and errors."""
    texts = []
    for _, cell in _code_cells(notebook):
        parts = []
        for output in _shown_outputs(cell):  # as the page shows them
            if output.output_type == "stream":
                text = output.text if output.name == "stdout" else _warning_text(output.text)
                parts.append(_plain(text))
            elif output.output_type == "error":
                parts.append(f"{output.ename}: {_plain(output.evalue)}")
            else:
                parts.append(str(output.get("data", {}).get("text/plain", "")))
        texts.append("\n".join(parts))
    return texts


def cached_run(path: Path) -> nbformat.NotebookNode:
    """Run a source (`run_notebook`), or read its run from the cache.

    A lock file lets the two language builds (separate processes) share the work:
    whoever comes second waits for the first, then reads the cache.
    """
    name = f"{path.parent.parent.name}-{path.stem}"
    cached = CACHE / f"{name}-{fingerprint(path)}.ipynb"
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if cached.exists():
            return cast(nbformat.NotebookNode, nbformat.read(cached, as_version=4))
        return _run_into_cache(path, cached, name)


def _compact_figures(notebook: nbformat.NotebookNode) -> None:
    """Re-encode every PNG output with `compact_png`, in place."""
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/png" in data:
                png = compact_png(base64.b64decode(data["image/png"]))
                data["image/png"] = base64.b64encode(png).decode("ascii")


def _run_into_cache(path: Path, cached: Path, name: str) -> nbformat.NotebookNode:
    notebook = run_notebook(path)
    _compact_figures(notebook)  # once per run, not at every build (k-means is slow)
    cached.parent.mkdir(parents=True, exist_ok=True)
    for stale in cached.parent.glob(f"{name}-*.ipynb"):
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
