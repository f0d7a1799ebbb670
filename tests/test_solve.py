"""Tests for linreg.solve: the closed-form fit and the stable learning rate."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import linreg
from linreg import (
    DivergenceError,
    LinearModel,
    fit_closed_form,
    lesson_data,
    make_criterion,
    make_optimizer,
    stable_lr,
    synthetic_data,
    train,
)


def numpy_lstsq(x, y):
    """The least-squares answer from numpy, independent of torch: (weight, bias)."""
    design = np.hstack([x.double().numpy(), np.ones((x.shape[0], 1))])
    solution, *_ = np.linalg.lstsq(design, y.double().numpy(), rcond=None)  # (p, out)
    in_features = x.shape[1]
    weight = torch.from_numpy(solution[:in_features].T.copy())
    return weight, torch.from_numpy(solution[in_features].copy())


# --- fit_closed_form ---------------------------------------------------------------


def test_closed_form_on_lesson_data_is_y_equals_2x():
    x, y = lesson_data()
    # The data lies exactly on a line, so the residual of the independent fit is zero.
    expected_w, expected_b = numpy_lstsq(x, y)
    assert np.allclose(x.double().numpy() @ expected_w.numpy().T + expected_b.numpy(), y.numpy())
    weight, bias = fit_closed_form(x, y)
    torch.testing.assert_close(weight.double(), expected_w, rtol=0, atol=1e-6)
    torch.testing.assert_close(bias.double(), expected_b, rtol=0, atol=1e-6)
    # That line is y = 2x: the lesson's answer.
    assert abs(weight.item() - 2.0) < 1e-6
    assert abs(bias.item()) < 1e-6


@settings(max_examples=25, deadline=None)
@given(
    n_features=st.integers(min_value=1, max_value=5),
    extra_rows=st.integers(min_value=1, max_value=60),
    noise=st.floats(min_value=0.0, max_value=2.0),
    true_bias=st.floats(min_value=-5.0, max_value=5.0),
    seed=st.integers(min_value=0, max_value=2**31 - 1),
)
def test_closed_form_matches_numpy_lstsq_on_synthetic_data(
    n_features, extra_rows, noise, true_bias, seed
):
    weights = torch.linspace(-3.0, 3.0, n_features).tolist()
    # At least in_features + 1 rows, so the problem has a unique solution.
    x, y = synthetic_data(weights, true_bias, n=n_features + 1 + extra_rows, noise=noise, seed=seed)
    weight, bias = fit_closed_form(x, y)
    expected_w, expected_b = numpy_lstsq(x, y)
    torch.testing.assert_close(weight.double(), expected_w, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(bias.double(), expected_b, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(("in_features", "out_features"), [(1, 1), (3, 1), (2, 4)])
def test_closed_form_shapes_match_nn_linear(in_features, out_features):
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(20, in_features, generator=generator)
    y = torch.randn(20, out_features, generator=generator)
    weight, bias = fit_closed_form(x, y)
    layer = torch.nn.Linear(in_features, out_features)
    assert weight.shape == layer.weight.shape
    assert bias.shape == layer.bias.shape
    # Each output column is its own least-squares problem.
    expected_w, expected_b = numpy_lstsq(x, y)
    torch.testing.assert_close(weight.double(), expected_w, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(bias.double(), expected_b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_closed_form_returns_the_dtype_of_x(dtype):
    x, y = lesson_data()
    weight, bias = fit_closed_form(x.to(dtype), y.to(dtype))
    assert weight.dtype == dtype
    assert bias.dtype == dtype


def test_closed_form_refuses_one_dimensional_y():
    x, y = lesson_data()
    with pytest.raises(linreg.LinregError, match=r"reshape\(-1, 1\)"):
        fit_closed_form(x, y.flatten())


def normal_equation_residual(x, y, weight, bias):
    """Xᵀ(Xθ − y): zero at every least-squares solution (the gradient of the loss)."""
    design = torch.cat([x.double(), torch.ones(x.shape[0], 1, dtype=torch.float64)], dim=1)
    theta = torch.cat([weight.double().T, bias.double().reshape(1, -1)], dim=0)
    return design.T @ (design @ theta - y.double())


@pytest.mark.parametrize("n", [6, 25])
def test_closed_form_with_a_repeated_column_is_least_squares(n):
    # The docstring promises rank-deficient x (a repeated column) is handled. Any
    # least-squares solution satisfies the normal equations; numpy's (SVD) answer is
    # the minimum-norm one, which splits the weight evenly over the two copies.
    # Several datasets, since a wrong answer may depend on memory left by earlier calls.
    for seed in range(8):
        x, y = synthetic_data([1.0, 2.0], 0.5, n=n, noise=0.1, seed=seed)
        x = torch.cat([x, x[:, :1]], dim=1)  # column 2 repeats column 0
        weight, bias = fit_closed_form(x, y)
        residual = normal_equation_residual(x, y, weight, bias)
        torch.testing.assert_close(residual, torch.zeros_like(residual), rtol=0, atol=1e-4)
        expected_w, expected_b = numpy_lstsq(x, y)
        torch.testing.assert_close(weight.double(), expected_w, rtol=0, atol=1e-5)
        torch.testing.assert_close(bias.double(), expected_b, rtol=0, atol=1e-5)


def test_long_full_batch_sgd_converges_to_closed_form():
    x, y = synthetic_data([2.0, -3.4, 0.7], 4.2, n=64, noise=0.5, seed=11)
    expected_w, expected_b = fit_closed_form(x, y)
    torch.manual_seed(0)
    model = LinearModel(in_features=3)
    optimizer = make_optimizer("SGD", model.parameters(), lr=0.1)
    history = train(model, x, y, make_criterion("mean"), optimizer, epochs=400)
    torch.testing.assert_close(history.weight, expected_w, rtol=0, atol=1e-3)
    torch.testing.assert_close(history.bias, expected_b, rtol=0, atol=1e-3)


# --- stable_lr -----------------------------------------------------------------------


def hessian_bound(x, reduction, bias=True, out_features=1):
    """2 / λ_max of the loss's Hessian in the flattened (W, b), computed by autograd."""
    x64 = x.double()
    n, in_features = x64.shape
    y = torch.zeros(n, out_features, dtype=torch.float64)  # the Hessian does not depend on y
    n_weight = out_features * in_features

    def loss(theta):
        weight = theta[:n_weight].reshape(out_features, in_features)
        prediction = x64 @ weight.T
        if bias:
            prediction = prediction + theta[n_weight:]
        return torch.nn.functional.mse_loss(prediction, y, reduction=reduction)

    size = n_weight + (out_features if bias else 0)
    hessian = torch.autograd.functional.hessian(loss, torch.zeros(size, dtype=torch.float64))
    return 2.0 / float(torch.linalg.eigvalsh(hessian)[-1])


@pytest.mark.parametrize("reduction", ["sum", "mean"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize(("in_features", "out_features"), [(1, 1), (3, 1), (2, 3)])
def test_stable_lr_is_two_over_largest_hessian_eigenvalue(
    reduction, bias, in_features, out_features
):
    x, _ = synthetic_data([1.0] * in_features, 0.5, n=30, seed=in_features)
    x = x * torch.linspace(0.5, 2.0, in_features)  # unequal scales, a non-trivial spectrum
    ours = stable_lr(x, reduction, bias=bias, out_features=out_features)
    expected = hessian_bound(x, reduction, bias=bias, out_features=out_features)
    assert ours == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("out_features", [1, 2, 5])
def test_stable_lr_mean_is_n_times_out_features_times_sum(bias, out_features):
    x, _ = synthetic_data([0.3, -1.2], 1.0, n=17, seed=2)
    n = x.shape[0]
    sum_bound = stable_lr(x, "sum", bias=bias, out_features=out_features)
    mean_bound = stable_lr(x, "mean", bias=bias, out_features=out_features)
    assert mean_bound == pytest.approx(n * out_features * sum_bound, rel=1e-12)
    # The sum's Hessian 2·XᵀX does not depend on the number of outputs.
    assert sum_bound == pytest.approx(stable_lr(x, "sum", bias=bias), rel=1e-12)


def run_sgd(x, y, reduction, lr, epochs):
    torch.manual_seed(0)
    model = LinearModel(in_features=x.shape[1], out_features=y.shape[1])
    optimizer = make_optimizer("SGD", model.parameters(), lr=lr)
    return train(model, x, y, make_criterion(reduction), optimizer, epochs=epochs)


def closed_form_loss(x, y, reduction):
    weight, bias = fit_closed_form(x.double(), y.double())
    prediction = x.double() @ weight.T + bias
    return float(make_criterion(reduction)(prediction, y.double()))


DATASETS = {
    "lesson": lesson_data,
    "synthetic": lambda: synthetic_data([1.5, -2.0], 0.7, n=40, noise=0.4, seed=5),
}


@pytest.mark.parametrize("reduction", ["sum", "mean"])
@pytest.mark.parametrize("dataset", sorted(DATASETS))
def test_sgd_just_below_stable_lr_converges(reduction, dataset):
    x, y = DATASETS[dataset]()
    lr = 0.95 * stable_lr(x, reduction)
    history = run_sgd(x, y, reduction, lr, epochs=400)
    best = closed_form_loss(x, y, reduction)
    assert history.losses[-1] < history.losses[0]
    # Close to the least-squares loss, the lowest any (w, b) can reach ...
    assert history.losses[-1] == pytest.approx(best, rel=1e-3, abs=1e-4)
    # ... and at the least-squares parameters.
    expected_w, expected_b = fit_closed_form(x, y)
    torch.testing.assert_close(history.weight, expected_w, rtol=0, atol=1e-3)
    torch.testing.assert_close(history.bias, expected_b, rtol=0, atol=1e-3)


@pytest.mark.parametrize("reduction", ["sum", "mean"])
@pytest.mark.parametrize("dataset", sorted(DATASETS))
def test_sgd_just_above_stable_lr_diverges(reduction, dataset):
    x, y = DATASETS[dataset]()
    bound = stable_lr(x, reduction)
    with pytest.raises(DivergenceError) as info:
        run_sgd(x, y, reduction, 1.05 * bound, epochs=5000)
    losses = info.value.history.losses
    assert max(losses[:-1]) > 1e6 * losses[0]  # it grew, it did not just hit a NaN
    # The message tells the learner the bound it crossed.
    assert f"{bound:.4g}" in str(info.value)


@pytest.mark.parametrize("reduction", ["none", "average", "Sum"])
def test_stable_lr_refuses_reductions_other_than_sum_and_mean(reduction):
    x, _ = lesson_data()
    with pytest.raises(linreg.LinregError, match="'sum'"):
        stable_lr(x, reduction)
