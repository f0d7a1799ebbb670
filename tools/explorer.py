"""The data of the loss-surface explorer (tutorial 4): real torch.optim runs over a grid.

The explorer lets a reader pick a learning rate, a momentum, an optimizer, the loss's
reduction and whether x is centred, and shows the path of that run across the
contours of L(w, b), its loss curve and its numbers. Nothing is simulated in the
browser: every run of the grid is trained here, at build, by `torch.optim`, and the
page's script only looks runs up and draws them.

The grid (`grid()`): 13 learning rates 0.01·3^(k/2) for k = -2 … 10 (0.0033 to 2.43;
`sum` on the lesson's N = 3 points is `mean` at 3 times the learning rate, two steps up),
SGD with momentum 0, 0.5, 0.9 and 0.99, Adam and RMSprop at their defaults, each on the
four data settings (x as given or centred, `sum` or `mean`): 312 runs of 100 epochs
from the lesson's initial weights. The page's budget (60 KB transferred for script and
data) bought this grid; `benchmarks/README.md` has the figures.

`runs()` trains the grid in a few batched passes. Each optimizer owns one parameter
group per setting of its hyperparameters, and each group one tensor of shape (4, 2):
(w, b) of the four data settings. One forward pass computes every run's loss, and the
backward pass of their sum gives each run the gradient of its own loss (the derivative
of a sum is 1 for each term, exactly). The optimizers are torch's own, and they update
elementwise, so a run here takes the steps `linreg.trajectory` takes, up to the order
of the float32 additions inside a forward pass: `tests/test_explorer.py` checks a
sample bit for bit or within 1 ulp-scale tolerance.

`build()` stores what the page shows, rounded as the page shows it: w, b and ŷ(4) to
0.01, the loss as log10 in steps of log10(3)/300 (0.37 %). Each series is its first
value and the list of differences after it; equal lists (runs that differ only in the
reduction draw the same path) are stored once. A run whose loss ends past `LOSS_CAP`
(far off the plot) diverges and is kept to its first epoch past it; `inf_epoch` is the
epoch its loss stopped being finite, if it did within the 100 epochs.
"""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import torch

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "explorer"
DATA = "assets/explorer/data.json"  # where the site serves it
EPOCHS = 100
LR_STEPS = range(-2, 11)  # lr = 0.01 * 3 ** (k / 2)
MOMENTA = (0.0, 0.5, 0.9, 0.99)
OPTIMIZERS = ("SGD", "Adam", "RMSprop")
# The four data settings, in the order of a run tensor's rows: (centred, reduction).
SETTINGS = ((False, "sum"), (False, "mean"), (True, "sum"), (True, "mean"))
Q = 0.01  # w, b and ŷ(4) are stored (and shown) to 0.01
LOSS_CAP = 1e4  # a run is kept up to its first loss past this: far off the plot
QL = math.log10(3) / 300  # log10(loss) steps of 0.37 %: `sum` = 3 × `mean` is 300 steps
X_PREDICT = 4.0  # the page shows the prediction at x = 4, the lesson's question


def learning_rates() -> list[float]:
    """The grid's learning rates, ascending."""
    return [0.01 * 3 ** (k / 2) for k in LR_STEPS]


def grid() -> list[tuple[str, float, dict[str, float]]]:
    """Every (optimizer, lr, hyperparameters) of the grid, in the order `runs` returns."""
    settings: list[tuple[str, float, dict[str, float]]] = []
    for lr in learning_rates():
        for momentum in MOMENTA:
            settings.append(("SGD", lr, {"lr": lr, "momentum": momentum}))
    for name in ("Adam", "RMSprop"):
        settings.extend((name, lr, {"lr": lr}) for lr in learning_rates())
    return settings


def lesson() -> tuple[torch.Tensor, torch.Tensor, tuple[float, float]]:
    """The lesson's x and y (float32, (3, 1)) and its initial (w, b) (`manual_seed(0)`)."""
    import linreg

    x, y = linreg.lesson_data()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = linreg.LinearModel()
    return x, y, (model.linear.weight.item(), model.linear.bias.item())


def inputs(centred: bool) -> torch.Tensor:
    """The lesson's x, (3, 1): as given, or centred (x - x̄)."""
    x, _, _ = lesson()
    return x - x.mean() if centred else x


def data_settings() -> list[tuple[torch.Tensor, str]]:
    """The inputs (3, 1) and reduction of each of `SETTINGS`."""
    return [(inputs(centred), reduction) for centred, reduction in SETTINGS]


@dataclass
class Runs:
    """Every run of the grid, after t = 0 … EPOCHS epochs.

    `points[t, r, d]` is (w, b), `losses[t, r, d]` the loss there and
    `predictions[t, r, d]` the prediction at x = 4 there (with centred x, the model's
    input is 4 - x̄); r indexes `grid()`, d `SETTINGS`.
    """

    points: torch.Tensor  # (EPOCHS + 1, R, 4, 2)
    losses: torch.Tensor  # (EPOCHS + 1, R, 4)
    predictions: torch.Tensor  # (EPOCHS + 1, R, 4)


def runs(epochs: int = EPOCHS) -> Runs:
    """Train every run of `grid()` with torch.optim, batched (see the module's docstring)."""
    x, y, start = lesson()
    xs = torch.stack([d[0].flatten() for d in data_settings()])  # (4, 3)
    targets = y.flatten()  # (3,)
    mean = torch.tensor([reduction == "mean" for _, reduction in SETTINGS])  # (4,)
    # x = 4 as each setting's model sees it: centred, its input is x - x̄ = 4 - 2.
    at = torch.tensor(
        [X_PREDICT - (float(x.mean()) if centred else 0.0) for centred, _ in SETTINGS]
    )
    settings = grid()
    params = [torch.tensor([start] * len(SETTINGS), requires_grad=True) for _ in settings]
    optimizers = []
    for name in OPTIMIZERS:
        pairs = zip(params, settings, strict=True)
        groups = [{"params": [p], **hp} for p, (n, _, hp) in pairs if n == name]
        optimizers.append(getattr(torch.optim, name)(groups))
    points, losses, predictions = [], [], []
    for epoch in range(epochs + 1):
        theta = torch.stack(params)  # (R, 4, 2)
        w, b = theta[..., 0:1], theta[..., 1:2]  # (R, 4, 1)
        squared = (w * xs + b - targets) ** 2  # (R, 4, 3)
        loss = torch.where(mean, squared.mean(-1), squared.sum(-1))  # (R, 4)
        points.append(theta.detach().clone())
        losses.append(loss.detach().clone())
        predictions.append((w[..., 0] * at + b[..., 0]).detach().clone())  # (R, 4)
        if epoch == epochs:
            break
        for optimizer in optimizers:
            optimizer.zero_grad()
        loss.sum().backward()  # type: ignore[no-untyped-call]
        for optimizer in optimizers:
            optimizer.step()
    return Runs(torch.stack(points), torch.stack(losses), torch.stack(predictions))


def minimum(centred: bool) -> tuple[float, float]:
    """The closed-form (w*, b*) of the lesson's data, x centred or not."""
    import linreg

    _, y, _ = lesson()
    w, b = linreg.fit_closed_form(inputs(centred).double(), y.double())
    return float(w.flatten()[0]), float(b.flatten()[0])


def view(centred: bool) -> tuple[float, float, float, float]:
    """The (w_min, w_max, b_min, b_max) the explorer draws: start, minimum, a margin, square."""
    _, _, start = lesson()
    w_star, b_star = minimum(centred)
    low_w, high_w = min(start[0], w_star), max(start[0], w_star)
    low_b, high_b = min(start[1], b_star), max(start[1], b_star)
    side = math.ceil(2 * (max(high_w - low_w, high_b - low_b) + 2.0)) / 2  # a margin of 1
    mid_w, mid_b = round((low_w + high_w) / 2, 1), round((low_b + high_b) / 2, 1)
    return (
        round(mid_w - side / 2, 3),
        round(mid_w + side / 2, 3),
        round(mid_b - side / 2, 3),
        round(mid_b + side / 2, 3),
    )


def contours(centred: bool, levels: list[float]) -> list[str]:
    """SVG path data of the `mean` loss's contour lines at `levels`, in (w, b) coordinates.

    The `sum` loss is 3 times the `mean` (N = 3): the same curves, at 3 times the levels.
    """
    import contourpy

    import linreg

    _, y, _ = lesson()
    w_min, w_max, b_min, b_max = view(centred)
    w = torch.linspace(w_min, w_max, 81, dtype=torch.float64)
    b = torch.linspace(b_min, b_max, 81, dtype=torch.float64)
    losses = linreg.loss_grid(inputs(centred), y, w, b, reduction="mean")  # (B, W)
    generator = contourpy.contour_generator(w.numpy(), b.numpy(), losses.numpy())
    paths = []
    for level in levels:
        parts = []
        for line in cast("list[Any]", generator.lines(level)):  # LineType.Separate
            coordinates = " ".join(f"{u:.2f} {v:.2f}" for u, v in line)
            parts.append(f"M{coordinates}")
        paths.append("".join(parts))
    return paths


def _series(values: torch.Tensor, step: float, table: dict[tuple[int, ...], int]) -> list[int]:
    """A series as [first value, index of its differences in `table`], in units of `step`."""
    units = torch.round(values.double() / step).long()
    differences = tuple((units[1:] - units[:-1]).tolist())
    index = table.setdefault(differences, len(table))
    return [int(units[0]), index]


def _run_record(
    points: torch.Tensor,
    losses: torch.Tensor,
    predictions: torch.Tensor,
    table: dict[tuple[int, ...], int],
) -> list[Any]:
    """One run: [w, b, ŷ(4), log10 loss (each `_series`), the epoch the loss became inf].

    A run that ends with its loss past `LOSS_CAP` (far off the plot) or not finite
    diverges: it is kept to the first epoch of its last climb past the cap. Every other
    run is kept to the end, even one that leaves the plot for a while (RMSprop's first
    steps of 10·lr can) and comes back.
    """
    finite = torch.isfinite(losses) & torch.isfinite(points).all(dim=1)
    finite_epochs = int(finite.long().cumprod(0).sum())
    inf_epoch = None if finite_epochs == len(losses) else finite_epochs
    below = (finite & (losses <= LOSS_CAP)).nonzero().flatten().tolist()
    kept = len(losses) if below and below[-1] == len(losses) - 1 else (below or [-1])[-1] + 2
    kept = min(kept, finite_epochs)  # (tests/test_explorer.py: never fewer, in this grid)
    return [
        _series(points[:kept, 0], Q, table),
        _series(points[:kept, 1], Q, table),
        _series(predictions[:kept], Q, table),
        _series(torch.log10(losses[:kept].double().clamp_min(1e-300)), QL, table),
        inf_epoch,
    ]


def build() -> dict[str, Any]:
    """The explorer's data: the grid, its runs (encoded), the surfaces' geometry."""
    import linreg

    result = runs()
    _, _, start = lesson()
    table: dict[tuple[int, ...], int] = {}
    settings = grid()
    records: list[list[list[Any]]] = []
    for r in range(len(settings)):
        records.append(
            [
                _run_record(
                    result.points[:, r, d],
                    result.losses[:, r, d],
                    result.predictions[:, r, d],
                    table,
                )
                for d in range(len(SETTINGS))
            ]
        )
    levels = [10.0 ** (k / 2) for k in range(-4, 5)]  # of the `mean` loss; `sum` is 3 ×
    surfaces = []
    for centred, reduction in SETTINGS:
        hessian = linreg.hessian(inputs(centred), reduction)
        eigenvalues, eigenvectors = torch.linalg.eigh(hessian)  # ascending: flat, steep
        vectors = [v if v[0] > 0 else -v for v in eigenvectors.T]
        surfaces.append(
            {
                "centred": centred,
                "reduction": reduction,
                "minimum": [round(v, 6) + 0.0 for v in minimum(centred)],
                "view": list(view(centred)),
                "eigenvalues": [round(float(v), 6) for v in eigenvalues],
                "eigenvectors": [[round(float(c), 6) for c in v] for v in vectors],
                "bound": round(2 / float(eigenvalues[-1]), 6),
            }
        )
    shapes = {centred: contours(centred, levels) for centred in (False, True)}
    return {
        "torch": torch.__version__.split("+")[0],
        "epochs": EPOCHS,
        "start": [round(v, 6) for v in start],
        "x_predict": X_PREDICT,
        "lr": [round(lr, 6) for lr in learning_rates()],
        "momentum": list(MOMENTA),
        "optimizers": list(OPTIMIZERS),
        "q": Q,
        "ql": QL,
        "surfaces": surfaces,
        "levels": levels,  # of the `mean` loss; ×3 for `sum`
        "contours": {"raw": shapes[False], "centred": shapes[True]},
        # runs[i] for grid()[i]: SGD lr-major then momentum, then Adam's lrs, RMSprop's.
        "runs": records,
        "differences": [list(d) for d in table],
    }


def decode(data: dict[str, Any], index: int, setting: int) -> dict[str, Any]:
    """Run `index` of `grid()` on data setting `setting`, as the page's script decodes it.

    Returns `w`, `b`, `yhat` and `loss` (lists of floats, one per stored epoch) and
    `inf_epoch`. The tests compare these with `torch.optim` runs.
    """
    *series, inf_epoch = data["runs"][index][setting]
    values = []
    for first, k in series:
        units = [first]
        for difference in data["differences"][k]:
            units.append(units[-1] + difference)
        values.append(units)
    w, b, yhat, log_loss = values
    return {
        "w": [u * data["q"] for u in w],
        "b": [u * data["q"] for u in b],
        "yhat": [u * data["q"] for u in yhat],
        "loss": [10.0 ** (u * data["ql"]) for u in log_loss],
        "inf_epoch": inf_epoch,
    }


def fingerprint() -> str:
    """Changes whenever the data could: this file, linreg's source, torch's version."""
    digest = hashlib.sha256()
    for path in [Path(__file__), *sorted((ROOT / "linreg").rglob("*.py"))]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    digest.update(f"torch {torch.__version__}".encode())
    return digest.hexdigest()[:16]


def data_json() -> bytes:
    """`build()` as compact JSON, from the cache (keyed by `fingerprint()`) or computed.

    The two language builds (two processes) share one computation: a lock file makes the
    second wait for the first, then read the cache.
    """
    cached = CACHE / f"data-{fingerprint()}.json"
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / "data.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if cached.exists():
            return cached.read_bytes()
        content = json.dumps(build(), separators=(",", ":"), ensure_ascii=False).encode()
        for stale in CACHE.glob("data-*.json"):
            stale.unlink(missing_ok=True)
        temporary = cached.with_name(f".{cached.name}.{os.getpid()}.tmp")
        temporary.write_bytes(content)
        temporary.replace(cached)
        return content


if __name__ == "__main__":  # python -m tools.explorer: the data's size
    import time

    began = time.perf_counter()
    content = json.dumps(build(), separators=(",", ":")).encode()
    print(f"built in {time.perf_counter() - began:.2f} s")
    print(f"{len(content) / 1000:.1f} kB, {len(gzip.compress(content, 6)) / 1000:.1f} kB gzip")
