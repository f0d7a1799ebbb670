"""The loss surface: the loss over a grid of (w, b), and the paths optimizers take on it.

For one feature and one output the model ŷ = w·x + b has two parameters, so its MSE
loss is a surface over the (w, b) plane: a quadratic bowl whose curvature is the
Hessian H = 2·XᵀX (X is x with a column of ones), the same at every point.
`loss_grid` evaluates the surface, `hessian` gives its curvature, `trajectory`
records where a real `torch.optim` optimizer goes, and `plot_surface` and
`plot_fits` draw them. The plot functions import matplotlib when called, so
`import linreg` stays cheap; their labels follow `lang`, as in `linreg.plot`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import torch

from linreg.checks import LinregError, check_data, check_features
from linreg.loss import check_reduction, make_criterion
from linreg.model import LinearModel
from linreg.optim import make_optimizer
from linreg.train import History, train

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["hessian", "loss_grid", "plot_fits", "plot_surface", "trajectory"]

# The words `plot_surface` and `plot_fits` add to `linreg.plot`'s default labels.
LABELS: dict[str, dict[str, str]] = {
    "en": {
        "minimum": "minimum",
        "steep": "steep, λ = {}",
        "flat": "flat, λ = {}",
        "epoch": "epoch {}",
    },
    "zh": {
        "minimum": "最小值",
        "steep": "陡峭方向，λ = {}",
        "flat": "平坦方向，λ = {}",
        "epoch": "第 {} 轮",
    },
}


def _one_feature(x: torch.Tensor, name: str = "x") -> torch.Tensor:
    if x.shape[1] != 1:
        raise LinregError(
            f"the loss surface is drawn over (w, b) for one feature; {name} has "
            f"{x.shape[1]} columns: pick one, e.g. {name}[:, :1]"
        )
    return x


def _data(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """`check_data`, and one feature and one target: the surface lives over (w, b)."""
    x, y = check_data(x, y)
    return _one_feature(x), _one_feature(y, "y")


def _sum_or_mean(reduction: str) -> str:
    if check_reduction(reduction) == "none":
        raise LinregError("reduction 'none' gives no single loss to draw: use 'sum' or 'mean'")
    return reduction


def hessian(x: torch.Tensor, reduction: str = "sum") -> torch.Tensor:
    """The Hessian of the MSE loss of ŷ = w·x + b with respect to (w, b), in float64.

    Args:
        x: inputs of shape `(N, 1)`.
        reduction: `'sum'` (H = 2·XᵀX) or `'mean'` (H = 2·XᵀX / N).

    Returns:
        H, of shape `(2, 2)`: rows and columns in the order (w, b).

    Raises:
        LinregError: if `x` fails `check_features` or has more than one column, or
            `reduction` is not `'sum'` or `'mean'`.

    Examples:
        >>> from linreg.data import lesson_data
        >>> x, _ = lesson_data()
        >>> hessian(x)
        tensor([[28., 12.],
                [12.,  6.]], dtype=torch.float64)
    """
    x = _one_feature(check_features(x))
    reduction = _sum_or_mean(reduction)
    design = torch.cat([x.double(), torch.ones_like(x, dtype=torch.float64)], dim=1)  # (N, 2)
    h = 2 * design.T @ design  # (2, N) @ (N, 2) -> (2, 2)
    return h / x.shape[0] if reduction == "mean" else h


def loss_grid(
    x: torch.Tensor,
    y: torch.Tensor,
    w: torch.Tensor,
    b: torch.Tensor,
    reduction: str = "sum",
) -> torch.Tensor:
    """The MSE loss of ŷ = w·x + b at every (w, b) of a grid, in one vectorised pass.

    Args:
        x: inputs of shape `(N, 1)`.
        y: targets of shape `(N, 1)`.
        w: the weights, a 1-D tensor of shape `(W,)`, e.g. `torch.linspace(-1, 3, 200)`.
        b: the biases, a 1-D tensor of shape `(B,)`.
        reduction: `'sum'` (the lesson) or `'mean'`, as in `MSELoss`.

    Returns:
        The losses in float64, shape `(B, W)`: row i, column j holds the loss at
        `(w[j], b[i])`, the layout matplotlib's `contour(w, b, losses)` expects.

    Raises:
        LinregError: for data that fails `check_data` or has more than one feature or
            target, `w` or `b` not 1-D finite tensors, or a reduction other than
            `'sum'` or `'mean'`.

    Examples:
        >>> from linreg.data import lesson_data
        >>> x, y = lesson_data()
        >>> loss_grid(x, y, torch.tensor([0.0, 2.0]), torch.tensor([0.0]))
        tensor([[56.,  0.]], dtype=torch.float64)
    """
    x, y = _data(x, y)
    reduction = _sum_or_mean(reduction)
    for name, values in (("w", w), ("b", b)):
        if not isinstance(values, torch.Tensor) or values.ndim != 1 or values.numel() == 0:
            shape = tuple(values.shape) if isinstance(values, torch.Tensor) else type(values)
            raise LinregError(
                f"{name} must be a non-empty 1-D tensor of values, got {shape}: "
                f"e.g. torch.linspace(-1, 3, 200)"
            )
        if not bool(torch.isfinite(values).all()):
            raise LinregError(f"{name} holds NaN or inf: give finite values")
    # (B, 1, 1) + (1, W, 1) * (1, 1, N) -> (B, W, N): every prediction of every grid point.
    y_pred = b.double()[:, None, None] + w.double()[None, :, None] * x.double().flatten()
    squared = (y_pred - y.double().flatten()) ** 2
    return squared.sum(dim=-1) if reduction == "sum" else squared.mean(dim=-1)


def trajectory(
    optimizer: str,
    x: torch.Tensor,
    y: torch.Tensor,
    start: tuple[float, float],
    *,
    epochs: int,
    reduction: str = "sum",
    cap: float = 1e6,
    **hyperparameters: Any,
) -> tuple[torch.Tensor, History]:
    """Train ŷ = w·x + b from `start` with a real `torch.optim` optimizer; record its path.

    The run is `linreg.train`'s full-batch loop (the lesson's), so its numbers equal
    a hand-written loop's bit for bit. A run whose loss passes `cap` stops there,
    before anything overflows: a diverging path stays finite and can be drawn.

    Args:
        optimizer: a name from `OPTIMIZERS`, e.g. `"SGD"`.
        x: inputs of shape `(N, 1)`.
        y: targets of shape `(N, 1)`.
        start: the initial `(w, b)`, e.g. the lesson's model's weights.
        epochs: the number of epochs (one `optimizer.step()` each).
        reduction: `'sum'` (the lesson) or `'mean'`.
        cap: stop after the first epoch whose loss exceeds this.
        **hyperparameters: passed to the optimizer, e.g. `lr=0.01, momentum=0.9`.

    Returns:
        `(points, history)`: `points` of shape `(E + 1, 2)` and the dtype of `x`
        holds `(w, b)` at the start and after each of the E epochs run;
        `history.full_losses[t]` is the loss at `points[t]`, and `history.losses[t]`
        too for t < E (computed by the loop, before the update of epoch t).

    Raises:
        LinregError: for bad data, a `start` that is not two finite numbers, a `cap`
            that is not a positive number, an unknown optimizer or hyperparameter,
            or a loss that overflows before passing `cap` (`DivergenceError`).

    Examples:
        >>> from linreg.data import lesson_data
        >>> x, y = lesson_data()
        >>> points, history = trajectory("SGD", x, y, (0.0, 0.0), epochs=3, lr=0.01)
        >>> points.shape, len(history.losses)
        (torch.Size([4, 2]), 3)
        >>> points[1].tolist()  # one step: w -= 0.01 * (-56), b -= 0.01 * (-24)
        [0.5600000023841858, 0.23999999463558197]
    """
    x, y = _data(x, y)
    reduction = _sum_or_mean(reduction)
    if (
        not isinstance(start, Sequence)
        or len(start) != 2
        or not all(_is_finite_number(value) for value in start)
    ):
        raise LinregError(f"start must be two finite numbers (w, b), got {start!r}")
    if not _is_finite_number(cap) or cap <= 0:
        raise LinregError(f"cap must be a finite number > 0, got {cap!r}")
    with torch.random.fork_rng(devices=[]):  # the weights are overwritten: leave the RNG alone
        model = LinearModel().to(x.dtype)
    with torch.no_grad():
        model.linear.weight.fill_(float(start[0]))
        model.linear.bias.fill_(float(start[1]))
    points = [_parameters(model)]

    def record(epoch: int, loss: float, model: torch.nn.Module) -> bool:
        points.append(_parameters(model))
        return loss > cap

    optim = make_optimizer(optimizer, model.parameters(), **hyperparameters)
    history = train(model, x, y, make_criterion(reduction), optim, epochs, callback=record)
    return torch.stack(points), history


def _is_finite_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _parameters(model: torch.nn.Module) -> torch.Tensor:
    """(w, b) of a `LinearModel`, copied: shape `(2,)`."""
    return torch.cat([p.detach().flatten() for p in model.parameters()]).clone()


def _extent(
    minimum: torch.Tensor, paths: list[torch.Tensor], extent: Sequence[float] | None
) -> tuple[float, float, float, float]:
    """The (w_min, w_max, b_min, b_max) to draw: given, or around the minimum and the paths."""
    if extent is not None:
        if len(extent) != 4 or not all(_is_finite_number(v) for v in extent):
            raise LinregError(f"extent must be four numbers (w_min, w_max, b_min, b_max): {extent}")
        w_min, w_max, b_min, b_max = (float(v) for v in extent)
        if not (w_min < w_max and b_min < b_max):
            raise LinregError(f"extent must have w_min < w_max and b_min < b_max: {extent}")
        return w_min, w_max, b_min, b_max
    points = torch.cat([minimum[None], *(p.double() for p in paths)])  # (T, 2)
    distance = (points - minimum).norm(dim=1)
    # Leave out what a diverging path reaches: no farther than 1.5 times the farthest start.
    radius = max([float((p[0].double() - minimum).norm()) for p in paths], default=1.0)
    kept = points[distance <= 1.5 * max(radius, 1e-3)]
    low, high = kept.min(dim=0).values, kept.max(dim=0).values
    margin = 0.1 * float((high - low).max()) or 1.0
    return (
        float(low[0]) - margin,
        float(high[0]) + margin,
        float(low[1]) - margin,
        float(high[1]) + margin,
    )


def _inside(point: torch.Tensor, limits: tuple[float, float, float, float]) -> bool:
    w_min, w_max, b_min, b_max = limits
    return w_min <= float(point[0]) <= w_max and b_min <= float(point[1]) <= b_max


def plot_surface(
    x: torch.Tensor,
    y: torch.Tensor,
    paths: Mapping[str, torch.Tensor] | None = None,
    *,
    extent: Sequence[float] | None = None,
    reduction: str = "sum",
    title: str | None = None,
    lang: Literal["en", "zh"] = "en",
) -> Figure:
    """Draw the loss surface as contours, its minimum, its curvature and optimizers' paths.

    The contour levels are spaced logarithmically (the loss spans many orders of
    magnitude); the closed-form minimum is a star; two arrows from it point along
    the Hessian's eigenvectors, labelled with their eigenvalues: the steep
    direction and the flat one. Both axes have the same scale, so the arrows are
    drawn at right angles and the bowl's shape is true. Each path is a line with a
    dot per epoch, drawn up to its first point outside the drawing: a diverging
    run ends at the edge.

    Args:
        x: inputs of shape `(N, 1)`.
        y: targets of shape `(N, 1)`.
        paths: legend label -> points of shape `(T, 2)`, e.g. from `trajectory`.
        extent: `(w_min, w_max, b_min, b_max)`; by default a box around the minimum
            and the points of the paths that are no farther from it than 1.5 times
            the farthest start.
        reduction: `'sum'` (the lesson) or `'mean'`.
        title: the title.
        lang: the language of the labels: `"en"`, or `"zh"` for 最小值, 陡峭方向 and
            平坦方向.

    Returns:
        The figure.

    Raises:
        LinregError: for bad data (as `loss_grid`), a path that is not of shape
            `(T, 2)` or holds NaN or inf, a bad `extent`, or an unknown `lang`.
    """
    from linreg.plot import _new_figure, default_labels
    from linreg.solve import fit_closed_form

    default_labels(lang)
    words = LABELS[lang]
    x, y = _data(x, y)
    paths = dict(paths or {})
    for name, points in paths.items():
        if not isinstance(points, torch.Tensor) or points.ndim != 2 or points.shape[1] != 2:
            shape = tuple(points.shape) if isinstance(points, torch.Tensor) else type(points)
            raise LinregError(f"the path {name!r} must be a tensor of shape (T, 2), got {shape}")
        if len(points) == 0 or not bool(torch.isfinite(points).all()):
            raise LinregError(f"the path {name!r} is empty or holds NaN or inf")
    weight, bias = fit_closed_form(x.double(), y.double())
    minimum = torch.cat([weight.flatten(), bias])  # (2,) in float64
    w_min, w_max, b_min, b_max = _extent(minimum, list(paths.values()), extent)
    w = torch.linspace(w_min, w_max, 200, dtype=torch.float64)
    b = torch.linspace(b_min, b_max, 200, dtype=torch.float64)
    losses = loss_grid(x.double(), y.double(), w, b, reduction)  # (200, 200)
    top = float(losses.max())
    levels = torch.logspace(math.log10(top) - 5, math.log10(top), 16).tolist()[:-1]

    fig = _new_figure(6.0, 4.5)
    ax = fig.add_subplot()
    ax.contour(w.tolist(), b.tolist(), losses.tolist(), levels=levels, colors="0.72")
    eigenvalues, eigenvectors = torch.linalg.eigh(hessian(x, reduction))
    length = 0.2 * min(w_max - w_min, b_max - b_min)
    limits = (w_min, w_max, b_min, b_max)
    for index, word in ((1, words["steep"]), (0, words["flat"])):
        direction = eigenvectors[:, index] * length
        # An eigenvector's sign is free: point right, unless that leaves the drawing.
        if direction[0] < 0:
            direction = -direction
        if not _inside(minimum + direction, limits):
            direction = -direction
        tip = (minimum + direction).tolist()
        ax.annotate(
            "",
            xy=tip,
            xytext=(float(minimum[0]), float(minimum[1])),
            arrowprops={"arrowstyle": "-|>", "color": "0.15", "linewidth": 1.2},
        )
        ax.annotate(
            word.format(f"{eigenvalues[index].item():.3g}"),
            xy=tip,
            xytext=(3, 0),
            textcoords="offset points",
            fontsize="small",
            va="center",
        )
    for index, (name, points) in enumerate(paths.items()):
        outside = [not _inside(point, limits) for point in points.double()]
        end = outside.index(True) + 1 if any(outside) else len(points)
        ax.plot(
            points[:end, 0].double().tolist(),
            points[:end, 1].double().tolist(),
            marker="o",
            markersize=2.5,
            linewidth=1.2,
            color=f"C{index % 10}",
            label=name,
        )
    ax.plot(
        *minimum.tolist(),
        marker="*",
        markersize=13,
        color="black",
        linestyle="none",
        label=words["minimum"],
    )
    ax.set(xlim=(w_min, w_max), ylim=(b_min, b_max), xlabel="w", ylabel="b", aspect="equal")
    ax.legend(fontsize="small", loc="lower left")
    if title:
        ax.set_title(title)
    return fig


def plot_fits(
    x: torch.Tensor,
    y: torch.Tensor,
    points: torch.Tensor,
    epochs: Sequence[int],
    *,
    title: str | None = None,
    lang: Literal["en", "zh"] = "en",
) -> Figure:
    """Draw the data and the line ŷ = w·x + b after each of the given epochs.

    Args:
        x: inputs of shape `(N, 1)`.
        y: targets of shape `(N, 1)`.
        points: `(w, b)` after each epoch, shape `(E + 1, 2)`, e.g. from `trajectory`.
        epochs: which rows of `points` to draw, e.g. `[0, 1, 5, 20, 100]`.
        title: the title.
        lang: the language of the labels: `"en"`, or `"zh"` for 数据 and 第 t 轮.

    Returns:
        The figure.

    Raises:
        LinregError: for bad data, `points` not of shape `(E + 1, 2)`, no epochs, an
            epoch outside `0 .. E`, or an unknown `lang`.
    """
    import matplotlib

    from linreg.plot import _new_figure, default_labels

    labels = default_labels(lang)
    x, y = _data(x, y)
    if not isinstance(points, torch.Tensor) or points.ndim != 2 or points.shape[1] != 2:
        raise LinregError("points must be a tensor of shape (E + 1, 2), e.g. from trajectory")
    if not epochs:
        raise LinregError("give at least one epoch to draw, e.g. epochs=[0, 100]")
    for epoch in epochs:
        if isinstance(epoch, bool) or not isinstance(epoch, int) or not 0 <= epoch < len(points):
            raise LinregError(
                f"epoch {epoch!r} is not in the path: choose from 0 to {len(points) - 1}"
            )
    low, high = float(x.min()), float(x.max())
    margin = 0.1 * (high - low) or 1.0
    line_x = [low - margin, high + margin]
    fig = _new_figure()
    ax = fig.add_subplot()
    colors = matplotlib.colormaps["viridis"]
    for index, epoch in enumerate(epochs):
        w, b = points[epoch].tolist()
        ax.plot(
            line_x,
            [w * v + b for v in line_x],
            color=colors(0.9 * index / max(1, len(epochs) - 1)),  # early purple, late green
            linewidth=1.6,
            label=LABELS[lang]["epoch"].format(epoch),
        )
    ax.scatter(
        x.flatten().tolist(), y.flatten().tolist(), color="black", zorder=3, label=labels["data"]
    )
    ax.set(xlabel="x", ylabel="y")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    return fig
