"""Tests for `linreg.train`: the lesson's loop reproduced exactly, and every refusal.

Oracles: the lesson's own hand-written loop (with its own model class), a hand-written
LBFGS closure loop, and closed-form least squares (numpy in float64).
"""

from __future__ import annotations

import json
import math
import types

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import linreg
from linreg import (
    DivergenceError,
    LinearModel,
    LinregError,
    make_criterion,
    make_optimizer,
    stable_lr,
    train,
)

SEEDS = [0, 1, 7, 2024]


class LessonModel(torch.nn.Module):
    """The lesson's model, written out as in the course (not linreg's class)."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(1, 1)

    def forward(self, x):
        return self.linear(x)


def seeded(seed, *args, cls=LinearModel):
    """Build a model from `seed` without disturbing the global RNG of other tests."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return cls(*args)


def lesson_loop(seed, criterion, make_opt, epochs=100):
    """The lesson, line by line."""
    x_data = torch.Tensor([[1.0], [2.0], [3.0]])
    y_data = torch.Tensor([[2.0], [4.0], [6.0]])
    model = seeded(seed, cls=LessonModel)
    optimizer = make_opt(model.parameters())
    losses = []
    for _epoch in range(epochs):
        y_pred = model(x_data)
        loss = criterion(y_pred, y_data)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return losses, model.linear.weight.detach(), model.linear.bias.detach()


def hand_loop(model, batches_per_epoch, criterion, optimizer):
    """The lesson's loop over given batches; one list of step losses."""
    step_losses = []
    for batches in batches_per_epoch:
        for xb, yb in batches:
            loss = criterion(model(xb), yb)
            step_losses.append(loss.item())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return step_losses


def closed_form(x, y):
    """Least squares with a bias column, in float64 with numpy: (coef, mean squared error)."""
    design = np.hstack([x.double().numpy(), np.ones((x.shape[0], 1))])
    target = y.double().numpy()
    coef, *_ = np.linalg.lstsq(design, target, rcond=None)
    return coef, float(np.mean((design @ coef - target) ** 2))


def snapshot(*models):
    return [p.detach().clone() for model in models for p in model.parameters()]


def unchanged(before, *models):
    after = [p.detach() for model in models for p in model.parameters()]
    return len(before) == len(after) and all(
        torch.equal(a, b) for a, b in zip(before, after, strict=True)
    )


# --- the lesson, exactly ---------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(
    ("reduction", "extra"),
    [("sum", {}), ("mean", {}), ("sum", {"momentum": 0.9}), ("mean", {"momentum": 0.5})],
)
def test_train_reproduces_the_lesson_loop_exactly(seed, reduction, extra):
    expected_losses, expected_w, expected_b = lesson_loop(
        seed,
        torch.nn.MSELoss(reduction=reduction),
        lambda params: torch.optim.SGD(params, lr=0.01, **extra),
    )
    x, y = linreg.lesson_data()
    model = seeded(seed)
    optimizer = make_optimizer("SGD", model.parameters(), lr=0.01, **extra)
    history = train(model, x, y, make_criterion(reduction), optimizer, epochs=100)

    assert expected_losses[-1] < expected_losses[0]  # the lesson's loop does learn
    assert history.losses == expected_losses
    assert torch.equal(history.weight, expected_w)
    assert torch.equal(history.bias, expected_b)
    assert torch.equal(model.linear.weight.detach(), expected_w)
    assert torch.equal(model.linear.bias.detach(), expected_b)


def test_train_matches_the_notes_legacy_size_average_false():
    with pytest.warns(UserWarning, match="reduction='sum'"):
        legacy = torch.nn.MSELoss(size_average=False)
    expected_losses, expected_w, expected_b = lesson_loop(
        3, legacy, lambda params: torch.optim.SGD(params, lr=0.01)
    )
    model = seeded(3)
    history = train(
        model,
        *linreg.lesson_data(),
        make_criterion("sum"),
        make_optimizer("SGD", model.parameters(), lr=0.01),
        epochs=100,
    )
    assert history.losses == expected_losses
    assert torch.equal(history.weight, expected_w)
    assert torch.equal(history.bias, expected_b)


# --- History ---------------------------------------------------------------------------


def test_history_fields_and_json():
    x, y = linreg.synthetic_data([1.5, -0.5], 0.3, n=8, noise=0.1, seed=4)
    model = seeded(5, 2)
    epochs = 7
    history = train(
        model,
        x,
        y,
        make_criterion("sum"),
        make_optimizer("SGD", model.parameters(), lr=0.01),
        epochs,
    )
    assert len(history.losses) == epochs
    assert history.step_losses == history.losses
    assert history.loss_evaluations == epochs
    assert history.seconds > 0
    assert history.stopped_early is False
    assert len(history.full_losses) == epochs + 1
    assert history.final_loss == history.full_losses[-1]
    assert history.weight.shape == (1, 2)
    assert history.bias.shape == (1,)
    assert torch.equal(history.weight, model.linear.weight.detach())
    assert torch.equal(history.bias, model.linear.bias.detach())
    # the recorded parameters are copies, not the live tensors
    assert history.weight.data_ptr() != model.linear.weight.data_ptr()

    loaded = json.loads(json.dumps(history.to_dict()))
    assert loaded["losses"] == history.losses
    assert loaded["step_losses"] == history.step_losses
    assert loaded["full_losses"] == history.full_losses
    assert loaded["weight"] == history.weight.tolist()
    assert loaded["bias"] == history.bias.tolist()
    assert loaded["loss_evaluations"] == epochs
    assert loaded["seconds"] == history.seconds
    assert loaded["stopped_early"] is False


def full_data_loss(model, x, y, criterion):
    """The loss of `model` on all of `(x, y)`, computed here without `train`."""
    with torch.no_grad():
        return criterion(model(x), y).item()


@pytest.mark.parametrize("reduction", ["sum", "mean"])
@pytest.mark.parametrize("batch_size", [None, 1, 3, 4])
def test_final_loss_is_the_trained_models_loss_on_all_the_data(reduction, batch_size):
    x, y = linreg.synthetic_data([1.5, -0.5], 0.3, n=10, noise=0.1, seed=4)
    history, model = _sgd_run(x, y, reduction, epochs=3, batch_size=batch_size, seed=0)
    assert history.final_loss == full_data_loss(model, x, y, make_criterion(reduction))
    initial = seeded(0, 2, 1)
    assert history.full_losses[0] == full_data_loss(initial, x, y, make_criterion(reduction))
    assert len(history.full_losses) == 3 + 1


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_full_batch_full_losses_are_the_lessons_losses_one_update_later(reduction):
    # the loss the lesson prints in epoch k is the model's loss before update k, so the
    # no-grad evaluations give the same numbers, plus the loss after the last update
    x, y = linreg.lesson_data()
    history, _ = _sgd_run(x, y, reduction, epochs=20)
    assert history.full_losses[:-1] == history.losses
    assert history.final_loss < history.losses[-1]


def test_full_loss_every_update_records_the_learning_curve_without_changing_training():
    x, y = linreg.synthetic_data([0.7, 1.2], -0.4, n=10, noise=0.2, seed=2)
    epochs, batch_size = 3, 4
    per_epoch, epoch_model = _sgd_run(x, y, "mean", epochs, batch_size, seed=0)
    per_update, update_model = _sgd_run(
        x, y, "mean", epochs, batch_size, seed=0, full_loss_every="update"
    )
    steps = math.ceil(10 / batch_size)
    assert len(per_update.full_losses) == 1 + epochs * steps
    assert per_update.full_losses[::steps] == per_epoch.full_losses
    assert per_update.step_losses == per_epoch.step_losses
    assert per_update.losses == per_epoch.losses
    assert per_update.loss_evaluations == per_epoch.loss_evaluations == epochs * steps
    assert torch.equal(update_model.linear.weight, epoch_model.linear.weight)

    # the hand-written loop, evaluating the whole data after every update
    reference = seeded(0, 2, 1)
    optimizer = torch.optim.SGD(reference.parameters(), lr=0.01)
    criterion = make_criterion("mean")
    generator = torch.Generator().manual_seed(0)
    expected = [full_data_loss(reference, x, y, criterion)]
    for _epoch in range(epochs):
        order = torch.randperm(10, generator=generator)
        for start in range(0, 10, batch_size):
            index = order[start : start + batch_size]
            hand_loop(reference, [[(x[index], y[index])]], criterion, optimizer)
            expected.append(full_data_loss(reference, x, y, criterion))
    assert per_update.full_losses == expected


def test_full_batch_every_update_is_every_epoch():
    x, y = linreg.lesson_data()
    per_epoch, _ = _sgd_run(x, y, epochs=5)
    per_update, _ = _sgd_run(x, y, epochs=5, full_loss_every="update")
    assert per_update.full_losses == per_epoch.full_losses


def test_unknown_full_loss_every_is_refused():
    x, y = linreg.lesson_data()
    with pytest.raises(LinregError, match="full_loss_every='step'"):
        _sgd_run(x, y, full_loss_every="step")


def test_history_without_bias():
    x, y = linreg.lesson_data()
    model = seeded(0, 1, 1, False, cls=torch.nn.Linear)  # train takes any nn.Module
    history = train(
        model, x, y, make_criterion("sum"), make_optimizer("SGD", model.parameters(), lr=0.01), 50
    )
    assert history.bias is None
    assert history.to_dict()["bias"] is None
    # through the origin the lesson's data gives w -> 2 (closed form: Σxy / Σx²)
    assert history.weight.item() == pytest.approx(float((x * y).sum() / (x * x).sum()), abs=1e-3)


# --- LBFGS: the closure path -----------------------------------------------------------


def test_lbfgs_through_train_matches_a_hand_written_closure_loop():
    x, y = linreg.synthetic_data([2.0, -1.0], 0.5, n=50, noise=0.1, seed=3)
    criterion = make_criterion("mean")
    epochs = 10

    model = seeded(0, 2)
    history = train(model, x, y, criterion, make_optimizer("LBFGS", model.parameters()), epochs)

    reference = seeded(0, 2)
    optimizer = torch.optim.LBFGS(reference.parameters())
    losses, calls = [], [0]
    for _epoch in range(epochs):

        def closure():
            optimizer.zero_grad()
            loss = criterion(reference(x), y)
            loss.backward()
            calls[0] += 1
            return loss

        losses.append(optimizer.step(closure).item())

    assert history.losses == losses
    assert history.step_losses == losses
    assert history.loss_evaluations == calls[0]
    assert history.loss_evaluations > epochs
    assert history.final_loss == full_data_loss(reference, x, y, criterion)
    assert torch.equal(history.weight, reference.linear.weight.detach())
    assert torch.equal(history.bias, reference.linear.bias.detach())

    coef, optimum = closed_form(x, y)
    assert history.losses[-1] < history.losses[0]
    assert history.losses[-1] == pytest.approx(optimum, rel=1e-4)
    np.testing.assert_allclose(history.weight.flatten().numpy(), coef[:2, 0], atol=1e-4)
    np.testing.assert_allclose(history.bias.numpy(), coef[2], atol=1e-4)


# --- minibatches -----------------------------------------------------------------------


def _sgd_run(x, y, reduction="sum", epochs=4, batch_size=None, init_seed=0, **kwargs):
    model = seeded(init_seed, x.shape[1], y.shape[1])
    optimizer = make_optimizer("SGD", model.parameters(), lr=0.01)
    history = train(model, x, y, make_criterion(reduction), optimizer, epochs, batch_size, **kwargs)
    return history, model


@pytest.mark.parametrize(("n", "batch_size"), [(10, 3), (10, 5), (10, 1), (7, 10), (12, 12)])
def test_number_of_steps(n, batch_size):
    x, y = linreg.synthetic_data([1.0], 0.0, n=n, noise=0.1, seed=1)
    epochs = 3
    history, _ = _sgd_run(x, y, epochs=epochs, batch_size=batch_size, seed=0)
    assert len(history.step_losses) == epochs * math.ceil(n / batch_size)
    assert history.loss_evaluations == len(history.step_losses)
    assert len(history.losses) == epochs


@pytest.mark.parametrize("reduction", ["sum", "mean"])
@pytest.mark.parametrize("extra_rows", [0, 1, 100])
def test_one_batch_of_all_rows_equals_full_batch(reduction, extra_rows):
    # one batch holds every row, shuffled: the same loss and gradient up to rounding
    x, y = linreg.synthetic_data([0.7, 1.2], -0.4, n=9, noise=0.2, seed=2)
    full, _ = _sgd_run(x, y, reduction, epochs=20)
    batched, _ = _sgd_run(x, y, reduction, epochs=20, batch_size=x.shape[0] + extra_rows, seed=0)
    assert len(batched.step_losses) == len(full.step_losses) == 20
    assert batched.losses == pytest.approx(full.losses, rel=1e-5)
    torch.testing.assert_close(batched.weight, full.weight)
    torch.testing.assert_close(batched.bias, full.bias)


@pytest.mark.parametrize("reduction", ["sum", "mean"])
@pytest.mark.parametrize("seed", [0, 5])
def test_minibatches_equal_a_hand_written_loop(reduction, seed):
    # the documented order: one randperm per epoch from a generator seeded with `seed`
    x, y = linreg.synthetic_data([0.7, 1.2], -0.4, n=10, noise=0.2, seed=2)
    epochs, batch_size = 3, 4
    history, model = _sgd_run(x, y, reduction, epochs, batch_size, seed=seed)

    reference = seeded(0, 2, 1)
    generator = torch.Generator().manual_seed(seed)
    batches = []
    for _epoch in range(epochs):
        order = torch.randperm(10, generator=generator)
        index = [order[i : i + batch_size] for i in range(0, 10, batch_size)]
        batches.append([(x[i], y[i]) for i in index])
    expected = hand_loop(
        reference,
        batches,
        make_criterion(reduction),
        torch.optim.SGD(reference.parameters(), lr=0.01),
    )
    assert history.step_losses == expected
    assert torch.equal(model.linear.weight, reference.linear.weight)
    assert torch.equal(model.linear.bias, reference.linear.bias)


@pytest.mark.parametrize("seed", [0, 5])
def test_shuffled_minibatches_follow_linreg_minibatches_with_the_same_seed(seed):
    x, y = linreg.synthetic_data([0.7, 1.2], -0.4, n=11, noise=0.2, seed=2)
    epochs, batch_size = 3, 4
    history, model = _sgd_run(x, y, "mean", epochs, batch_size, seed=seed)

    reference = seeded(0, 2, 1)
    generator = torch.Generator().manual_seed(seed)
    batches = [list(linreg.minibatches(x, y, batch_size, generator=generator)) for _ in range(3)]
    expected = hand_loop(
        reference, batches, make_criterion("mean"), torch.optim.SGD(reference.parameters(), lr=0.01)
    )
    assert history.step_losses == expected
    assert torch.equal(model.linear.weight, reference.linear.weight)


@pytest.mark.parametrize(("n", "batch_size"), [(10, 3), (10, 5), (7, 2), (5, 1)])
def test_epoch_loss_from_step_losses(n, batch_size):
    x, y = linreg.synthetic_data([1.0, -2.0], 0.5, n=n, noise=0.3, seed=8)
    epochs = 3
    steps = math.ceil(n / batch_size)
    sizes = [min(batch_size, n - start) for start in range(0, n, batch_size)]

    summed, _ = _sgd_run(x, y, "sum", epochs, batch_size, seed=1)
    mean, _ = _sgd_run(x, y, "mean", epochs, batch_size, seed=1)
    for epoch in range(epochs):
        chunk = summed.step_losses[epoch * steps : (epoch + 1) * steps]
        assert summed.losses[epoch] == pytest.approx(math.fsum(chunk), rel=1e-12)
        chunk = mean.step_losses[epoch * steps : (epoch + 1) * steps]
        weighted = math.fsum(loss * size for loss, size in zip(chunk, sizes, strict=True)) / n
        assert mean.losses[epoch] == pytest.approx(weighted, rel=1e-12)


def test_minibatch_seed_determines_the_run():
    x, y = linreg.synthetic_data([1.0, -2.0], 0.5, n=12, noise=0.3, seed=8)
    first, first_model = _sgd_run(x, y, "sum", 3, 5, seed=11)
    again, again_model = _sgd_run(x, y, "sum", 3, 5, seed=11)
    other, other_model = _sgd_run(x, y, "sum", 3, 5, seed=12)
    assert first.step_losses == again.step_losses
    assert torch.equal(first_model.linear.weight, again_model.linear.weight)
    assert first.step_losses != other.step_losses
    assert not torch.equal(first_model.linear.weight, other_model.linear.weight)


def test_seed_leaves_the_global_rng_alone():
    x, y = linreg.synthetic_data([1.0], 0.5, n=12, noise=0.3, seed=8)
    model = seeded(0)
    optimizer = make_optimizer("SGD", model.parameters(), lr=0.01)
    before = torch.random.get_rng_state()
    train(model, x, y, make_criterion("sum"), optimizer, 3, batch_size=5, seed=1)
    assert torch.equal(torch.random.get_rng_state(), before)


def test_without_seed_the_global_rng_shuffles():
    # the counterpart of the test above: shuffling does draw, from the global RNG here
    x, y = linreg.synthetic_data([1.0], 0.5, n=12, noise=0.3, seed=8)
    with torch.random.fork_rng(devices=[]):
        model = seeded(0)
        optimizer = make_optimizer("SGD", model.parameters(), lr=0.01)
        before = torch.random.get_rng_state()
        train(model, x, y, make_criterion("sum"), optimizer, 3, batch_size=5)
        assert not torch.equal(torch.random.get_rng_state(), before)


# --- callback --------------------------------------------------------------------------


def test_callback_is_called_once_per_epoch():
    x, y = linreg.lesson_data()
    model = seeded(0)
    calls = []
    history = train(
        model,
        x,
        y,
        make_criterion("sum"),
        make_optimizer("SGD", model.parameters(), lr=0.01),
        6,
        callback=lambda epoch, loss, m: calls.append((epoch, loss, m)),
    )
    assert [c[0] for c in calls] == list(range(6))
    assert [c[1] for c in calls] == history.losses
    assert all(c[2] is model for c in calls)
    assert history.stopped_early is False


def test_callback_returning_true_stops_early():
    x, y = linreg.lesson_data()
    model = seeded(0)
    weights = []

    def stop_at_three(epoch, loss, m):
        weights.append(m.linear.weight.detach().clone())
        return epoch == 3

    history = train(
        model,
        x,
        y,
        make_criterion("sum"),
        make_optimizer("SGD", model.parameters(), lr=0.01),
        50,
        callback=stop_at_three,
    )
    assert history.stopped_early is True
    assert len(history.losses) == 4
    assert len(weights) == 4
    # the run really stopped: no update after the callback asked to stop
    assert torch.equal(model.linear.weight.detach(), weights[-1])
    assert torch.equal(history.weight, weights[-1])


def test_callback_stopping_on_the_last_epoch_is_not_early():
    x, y = linreg.lesson_data()
    model = seeded(0)
    history = train(
        model,
        x,
        y,
        make_criterion("sum"),
        make_optimizer("SGD", model.parameters(), lr=0.01),
        5,
        callback=lambda epoch, loss, m: True if epoch == 4 else None,
    )
    assert len(history.losses) == 5
    assert history.stopped_early is False


# --- divergence ------------------------------------------------------------------------


@pytest.mark.parametrize(("reduction", "factor"), [("sum", 8.0), ("mean", 8.0), ("sum", 3.0)])
def test_divergence_names_epoch_lr_and_bound(reduction, factor):
    x, y = linreg.lesson_data()
    bound = stable_lr(x, reduction)
    lr = factor * bound
    model = seeded(0)
    optimizer = make_optimizer("SGD", model.parameters(), lr=lr)
    with pytest.raises(DivergenceError) as info:
        train(model, x, y, make_criterion(reduction), optimizer, epochs=1000)
    error = info.value
    assert isinstance(error, LinregError)
    losses = error.history.losses
    assert not math.isfinite(losses[-1])
    assert all(math.isfinite(loss) for loss in losses[:-1])
    message = str(error)
    assert f"epoch {len(losses) - 1}" in message
    assert f"lr={lr}" in message
    assert f"{bound:.4g}" in message
    assert f"reduction={reduction!r}" in message


def test_divergence_with_minibatches_says_they_need_less():
    x, y = linreg.synthetic_data([1.0], 0.5, n=12, noise=0.3, seed=8)
    bound = stable_lr(x, "sum")
    model = seeded(0)
    optimizer = make_optimizer("SGD", model.parameters(), lr=10 * bound)
    with pytest.raises(DivergenceError, match="minibatches need less") as info:
        train(model, x, y, make_criterion("sum"), optimizer, 1000, batch_size=4, seed=0)
    assert f"{bound:.4g}" in str(info.value)
    assert not math.isfinite(info.value.history.losses[-1])


def test_just_below_the_stable_bound_converges():
    # the bound in the message is the real one: just below it, full-batch SGD converges
    x, y = linreg.lesson_data()
    model = seeded(0)
    optimizer = make_optimizer("SGD", model.parameters(), lr=0.9 * stable_lr(x, "sum"))
    history = train(model, x, y, make_criterion("sum"), optimizer, 800)
    assert history.losses[-1] < 1e-6 * history.losses[0]


# --- bad input: refused before anything changes ----------------------------------------


def _lesson_case():
    x, y = linreg.lesson_data()
    model = seeded(0)
    return {
        "model": model,
        "x": x,
        "y": y,
        "criterion": make_criterion("sum"),
        "optimizer": make_optimizer("SGD", model.parameters(), lr=0.01),
        "epochs": 10,
    }


def _with(**changes):
    def build():
        case = _lesson_case()
        for key, value in changes.items():
            case[key] = value(case) if isinstance(value, types.FunctionType) else value
        return case

    return build


def _model(*args):
    def build(case):
        case["optimizer"] = None  # rebuilt below, from the new model
        return seeded(1, *args)

    return build


BAD_INPUTS = {
    "epochs 0": (_with(epochs=0), r"epochs must be a whole number >= 1, got 0"),
    "epochs -1": (_with(epochs=-1), r"epochs must be a whole number >= 1, got -1"),
    "epochs 2.5": (_with(epochs=2.5), r"epochs must be a whole number >= 1, got 2\.5"),
    "epochs True": (_with(epochs=True), r"epochs must be a whole number >= 1, got True"),
    "batch_size 0": (_with(batch_size=0), r"batch_size must be a whole number >= 1, got 0"),
    "batch_size True": (_with(batch_size=True), r"batch_size must be a whole number >= 1"),
    "x 1-D": (
        _with(x=torch.tensor([1.0, 2.0, 3.0])),
        r"x must be 2-D .* got shape \(3,\): use x\.reshape\(-1, 1\)",
    ),
    "y 1-D": (
        _with(y=torch.tensor([2.0, 4.0, 6.0])),
        r"y has shape \(3,\) .* broadcast .*\(3, 3\) .* use y\.reshape\(-1, 1\)",
    ),
    "y 1-D other length": (
        _with(y=torch.tensor([2.0, 4.0, 6.0, 8.0])),
        r"y must be 2-D .* got shape \(4,\): use y\.reshape\(-1, 1\)",
    ),
    "different lengths": (
        _with(y=torch.tensor([[2.0], [4.0], [6.0], [8.0]])),
        r"x has 3 rows but y has 4",
    ),
    "int x": (_with(x=torch.tensor([[1], [2], [3]])), r"x has dtype torch\.int64.*floating point"),
    "int y": (_with(y=torch.tensor([[2], [4], [6]])), r"y has dtype torch\.int64.*floating point"),
    "nan in x": (
        _with(x=torch.tensor([[1.0], [math.nan], [3.0]])),
        r"x holds 1 NaN or inf value\(s\), the first in row 1",
    ),
    "inf in x": (
        _with(x=torch.tensor([[1.0], [2.0], [-math.inf]])),
        r"x holds 1 NaN or inf value\(s\), the first in row 2",
    ),
    "nan in y": (
        _with(y=torch.tensor([[math.nan], [4.0], [6.0]])),
        r"y holds 1 NaN or inf value\(s\), the first in row 0",
    ),
    "inf in y": (
        _with(y=torch.tensor([[2.0], [math.inf], [6.0]])),
        r"y holds 1 NaN or inf value\(s\), the first in row 1",
    ),
    "empty": (_with(x=torch.empty(0, 1), y=torch.empty(0, 1)), r"x is empty"),
    "empty y": (_with(y=torch.empty(3, 0)), r"y is empty"),
    "in_features": (
        _with(model=_model(2)),
        r"model expects 2 input feature\(s\) but x has 1 column\(s\).*in_features=1",
    ),
    "out_features": (
        _with(model=_model(1, 2)),
        r"model predicts 2 output\(s\) .* y has 1 column\(s\).*out_features=1",
    ),
    "dtype": (
        _with(x=lambda c: c["x"].double(), y=lambda c: c["y"].double()),
        r"x is torch\.float64 but the model's weights are torch\.float32",
    ),
    "x and y dtypes": (
        _with(y=lambda c: c["y"].double()),
        r"x is torch\.float32 but y is torch\.float64",
    ),
    "reduction none": (
        _with(criterion=torch.nn.MSELoss(reduction="none")),
        r"reduction='none'.*use reduction='sum' or 'mean'",
    ),
    "other model's optimizer": (
        _with(optimizer=lambda c: torch.optim.SGD(seeded(9).parameters(), lr=0.01)),
        r"optimizer does not hold this model's parameters",
    ),
}


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_bad_input_is_refused_and_nothing_changes(name):
    build, pattern = BAD_INPUTS[name]
    case = build()
    model = case["model"]
    if case["optimizer"] is None:
        case["optimizer"] = make_optimizer("SGD", model.parameters(), lr=0.01)
    optimizer = case.pop("optimizer")
    # every tensor the optimizer holds, this model's or another's
    held = [p for group in optimizer.param_groups for p in group["params"]]
    before_model = snapshot(model)
    before_held = [p.detach().clone() for p in held]
    x_before, y_before = case["x"].clone(), case["y"].clone()

    with pytest.raises(LinregError, match=pattern):
        train(optimizer=optimizer, **case)

    assert unchanged(before_model, model)
    assert all(torch.equal(a, b.detach()) for a, b in zip(before_held, held, strict=True))
    assert all(p.grad is None for p in model.parameters())
    assert all(p.grad is None for p in held)
    assert optimizer.state_dict()["state"] == {}
    torch.testing.assert_close(case["x"], x_before, rtol=0, atol=0, equal_nan=True)
    torch.testing.assert_close(case["y"], y_before, rtol=0, atol=0, equal_nan=True)


# --- recovery --------------------------------------------------------------------------


@settings(max_examples=10, deadline=None, database=None)
@given(
    w=st.lists(
        st.floats(-3, 3, allow_nan=False, allow_infinity=False, width=32), min_size=1, max_size=3
    ),
    b=st.floats(-3, 3, allow_nan=False, allow_infinity=False, width=32),
    seed=st.integers(0, 2**16),
)
def test_sgd_recovers_the_true_line(w, b, seed):
    n, noise = 100, 0.01
    x, y = linreg.synthetic_data(w, b, n=n, noise=noise, seed=seed)
    lr = 0.5 * stable_lr(x, "mean")  # = 1 / λ_max of the Hessian: well inside the stable range
    model = seeded(seed, len(w))
    history = train(
        model, x, y, make_criterion("mean"), make_optimizer("SGD", model.parameters(), lr=lr), 100
    )
    found = np.append(history.weight.double().flatten().numpy(), history.bias.double().numpy())

    # gradient descent reaches the least-squares answer...
    coef, _ = closed_form(x, y)
    np.testing.assert_allclose(found, coef[:, 0], atol=1e-4)

    # ...which lies within a few standard errors of the truth: the standard error of each
    # coefficient is at most noise / sqrt(λ_min(XᵀX)), X with a column of ones.
    design = np.hstack([x.double().numpy(), np.ones((n, 1))])
    standard_error = noise / math.sqrt(np.linalg.eigvalsh(design.T @ design)[0])
    truth = np.array([*w, b])
    np.testing.assert_allclose(found, truth, atol=6 * standard_error + 1e-4)
