"""Tests for tools/explorer.py, the data of tutorial 4's loss-surface explorer.

The oracle is `linreg.trajectory`: one `nn.Linear`, `nn.MSELoss` and `torch.optim`
optimizer per run, the lesson's loop. The explorer trains its whole grid in batched
parameter groups instead; what the page shows (rounded to 0.01, the loss to 0.37 %)
must be what those runs give.
"""

from __future__ import annotations

import json
import math
from functools import cache
from typing import Any

import pytest
import torch

import linreg
from tools import explorer


@cache
def data() -> dict[str, Any]:
    return explorer.build()


@cache
def batched() -> explorer.Runs:
    return explorer.runs()


def oracle(index: int, setting: int, cap: float = explorer.LOSS_CAP) -> tuple[torch.Tensor, Any]:
    """Run `index` of the grid on data `setting` with `linreg.trajectory`."""
    name, _, hyperparameters = explorer.grid()[index]
    inputs, reduction = explorer.data_settings()[setting]
    _, y, start = explorer.lesson()
    return linreg.trajectory(
        name,
        inputs,
        y,
        start,
        epochs=explorer.EPOCHS,
        reduction=reduction,
        cap=cap,
        **hyperparameters,
    )


def test_the_grid_spans_every_bound_from_below_and_above() -> None:
    rates = explorer.learning_rates()
    assert len(rates) == 13
    assert rates == sorted(rates)
    assert 0.01 in [round(lr, 12) for lr in rates]  # the lesson's learning rate
    for inputs, reduction in explorer.data_settings():
        bound = 2 / float(torch.linalg.eigvalsh(linreg.hessian(inputs, reduction))[-1])
        assert rates[0] < bound / 10
        assert rates[-1] > 2 * bound
    # sum on three points is mean at 3 × the learning rate: two steps of the grid
    assert all(math.isclose(rates[i + 2], 3 * rates[i]) for i in range(len(rates) - 2))


def test_grid_and_runs_have_the_documented_order_and_shapes() -> None:
    grid = explorer.grid()
    assert len(grid) == 13 * 4 + 13 + 13
    assert grid[5] == ("SGD", explorer.learning_rates()[1], {"lr": grid[5][1], "momentum": 0.5})
    assert grid[52][0] == "Adam"
    assert grid[65][0] == "RMSprop"
    runs = batched()
    assert runs.points.shape == (101, len(grid), 4, 2)
    assert runs.losses.shape == runs.predictions.shape == (101, len(grid), 4)
    _, _, start = explorer.lesson()
    assert torch.equal(runs.points[0], torch.tensor(start).expand(len(grid), 4, 2))


def test_every_run_matches_torch_optim_as_the_page_shows_it() -> None:
    """A third of the grid (every data setting, every optimizer) against the oracle.

    Not every run is bit for bit: the batched forward pass adds the three squared errors
    in another order than `MSELoss` over `nn.Linear`'s output, so a loss (and its
    gradient) can differ in the last bit, and the optimizer carries that on. Measured
    over the whole grid (torch 2.13): 225 of 312 runs bit for bit, every loss within
    0.07 % (a storage step is 0.37 %); rounded to 0.01, as the page shows them, w and
    b equal the oracle's at every epoch the oracle ran (51,222 values).
    """
    runs = batched()
    bitwise = compared = 0
    for index in range(0, len(explorer.grid()), 3):
        for setting in range(4):
            points, history = oracle(index, setting)
            n = len(points)
            mine = runs.points[:n, index, setting]
            compared += 1
            bitwise += bool(torch.equal(mine, points))
            assert torch.allclose(mine, points, rtol=1e-4, atol=1e-5), (index, setting)
            shown = torch.round(mine.double() / explorer.Q)
            assert torch.equal(shown, torch.round(points.double() / explorer.Q)), (index, setting)
            losses = torch.tensor(history.full_losses, dtype=torch.float64)
            assert torch.allclose(
                runs.losses[:n, index, setting].double(), losses, rtol=1e-3, atol=0
            )
    assert bitwise >= compared // 2, f"only {bitwise} of {compared} runs bit for bit"


def test_the_stored_numbers_decode_to_the_oracle() -> None:
    stored = data()
    for index in (2, 9, 17, 31, 52 + 6, 65 + 4):  # SGD, momentum 0.5/0.9/0.99, Adam, RMSprop
        for setting in range(4):
            run = explorer.decode(stored, index, setting)
            points, history = oracle(index, setting)
            n = min(len(run["w"]), len(points))
            assert len(run["w"]) == len(run["loss"])
            w, b = points[:n, 0].tolist(), points[:n, 1].tolist()
            assert all(abs(s - t) <= 0.005 + 1e-9 for s, t in zip(run["w"], w, strict=True))
            assert all(abs(s - t) <= 0.005 + 1e-9 for s, t in zip(run["b"], b, strict=True))
            at = 4 - (2 if explorer.SETTINGS[setting][0] else 0)  # centred: x - x̄
            predictions = [at * u + v for u, v in zip(w, b, strict=True)]
            assert all(
                abs(s - t) <= 0.005 + 1e-5 for s, t in zip(run["yhat"], predictions, strict=True)
            )
            step = 10 ** (explorer.QL / 2) * (1 + 1e-6)  # half a storage step of log10(loss)
            for shown, loss in zip(run["loss"], history.full_losses, strict=False):
                assert loss / step <= shown <= loss * step


def test_a_diverging_run_stops_past_the_cap_and_records_inf() -> None:
    stored = data()
    rates = explorer.learning_rates()
    bound = 2 / float(torch.linalg.eigvalsh(linreg.hessian(linreg.lesson_data()[0]))[-1])
    above = next(i for i, lr in enumerate(rates) if lr > bound)
    diverging = explorer.decode(stored, above * 4, 0)  # plain SGD just above the bound
    assert len(diverging["loss"]) < explorer.EPOCHS + 1
    assert diverging["loss"][-1] > explorer.LOSS_CAP >= diverging["loss"][-2]
    converging = explorer.decode(stored, (above - 1) * 4, 0)  # just below
    assert len(converging["loss"]) == explorer.EPOCHS + 1
    assert converging["inf_epoch"] is None
    # The far end of the grid overflows float32 within 100 epochs: the epoch is torch's.
    fastest = explorer.decode(stored, (len(rates) - 1) * 4, 0)
    assert fastest["inf_epoch"] is not None
    losses = batched().losses[:, (len(rates) - 1) * 4, 0]
    assert bool(torch.isfinite(losses[: fastest["inf_epoch"]]).all())
    assert not bool(torch.isfinite(losses[fastest["inf_epoch"]]))


def test_only_runs_that_end_off_the_plot_are_cut() -> None:
    """A run is cut where its loss passes the cap for good; one that comes back is whole."""
    stored, losses = data(), batched().losses
    cut = 0
    for index in range(len(explorer.grid())):
        for setting in range(4):
            run = explorer.decode(stored, index, setting)
            torch_losses = losses[:, index, setting]
            n = len(run["loss"])
            ends_off = (
                not bool(torch.isfinite(torch_losses[-1])) or torch_losses[-1] > explorer.LOSS_CAP
            )
            assert (n < explorer.EPOCHS + 1) == ends_off, (index, setting)
            if n < explorer.EPOCHS + 1:
                cut += 1
                assert run["loss"][-1] > explorer.LOSS_CAP  # the page says where it passed
                later = torch_losses[n - 1 :]
                assert bool(((later > explorer.LOSS_CAP) | ~torch.isfinite(later)).all())
    assert cut > 40
    # RMSprop at lr 2.43 jumps off the plot (its first step is 10·lr) and comes back.
    rmsprop = explorer.decode(stored, len(explorer.grid()) - 1, 0)
    assert max(rmsprop["loss"]) > explorer.LOSS_CAP
    assert len(rmsprop["loss"]) == explorer.EPOCHS + 1
    assert rmsprop["loss"][-1] < 1e-3


def test_surfaces_describe_the_four_data_settings() -> None:
    stored = data()
    assert [(s["centred"], s["reduction"]) for s in stored["surfaces"]] == list(explorer.SETTINGS)
    for surface, (inputs, reduction) in zip(
        stored["surfaces"], explorer.data_settings(), strict=True
    ):
        eigenvalues = torch.linalg.eigvalsh(linreg.hessian(inputs, reduction)).tolist()
        assert surface["eigenvalues"] == pytest.approx(eigenvalues, rel=1e-5)
        assert surface["bound"] == pytest.approx(2 / eigenvalues[-1], rel=1e-5)
        w_min, w_max, b_min, b_max = surface["view"]
        assert w_max - w_min == pytest.approx(b_max - b_min)  # square: equal aspect
        for w, b in (stored["start"], surface["minimum"]):
            assert w_min < w < w_max
            assert b_min < b < b_max
        _x, y = linreg.lesson_data()
        weight, bias = linreg.fit_closed_form(inputs, y)
        assert surface["minimum"] == pytest.approx([weight.item(), bias.item()], abs=1e-5)
    # The raw bowl is long and narrow, the centred one nearly round.
    raw, centred = stored["surfaces"][0]["eigenvalues"], stored["surfaces"][2]["eigenvalues"]
    assert raw[1] / raw[0] > 40
    assert centred[1] / centred[0] == pytest.approx(1.5)


def test_contour_lines_lie_on_their_level() -> None:
    stored = data()
    x, y = linreg.lesson_data()
    for key, inputs in (("raw", x), ("centred", x - x.mean())):
        paths = stored["contours"][key]
        assert len(paths) == len(stored["levels"])
        drawn = 0
        for level, path in zip(stored["levels"], paths, strict=True):
            numbers = [float(v) for v in path.replace("M", " ").split()]
            w, b = torch.tensor(numbers[0::2]), torch.tensor(numbers[1::2])
            drawn += bool(len(w))
            for u, v in list(zip(w.tolist(), b.tolist(), strict=True))[::7]:
                loss = linreg.loss_grid(inputs, y, torch.tensor([u]), torch.tensor([v]), "mean")
                # two decimals of (w, b) move the loss by at most |∇L|·0.007
                assert loss.item() == pytest.approx(level, rel=0.25, abs=0.02)
        assert drawn >= 6  # most levels cross the view


def test_sum_and_mean_runs_share_their_stored_paths() -> None:
    """SGD with `mean` at lr equals `sum` at lr/3 (N = 3): the page stores the path once."""
    stored = data()
    for lr_index in range(2, 8):
        for m in range(4):
            mean_run = stored["runs"][lr_index * 4 + m][1]
            sum_run = stored["runs"][(lr_index - 2) * 4 + m][0]
            assert mean_run[0] == sum_run[0]
            assert mean_run[1] == sum_run[1]


def test_the_data_is_cached_by_torch_version(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(explorer, "CACHE", tmp_path)
    calls: list[int] = []

    def build() -> dict[str, Any]:
        calls.append(1)
        return {"answer": 42}

    monkeypatch.setattr(explorer, "build", build)
    first = explorer.data_json()
    assert explorer.data_json() == first
    assert calls == [1]
    monkeypatch.setattr(torch, "__version__", "0.0.0+other")
    assert explorer.data_json() == first
    assert calls == [1, 1]
    assert len(list(tmp_path.glob("data-*.json"))) == 1  # the stale one is gone
    assert json.loads(first) == {"answer": 42}
