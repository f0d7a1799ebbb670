"""Plots: a loss curve, an optimizer comparison, the data with the fitted line.

Every function returns a `matplotlib.figure.Figure` built without pyplot, so it
shows once in a notebook (as the cell's value) and never touches pyplot's global
state. matplotlib is imported by this module only, which `import linreg` loads on
first use of a plot function, so `import linreg` stays cheap.

Every word on a figure comes from the arguments: titles and labels can be passed
explicitly, and `lang` picks the language of the default labels, English (`"en"`)
or Chinese (`"zh"`; a CJK font such as Noto Sans CJK SC must then be installed):

    linreg.plot_loss(history, title="SGD，lr = 0.01", lang="zh")  # 轮（epoch） / 损失
"""

from __future__ import annotations

import io
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import matplotlib
import torch
from matplotlib.figure import Figure
from torch import nn

from linreg.checks import LinregError, check_data
from linreg.train import History

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_comparison", "plot_fit", "plot_loss", "save_figure"]

Language = Literal["en", "zh"]

# The default labels in each language `lang` can pick.
LABELS: dict[str, dict[str, str]] = {
    "en": {
        "epoch": "epoch",
        "update": "update (step)",
        "loss": "loss",
        "data": "data",
        "fit": "fitted line",
    },
    "zh": {
        "epoch": "轮（epoch）",
        "update": "更新次数（step）",
        "loss": "损失",
        "data": "数据",
        "fit": "拟合直线",
    },
}


def default_labels(lang: str) -> dict[str, str]:
    """The default labels in `lang` (`"en"` or `"zh"`).

    Raises:
        LinregError: for another language.
    """
    if lang not in LABELS:
        raise LinregError(f"unknown lang={lang!r}: choose 'en' or 'zh'")
    return LABELS[lang]


# Metadata that would differ between runs (dates) or versions is left out, so the
# same figure always gives the same bytes.
_METADATA: dict[str, dict[str, str | None]] = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None},
}


class _Figure(Figure):
    """A Figure that Jupyter shows as a PNG even when pyplot was never imported."""

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        _reset_layout(self)
        self.savefig(buffer, format="png", metadata=_METADATA["png"])
        return buffer.getvalue()


def _new_figure(width: float = 6.0, height: float = 4.0) -> Figure:
    return _Figure(figsize=(width, height), layout="constrained")


def _reset_layout(fig: Figure) -> None:
    """Put every axes back at its grid position before drawing.

    Constrained layout starts from the axes' current positions, so each draw would
    move them by a rounding error and a second save would not be byte-identical.
    """
    for ax in fig.axes:
        spec = ax.get_subplotspec()
        if spec is not None:
            ax.set_position(spec.get_position(fig))
            ax.set_in_layout(True)


def _losses(run: History | Sequence[float], per: str = "epoch") -> list[float]:
    if per not in ("epoch", "update"):
        raise LinregError(f"unknown per={per!r}: choose 'epoch' or 'update'")
    if not isinstance(run, History):
        return list(run)
    return list(run.losses if per == "epoch" else run.step_losses)


def _draw_curve(
    ax: Axes,
    losses: list[float],
    log: bool,
    label: str | None = None,
    index: int = 0,
    xlog: bool = False,
    positions: Sequence[float] | None = None,
) -> None:
    # A log x-axis cannot show 0: then the i-th value is drawn at i + 1 (after i + 1 steps).
    if positions is None:
        positions = range(1, len(losses) + 1) if xlog else range(len(losses))
    if xlog:
        ax.set_xscale("log")
    if log and not any(value > 0 for value in losses):
        log = False  # a log axis cannot show a curve that is zero everywhere
    # Ten colours, then the same colours dashed, so twelve optimizers stay distinguishable.
    color, linestyle = f"C{index % 10}", "-" if index < 10 else "--"
    values = [max(v, 1e-300) if log else v for v in losses]
    ax.plot(positions, values, label=label, linewidth=1.8, color=color, linestyle=linestyle)
    if log:
        ax.set_yscale("log")
    ax.grid(True, alpha=0.3)


def plot_loss(
    run: History | Sequence[float],
    *,
    title: str | None = None,
    log: bool = False,
    per: Literal["epoch", "update"] = "epoch",
    xlog: bool = False,
    xlabel: str | None = None,
    ylabel: str | None = None,
    lang: Language = "en",
) -> Figure:
    """Plot the loss against the epoch, as the lesson does.

    Args:
        run: a `History`, or a list of losses.
        title: the title, e.g. the optimizer's name.
        log: use a logarithmic loss axis.
        per: `'epoch'` plots `History.losses`; `'update'` plots `History.step_losses`,
            one point per optimizer step (they differ with minibatches).
        xlog: a logarithmic x-axis (the i-th value is drawn at i + 1), so that runs of
            very different lengths can be read on one plot.
        xlabel: the x-axis label; "epoch" (or "update") by default.
        ylabel: the y-axis label; "loss" by default.
        lang: the language of the default labels: `"en"`, or `"zh"` for 轮（epoch）
            (更新次数（step）) and 损失.

    Returns:
        The figure.

    Raises:
        LinregError: if there are no losses to plot, or for an unknown `lang`.
    """
    labels = default_labels(lang)
    losses = _losses(run, per)
    if not losses:
        raise LinregError("there are no losses to plot: train for at least one epoch")
    fig = _new_figure()
    ax = fig.add_subplot()
    _draw_curve(ax, losses, log, xlog=xlog)
    ax.set(xlabel=xlabel or labels[per], ylabel=ylabel or labels["loss"])
    if title:
        ax.set_title(title)
    return fig


def plot_comparison(
    runs: Mapping[str, History | Sequence[float]],
    *,
    kind: Literal["grid", "overlay"] = "grid",
    log: bool | None = None,
    per: Literal["epoch", "update"] = "epoch",
    x_values: Mapping[str, Sequence[float]] | None = None,
    xlog: bool = False,
    xlabel: str | None = None,
    ylabel: str | None = None,
    columns: int = 4,
    lang: Language = "en",
) -> Figure:
    """Plot the loss curves of several optimizers.

    Args:
        runs: optimizer name -> `History` (or list of losses), e.g. from `compare`.
        kind: `'grid'` draws one small plot per optimizer, each with its own scale;
            `'overlay'` draws all curves on one plot.
        log: logarithmic loss axis; by default on for `'overlay'` (the curves span
            many orders of magnitude) and off for `'grid'`.
        per: `'epoch'` or `'update'`, as in `plot_loss`.
        x_values: where each loss goes on the x-axis, by run name: one number per
            loss, e.g. the count of loss evaluations at which it was measured (LBFGS
            evaluates the loss several times per epoch). By default the losses are
            drawn at 0, 1, 2, ... (epochs or updates). Needs `xlabel`.
        xlog: a logarithmic x-axis, as in `plot_loss`; `x_values` must then be > 0.
        xlabel: the x-axis label; "epoch" (or "update") by default.
        ylabel: the y-axis label; "loss" by default.
        columns: plots per row in the grid.
        lang: the language of the default labels, as in `plot_loss`.

    Returns:
        The figure.

    Raises:
        LinregError: for an empty mapping, a run without losses, an unknown `kind`
            or an unknown `lang`; or `x_values` without `xlabel`, without a run, with
            a count that differs from the run's losses, or not > 0 with `xlog`.
    """
    labels = default_labels(lang)
    if kind not in ("grid", "overlay"):
        raise LinregError(f"unknown kind {kind!r}: choose 'grid' or 'overlay'")
    if not runs:
        raise LinregError("there are no runs to compare: give at least one optimizer")
    curves = {name: _losses(run, per) for name, run in runs.items()}
    for name, losses in curves.items():
        if not losses:
            raise LinregError(f"the run {name!r} has no losses: train for at least one epoch")
    positions = _positions(curves, x_values, xlabel, xlog)
    if log is None:
        log = kind == "overlay"
    xlabel = xlabel or labels[per]
    ylabel = ylabel or labels["loss"]
    if kind == "overlay":
        fig = _new_figure(7.5, 4.5)
        ax = fig.add_subplot()
        for index, (name, losses) in enumerate(curves.items()):
            _draw_curve(ax, losses, log, name, index, xlog, positions.get(name))
        ax.set(xlabel=xlabel, ylabel=ylabel)
        fig.legend(loc="outside right upper", fontsize="small")
        return fig
    columns = max(1, min(columns, len(curves)))
    rows = math.ceil(len(curves) / columns)
    fig = _new_figure(2.4 * columns, 1.9 * rows)  # small plots: larger text once scaled down
    axes = fig.subplots(rows, columns, squeeze=False).flatten()
    for ax, (name, losses) in zip(axes, curves.items(), strict=False):
        _draw_curve(ax, losses, log, xlog=xlog, positions=positions.get(name))
        ax.set_title(name)
        ax.set(xlabel=xlabel, ylabel=ylabel)
    for ax in axes[len(curves) :]:
        ax.set_visible(False)
    return fig


def _positions(
    curves: Mapping[str, list[float]],
    x_values: Mapping[str, Sequence[float]] | None,
    xlabel: str | None,
    xlog: bool,
) -> dict[str, list[float]]:
    """Check `x_values` against the curves; return them as lists (empty: default positions)."""
    if x_values is None:
        return {}
    if not xlabel:
        raise LinregError("x_values need an xlabel that says what they count")
    positions = {}
    for name, losses in curves.items():
        if name not in x_values:
            raise LinregError(f"x_values has no entry for the run {name!r}")
        values = [float(value) for value in x_values[name]]
        if len(values) != len(losses):
            raise LinregError(
                f"x_values[{name!r}] has {len(values)} value(s) for {len(losses)} loss(es)"
            )
        if xlog and not all(value > 0 for value in values):
            raise LinregError(f"x_values[{name!r}] must be > 0 on a log x-axis (xlog=True)")
        positions[name] = values
    return positions


def plot_fit(
    x: torch.Tensor,
    y: torch.Tensor,
    model: nn.Module,
    *,
    xlabel: str = "x",
    ylabel: str = "y",
    title: str | None = None,
    lang: Language = "en",
) -> Figure:
    """Plot the data points and the model's line through them.

    Args:
        x: inputs of shape `(N, 1)`: one feature, so the line can be drawn.
        y: targets of shape `(N, 1)`.
        model: a trained model with one input and one output.
        xlabel: the x-axis label.
        ylabel: the y-axis label.
        title: the title.
        lang: the language of the legend: `"en"`, or `"zh"` for 数据 and 拟合直线.

    Returns:
        The figure.

    Raises:
        LinregError: if the data fails `check_data` or has more than one feature
            or target, or for an unknown `lang`.
    """
    labels = default_labels(lang)
    x, y = check_data(x, y)
    if x.shape[1] != 1 or y.shape[1] != 1:
        raise LinregError(
            f"plot_fit draws one feature against one target; x has {x.shape[1]} column(s) "
            f"and y {y.shape[1]}"
        )
    low, high = float(x.min()), float(x.max())
    margin = 0.1 * (high - low) or 1.0
    grid = torch.linspace(low - margin, high + margin, 50, dtype=x.dtype).reshape(-1, 1)
    with torch.no_grad():
        line = model(grid)
    fig = _new_figure()
    ax = fig.add_subplot()
    ax.plot(grid.flatten().tolist(), line.flatten().tolist(), color="C1", label=labels["fit"])
    ax.scatter(
        x.flatten().tolist(), y.flatten().tolist(), color="C0", zorder=3, label=labels["data"]
    )
    ax.set(xlabel=xlabel, ylabel=ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    return fig


def save_figure(fig: Figure, path: str | Path, *, dpi: int = 100) -> Path:
    """Save a figure as PNG, SVG or PDF: byte-identical for the same figure, all or nothing.

    The file is written to a temporary name in the same folder and renamed into
    place, so a failure never leaves a half-written file behind.

    Args:
        fig: the figure, e.g. from `plot_loss`.
        path: the file; its suffix picks the format (`.png`, `.svg` or `.pdf`).
        dpi: resolution of PNG files.

    Returns:
        The path written.

    Raises:
        LinregError: for an unsupported suffix or a folder that does not exist.
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in _METADATA:
        raise LinregError(
            f"cannot save {path.name!r}: use a file name ending in .png, .svg or .pdf"
        )
    if not path.parent.is_dir():
        raise LinregError(f"cannot save {path}: the folder {path.parent} does not exist")
    if path.is_dir():
        raise LinregError(f"cannot save {path}: it is a folder; give a file name")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as err:
        raise LinregError(f"cannot save {path}: {err.strerror}") from None
    _reset_layout(fig)
    try:
        with os.fdopen(handle, "wb") as f, matplotlib.rc_context({"svg.hashsalt": "linreg"}):
            fig.savefig(f, format=fmt, dpi=dpi, metadata=_METADATA[fmt])
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp makes it private; give it the usual mode
        os.replace(temporary, path)
    except OSError as err:
        Path(temporary).unlink(missing_ok=True)
        raise LinregError(f"cannot save {path}: {err.strerror or err}") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
