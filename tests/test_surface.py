"""Tests for `linreg.surface`: torch is the oracle for the grid, the Hessian and the paths.

The grid's values are `MSELoss` at the same (w, b); the Hessian is autograd's second
derivative; a path is a hand-written `torch.optim` loop, compared bit for bit.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

import linreg
from linreg import LinregError, hessian, loss_grid, plot_fits, plot_surface, trajectory


@pytest.fixture
def lesson() -> tuple[torch.Tensor, torch.Tensor]:
    return linreg.lesson_data()


def lesson_start() -> tuple[float, float]:
    torch.manual_seed(0)
    model = linreg.LinearModel()
    return model.linear.weight.item(), model.linear.bias.item()


def mse(x: torch.Tensor, y: torch.Tensor, w: float, b: float, reduction: str) -> float:
    """The loss at (w, b) as torch computes it: an `nn.Linear` and `nn.MSELoss`, float64."""
    layer = torch.nn.Linear(1, 1).double()
    with torch.no_grad():
        layer.weight.fill_(w)
        layer.bias.fill_(b)
        return torch.nn.MSELoss(reduction=reduction)(layer(x.double()), y.double()).item()


# --------------------------------------------------------------------------- loss_grid


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_the_grid_holds_mseloss_at_every_point(lesson, reduction: str) -> None:
    x, y = lesson
    w = torch.linspace(-1.0, 3.0, 7)
    b = torch.linspace(-2.0, 2.0, 5)
    grid = loss_grid(x, y, w, b, reduction)
    assert grid.shape == (5, 7)  # (len(b), len(w)): rows are b, as contour(w, b, grid) reads
    assert grid.dtype == torch.float64
    for i, b_value in enumerate(b.tolist()):
        for j, w_value in enumerate(w.tolist()):
            expected = mse(x, y, w_value, b_value, reduction)
            assert grid[i, j].item() == pytest.approx(expected, rel=1e-12, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    data=st.lists(st.tuples(st.floats(-10, 10), st.floats(-10, 10)), min_size=1, max_size=6),
    w=st.floats(-5, 5),
    b=st.floats(-5, 5),
    reduction=st.sampled_from(["sum", "mean"]),
)
def test_any_data_any_point(data, w: float, b: float, reduction: str) -> None:
    x = torch.tensor([[p[0]] for p in data])
    y = torch.tensor([[p[1]] for p in data])
    grid_w, grid_b = torch.tensor([w], dtype=torch.float64), torch.tensor([b], dtype=torch.float64)
    value = loss_grid(x, y, grid_w, grid_b, reduction)
    assert value.item() == pytest.approx(mse(x, y, w, b, reduction), rel=1e-9, abs=1e-9)


def test_the_grid_is_zero_at_the_closed_form_minimum(lesson) -> None:
    x, y = lesson
    w_star, b_star = linreg.fit_closed_form(x, y)
    grid = loss_grid(x, y, w_star.flatten().double(), b_star.double())
    assert grid.item() < 1e-10


# --------------------------------------------------------------------------- hessian


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_hessian_is_autograds_second_derivative(reduction: str) -> None:
    x = torch.tensor([[0.5], [-1.0], [2.0], [3.5]])
    y = torch.tensor([[1.0], [0.0], [2.0], [-1.0]])

    def loss(theta: torch.Tensor) -> torch.Tensor:
        y_pred = x.double() * theta[0] + theta[1]
        return torch.nn.functional.mse_loss(y_pred, y.double(), reduction=reduction)

    expected = torch.autograd.functional.hessian(loss, torch.tensor([0.3, -0.2]).double())
    assert torch.allclose(hessian(x, reduction), expected, rtol=1e-12, atol=1e-12)


def test_the_lessons_hessian_and_stable_lr_agree(lesson) -> None:
    x, _ = lesson
    for reduction in ("sum", "mean"):
        largest = torch.linalg.eigvalsh(hessian(x, reduction))[-1].item()
        assert 2 / largest == pytest.approx(linreg.stable_lr(x, reduction), rel=1e-12)


# --------------------------------------------------------------------------- trajectory


@pytest.mark.parametrize(
    ("name", "settings_"),
    [
        ("SGD", {"lr": 0.01}),
        ("SGD", {"lr": 0.01, "momentum": 0.9}),
        ("Adam", {"lr": 0.1}),
        ("LBFGS", {"lr": 1, "max_iter": 1}),
    ],
)
def test_a_path_is_a_hand_written_loop_bit_for_bit(lesson, name: str, settings_: dict) -> None:
    x, y = lesson
    points, history = trajectory(name, x, y, lesson_start(), epochs=30, **settings_)

    torch.manual_seed(0)
    model = torch.nn.Linear(1, 1)  # the lesson's initial weights
    criterion = torch.nn.MSELoss(reduction="sum")
    optimizer = getattr(torch.optim, name)(model.parameters(), **settings_)
    expected, losses = [torch.cat([model.weight.detach().flatten(), model.bias.detach()])], []

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        return loss

    for _ in range(30):
        if name == "LBFGS":
            losses.append(optimizer.step(closure).item())
        else:
            loss = criterion(model(x), y)
            losses.append(loss.item())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        expected.append(torch.cat([model.weight.detach().flatten(), model.bias.detach()]))

    assert points.shape == (31, 2)
    assert points.dtype == torch.float32
    assert torch.equal(points, torch.stack(expected))
    assert history.losses == losses


def test_the_losses_of_a_path_are_the_surface_at_its_points(lesson) -> None:
    x, y = lesson
    points, history = trajectory("SGD", x, y, lesson_start(), epochs=10, lr=0.01)
    on_surface = [
        loss_grid(x, y, point[:1].double(), point[1:].double()).item() for point in points
    ]
    assert history.full_losses == pytest.approx(on_surface, rel=1e-5)
    assert history.losses == history.full_losses[:-1]


def test_a_path_in_float64_and_with_mean(lesson) -> None:
    x, y = lesson
    points, history = trajectory(
        "SGD", x.double(), y.double(), (0.0, 0.0), epochs=5, reduction="mean", lr=0.1
    )
    assert points.dtype == torch.float64
    assert points[0].tolist() == [0.0, 0.0]
    # The first step by hand: the mean loss's gradient is (2/N)·Σ(ŷ − y)·(x, 1).
    assert points[1].tolist() == pytest.approx([0.1 * 2 * 28 / 3, 0.1 * 2 * 12 / 3])
    assert history.losses[0] == pytest.approx(56 / 3)


def test_a_diverging_path_stops_at_the_cap_and_stays_finite(lesson) -> None:
    x, y = lesson
    lr = 1.1 * linreg.stable_lr(x, "sum")
    points, history = trajectory("SGD", x, y, lesson_start(), epochs=500, lr=lr, cap=1e6)
    assert history.stopped_early
    assert history.losses[-1] > 1e6
    assert all(loss <= 1e6 for loss in history.losses[:-1])
    assert len(points) == len(history.losses) + 1
    assert bool(torch.isfinite(points).all())
    # Without a cap in sight the same run goes on: the cap is what stopped it.
    _, longer = trajectory("SGD", x, y, lesson_start(), epochs=500, lr=lr, cap=1e30)
    assert len(longer.losses) > len(history.losses)


def test_a_path_leaves_the_global_random_state_alone(lesson) -> None:
    x, y = lesson
    torch.manual_seed(3)
    state = torch.get_rng_state()
    trajectory("SGD", x, y, (1.0, 1.0), epochs=2, lr=0.01)
    assert torch.equal(torch.get_rng_state(), state)


# --------------------------------------------------------------------------- plots


def test_plot_surface_draws_the_paths_the_minimum_and_the_eigenvectors(lesson) -> None:
    x, y = lesson
    points, _ = trajectory("SGD", x, y, lesson_start(), epochs=20, lr=0.01)
    fig = plot_surface(x, y, {"SGD": points}, extent=(-1, 3, -1, 2), lang="en")
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    path, star = ax.lines
    assert list(path.get_xdata()) == points[:, 0].double().tolist()
    assert list(path.get_ydata()) == points[:, 1].double().tolist()
    assert (star.get_xdata()[0], star.get_ydata()[0]) == pytest.approx((2.0, 0.0), abs=1e-5)
    assert ax.get_xlim() == (-1, 3)
    assert ax.get_ylim() == (-1, 2)
    assert ax.get_aspect() == 1.0
    assert ax.collections  # the contours
    eigenvalues = torch.linalg.eigvalsh(hessian(x)).tolist()
    texts = [t.get_text() for t in ax.texts if t.get_text()]
    assert texts == [f"steep, λ = {eigenvalues[1]:.3g}", f"flat, λ = {eigenvalues[0]:.3g}"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["SGD", "minimum"]


def test_plot_surface_in_chinese(lesson) -> None:
    x, y = lesson
    ax = plot_surface(x, y, lang="zh").axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["最小值"]
    assert [t.get_text().split("，")[0] for t in ax.texts if t.get_text()] == [
        "陡峭方向",
        "平坦方向",
    ]


def test_a_diverging_path_is_drawn_up_to_the_edge(lesson) -> None:
    x, y = lesson
    lr = 1.1 * linreg.stable_lr(x, "sum")
    points, _ = trajectory("SGD", x, y, lesson_start(), epochs=100, lr=lr)
    ax = plot_surface(x, y, {"diverging": points}).axes[0]
    line = ax.lines[0]
    w_min, w_max = ax.get_xlim()
    b_min, b_max = ax.get_ylim()
    inside = [w_min <= w <= w_max and b_min <= b <= b_max for w, b in points.tolist()]
    end = inside.index(False)
    assert len(line.get_xdata()) == end + 1  # the first point outside ends the line
    assert all(inside[:end])
    # The default drawing holds the start and the minimum, not where the run ran off to.
    assert w_min < points[0, 0].item() < w_max
    assert w_min < 2.0 < w_max
    assert w_max - w_min < 10


def test_plot_fits_draws_one_line_per_epoch(lesson) -> None:
    x, y = lesson
    points, _ = trajectory("SGD", x, y, lesson_start(), epochs=20, lr=0.01)
    ax = plot_fits(x, y, points, [0, 5, 20], lang="zh").axes[0]
    assert len(ax.lines) == 3
    for line, epoch in zip(ax.lines, [0, 5, 20], strict=True):
        w, b = points[epoch].tolist()
        assert list(line.get_ydata()) == [w * v + b for v in line.get_xdata()]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["第 0 轮", "第 5 轮", "第 20 轮", "数据"]


# --------------------------------------------------------------------------- refusals


def _points() -> torch.Tensor:
    return torch.zeros(3, 2)


x0, y0 = linreg.lesson_data()
w0 = torch.linspace(0, 1, 3)
BAD = [
    (lambda: loss_grid(torch.ones(3, 2), y0, w0, w0), "one feature"),
    (lambda: loss_grid(x0, torch.ones(3, 2), w0, w0), "one feature"),
    (lambda: loss_grid(x0, y0, w0.reshape(1, 3), w0), "1-D tensor"),
    (lambda: loss_grid(x0, y0, [0.0, 1.0], w0), "1-D tensor"),
    (lambda: loss_grid(x0, y0, w0, torch.tensor([float("nan")])), "NaN or inf"),
    (lambda: loss_grid(x0, y0, w0, w0, "none"), "use 'sum' or 'mean'"),
    (lambda: loss_grid(x0, y0, w0, w0, "max"), "unknown reduction"),
    (lambda: loss_grid(x0, y0.flatten(), w0, w0), "reshape"),
    (lambda: hessian(x0, "none"), "use 'sum' or 'mean'"),
    (lambda: trajectory("SGD", x0, y0, (1.0,), epochs=1, lr=0.1), "two finite numbers"),
    (lambda: trajectory("SGD", x0, y0, (float("nan"), 0.0), epochs=1), "two finite numbers"),
    (lambda: trajectory("SGD", x0, y0, "ab", epochs=1, lr=0.1), "two finite numbers"),
    (lambda: trajectory("SGD", x0, y0, (0, 0), epochs=1, cap=0), "cap must be"),
    (lambda: trajectory("SGD", x0, y0, (0, 0), epochs=0, lr=0.1), "epochs"),
    (lambda: trajectory("SDG", x0, y0, (0, 0), epochs=1), "did you mean 'SGD'"),
    (lambda: trajectory("SGD", x0, y0, (0, 0), epochs=1, betas=(0.9, 0.9)), "no argument"),
    (lambda: plot_surface(x0, y0, {"p": torch.zeros(3)}), r"shape \(T, 2\)"),
    (lambda: plot_surface(x0, y0, {"p": torch.full((2, 2), float("inf"))}), "NaN or inf"),
    (lambda: plot_surface(x0, y0, extent=(0, 1, 2)), "four numbers"),
    (lambda: plot_surface(x0, y0, extent=(1, 0, 0, 1)), "w_min < w_max"),
    (lambda: plot_surface(x0, y0, lang="fr"), "unknown lang"),
    (lambda: plot_fits(x0, y0, _points(), [3]), "not in the path"),
    (lambda: plot_fits(x0, y0, _points(), []), "at least one epoch"),
    (lambda: plot_fits(x0, y0, torch.zeros(3), [0]), r"shape \(E \+ 1, 2\)"),
]


@pytest.mark.parametrize(("call", "message"), BAD)
def test_bad_input_gives_a_one_line_error(call, message: str) -> None:
    with pytest.raises(LinregError, match=message) as caught:
        call()
    assert "\n" not in str(caught.value)
