"""Tests for `linreg.compare`: several optimizers, one starting point."""

from __future__ import annotations

import copy
import math

import pytest
import torch

import linreg
from linreg import LinearModel, LinregError, compare, make_criterion, make_optimizer, train


def initial_model(seed, in_features=1, out_features=1):
    """The documented starting point: a LinearModel built right after manual_seed(seed)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return LinearModel(in_features, out_features)


def separate_run(name, x, y, seed, epochs, reduction="sum", batch_size=None, **hyperparameters):
    model = initial_model(seed, x.shape[1], y.shape[1])
    optimizer = make_optimizer(name, model.parameters(), **hyperparameters)
    return train(model, x, y, make_criterion(reduction), optimizer, epochs, batch_size, seed=seed)


ALL = ["SGD", "Adam", "RMSprop", "Adagrad", "LBFGS"]


@pytest.mark.parametrize("seed", [0, 3])
def test_all_optimizers_start_from_the_same_weights(seed):
    x, y = linreg.lesson_data()
    runs = compare(ALL, x, y, epochs=5, seed=seed)
    first = {name: history.losses[0] for name, history in runs.items()}
    assert len(set(first.values())) == 1
    # ...and that starting loss is the loss of the documented initial model
    model = initial_model(seed)
    with torch.no_grad():
        start = torch.nn.MSELoss(reduction="sum")(model(x), y).item()
    assert first["SGD"] == start


@pytest.mark.parametrize("seed", [0, 3, 11])
@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_sgd_in_compare_equals_a_separate_train_run(seed, reduction):
    x, y = linreg.synthetic_data([1.5, -0.5], 0.2, n=20, noise=0.1, seed=1)
    runs = compare(["SGD", "Adam"], x, y, epochs=30, lr=0.01, reduction=reduction, seed=seed)
    expected = separate_run("SGD", x, y, seed, 30, reduction, lr=0.01)
    assert runs["SGD"].losses == expected.losses
    assert torch.equal(runs["SGD"].weight, expected.weight)
    assert torch.equal(runs["SGD"].bias, expected.bias)
    adam = separate_run("Adam", x, y, seed, 30, reduction, lr=0.01)
    assert runs["Adam"].losses == adam.losses


def test_runs_do_not_share_a_model():
    # every optimizer starts from a copy: a second run is not continued from the first's end
    x, y = linreg.lesson_data()
    runs = compare(["SGD", "Adam"], x, y, epochs=20, seed=0)
    alone = compare(["Adam"], x, y, epochs=20, seed=0)
    assert runs["Adam"].losses == alone["Adam"].losses


def test_order_and_canonical_names():
    x, y = linreg.lesson_data()
    runs = compare(["rmsprop", "sgd", "ADAM", "lbfgs"], x, y, epochs=3)
    assert list(runs) == ["RMSprop", "SGD", "Adam", "LBFGS"]
    assert all(len(history.losses) == 3 for history in runs.values())
    reverse = compare(["lbfgs", "ADAM", "sgd", "rmsprop"], x, y, epochs=3)
    assert list(reverse) == ["LBFGS", "Adam", "SGD", "RMSprop"]
    for name in runs:
        assert reverse[name].losses == runs[name].losses


def test_mapping_passes_hyperparameters():
    x, y = linreg.lesson_data()
    plain = compare(["SGD"], x, y, epochs=20, seed=2)["SGD"]
    options = {"SGD": {"momentum": 0.9}, "Adam": {"lr": 0.05, "betas": (0.8, 0.9)}}
    kept = copy.deepcopy(options)
    runs = compare(options, x, y, epochs=20, seed=2)
    assert options == kept  # the caller's mapping is not modified

    momentum = separate_run("SGD", x, y, 2, 20, lr=0.01, momentum=0.9)
    assert runs["SGD"].losses == momentum.losses
    assert runs["SGD"].losses != plain.losses
    adam = separate_run("Adam", x, y, 2, 20, lr=0.05, betas=(0.8, 0.9))
    assert runs["Adam"].losses == adam.losses


def test_own_lr_wins_over_the_shared_lr():
    x, y = linreg.lesson_data()
    runs = compare({"SGD": {"lr": 0.001}}, x, y, epochs=10, lr=0.05, seed=0)
    assert runs["SGD"].losses == separate_run("SGD", x, y, 0, 10, lr=0.001).losses
    assert runs["SGD"].losses != separate_run("SGD", x, y, 0, 10, lr=0.05).losses


def test_compare_leaves_the_global_rng_alone():
    x, y = linreg.synthetic_data([1.0, 2.0], 0.5, n=12, noise=0.1, seed=0)
    before = torch.random.get_rng_state()
    compare(["SGD", "Adam"], x, y, epochs=3, seed=5)
    compare(["SGD", "Adam"], x, y, epochs=3, batch_size=5, seed=6)
    assert torch.equal(torch.random.get_rng_state(), before)


@pytest.mark.parametrize(
    ("names", "pattern"),
    [
        (["SGD", "Adamm"], r"unknown optimizer 'Adamm' \(did you mean 'Adam'\?\)"),
        (["Newton"], r"unknown optimizer 'Newton'.*choose one of: SGD, "),
        ({"SGD": {"betas": (0.9, 0.99)}}, r"SGD takes no argument 'betas'"),
    ],
)
def test_unknown_optimizer_or_argument(names, pattern):
    x, y = linreg.lesson_data()
    with pytest.raises(LinregError, match=pattern):
        compare(names, x, y, epochs=2)


def test_bad_data_is_refused():
    x, y = linreg.lesson_data()
    with pytest.raises(LinregError, match=r"y\.reshape\(-1, 1\)"):
        compare(["SGD"], x, y.flatten(), epochs=2)


@pytest.mark.parametrize("batch_size", [2, 4, 50])
def test_minibatch_compare(batch_size):
    x, y = linreg.synthetic_data([1.0, -1.0], 0.3, n=10, noise=0.1, seed=4)
    epochs, seed = 4, 7
    runs = compare(["SGD", "Adam"], x, y, epochs=epochs, batch_size=batch_size, seed=seed)
    for name, history in runs.items():
        assert len(history.losses) == epochs
        assert len(history.step_losses) == epochs * math.ceil(10 / batch_size)
        expected = separate_run(name, x, y, seed, epochs, batch_size=batch_size, lr=0.01)
        assert history.step_losses == expected.step_losses
        assert history.losses == expected.losses
    # both optimizers saw the batches in the same order: their first step is on the same batch
    assert runs["SGD"].step_losses[0] == runs["Adam"].step_losses[0]


def test_float64_data():
    x, y = linreg.synthetic_data([1.0, -1.0], 0.3, n=10, noise=0.1, seed=4)
    runs = compare(["SGD"], x.double(), y.double(), epochs=5, seed=0)
    assert runs["SGD"].weight.dtype == torch.float64
    model = initial_model(0, 2, 1).double()
    expected = train(
        model,
        x.double(),
        y.double(),
        make_criterion("sum"),
        make_optimizer("SGD", model.parameters(), lr=0.01),
        5,
    )
    assert runs["SGD"].losses == expected.losses


def test_compare_equals_the_homework_loop_bit_for_bit():
    # Tutorial 3's loop: one initial state_dict, a fresh model per optimizer, and a
    # closure for every optimizer (all of torch.optim accept one; only LBFGS needs it).
    x, y = linreg.lesson_data()
    criterion = torch.nn.MSELoss(reduction="sum")
    torch.manual_seed(0)
    initial = copy.deepcopy(LinearModel().state_dict())
    settings = {name: {"lr": 0.05} for name in linreg.OPTIMIZERS}
    settings["LBFGS"] = {"lr": 1, "line_search_fn": "strong_wolfe"}
    runs = compare(settings, x, y, epochs=15, seed=0)
    for name, options in settings.items():
        model = LinearModel()
        model.load_state_dict(initial)
        optimizer = getattr(torch.optim, name)(model.parameters(), **options)
        count = 0

        def closure(model=model, optimizer=optimizer):
            nonlocal count
            count += 1
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            return loss

        losses = [optimizer.step(closure).item() for _ in range(15)]
        assert runs[name].losses == losses, name
        assert torch.equal(runs[name].weight, model.linear.weight.detach()), name
        assert torch.equal(runs[name].bias, model.linear.bias.detach()), name
        assert runs[name].loss_evaluations == count, name
