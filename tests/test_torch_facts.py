"""Every statement the torch annotation pages make about torch, checked against torch.

The pages print signatures, defaults, tables and warnings from the installed torch at
build time. Their prose also states facts (a shape rule, an initialisation bound, the
order of the SGD update, which arguments are deprecated); each one is asserted here, so
a torch upgrade that changes one fails the suite instead of leaving a page wrong.
"""

from __future__ import annotations

import inspect
import math
import warnings

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import linreg

EMPTY = inspect.Parameter.empty


def _defaults(cls: type) -> dict[str, object]:
    return {
        name: parameter.default for name, parameter in inspect.signature(cls).parameters.items()
    }


# --- torch.nn.Linear ------------------------------------------------------------------


def test_linear_signature_and_defaults() -> None:
    assert _defaults(torch.nn.Linear) == {
        "in_features": EMPTY,
        "out_features": EMPTY,
        "bias": True,
        "device": None,
        "dtype": None,
    }


@given(
    in_features=st.integers(1, 6),
    out_features=st.integers(1, 6),
    batch=st.lists(st.integers(1, 4), max_size=3),
)
@settings(max_examples=30, deadline=None)
def test_linear_maps_any_leading_shape(
    in_features: int, out_features: int, batch: list[int]
) -> None:
    layer = torch.nn.Linear(in_features, out_features)
    assert layer.weight.shape == (out_features, in_features)
    assert layer.bias.shape == (out_features,)
    x = torch.randn(*batch, in_features)
    y = layer(x)
    assert y.shape == (*batch, out_features)
    torch.testing.assert_close(y, x @ layer.weight.T + layer.bias)


def test_linear_refuses_a_wrong_last_dimension() -> None:
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        torch.nn.Linear(3, 2)(torch.randn(4, 2))


@pytest.mark.parametrize("in_features", [1, 4, 400])
def test_linear_initialisation_is_uniform_within_sqrt_k(in_features: int) -> None:
    torch.manual_seed(0)
    bound = math.sqrt(1 / in_features)
    layers = [torch.nn.Linear(in_features, 300) for _ in range(3)]
    for values in [
        torch.cat([layer.weight.flatten() for layer in layers]),
        torch.cat([layer.bias for layer in layers]),
    ]:
        assert values.abs().max().item() <= bound
        # A uniform distribution on [-bound, bound]: std bound/sqrt(3), edges nearly reached.
        assert values.std().item() == pytest.approx(bound / math.sqrt(3), rel=0.1)
        assert values.max().item() > 0.95 * bound
        assert values.min().item() < -0.95 * bound


def test_linear_without_bias_goes_through_the_origin() -> None:
    layer = torch.nn.Linear(3, 2, bias=False)
    assert layer.bias is None
    assert [name for name, _ in layer.named_parameters()] == ["weight"]
    x = torch.randn(5, 3)
    torch.testing.assert_close(layer(x), x @ layer.weight.T)
    torch.testing.assert_close(layer(torch.zeros(1, 3)), torch.zeros(1, 2))


# --- torch.nn.MSELoss -----------------------------------------------------------------


def test_mseloss_signature_and_defaults() -> None:
    assert _defaults(torch.nn.MSELoss) == {
        "size_average": None,
        "reduce": None,
        "reduction": "mean",
    }


@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=3), seed=st.integers(0, 1000))
@settings(max_examples=30, deadline=None)
def test_mseloss_formulas(shape: list[int], seed: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(*shape, generator=generator, dtype=torch.float64)
    y = torch.randn(*shape, generator=generator, dtype=torch.float64)
    squared = (x - y) ** 2
    torch.testing.assert_close(torch.nn.MSELoss(reduction="none")(x, y), squared)
    torch.testing.assert_close(torch.nn.MSELoss(reduction="sum")(x, y), squared.sum())
    # The mean runs over all elements, not over the first (batch) dimension.
    torch.testing.assert_close(torch.nn.MSELoss()(x, y), squared.sum() / x.numel())


def test_mseloss_broadcasts_n_by_1_against_n_with_a_warning_and_a_wrong_value() -> None:
    y_pred = torch.tensor([[2.0], [4.0], [6.0]])
    y_flat = torch.tensor([2.0, 4.0, 6.0])
    with pytest.warns(UserWarning, match="different to the input size"):
        wrong = torch.nn.MSELoss()(y_pred, y_flat)
    assert (y_pred - y_flat).shape == (3, 3)
    assert wrong.item() != 0
    assert torch.nn.MSELoss()(y_pred, y_flat.reshape(-1, 1)).item() == 0


@pytest.mark.parametrize("size_average", [None, True, False])
@pytest.mark.parametrize("reduce", [None, True, False])
def test_legacy_arguments_none_counts_as_true_and_they_override_reduction(
    size_average: bool | None, reduce: bool | None
) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loss = torch.nn.MSELoss(size_average=size_average, reduce=reduce, reduction="sum")
    legacy = size_average is not None or reduce is not None
    assert bool(caught) == legacy  # every use of a legacy argument warns
    if legacy:
        effective_average = True if size_average is None else size_average
        effective_reduce = True if reduce is None else reduce
        expected = "none" if not effective_reduce else "mean" if effective_average else "sum"
        assert loss.reduction == expected
        assert str(caught[0].message) == (
            "size_average and reduce args will be deprecated, "
            f"please use reduction='{expected}' instead."
        )
    else:
        assert loss.reduction == "sum"


def test_size_average_false_means_sum() -> None:
    with pytest.warns(UserWarning, match="reduction='sum'"):
        assert torch.nn.MSELoss(size_average=False).reduction == "sum"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_full_batch_sum_with_lr_equals_mean_with_n_lr(seed: int) -> None:
    x, y = linreg.synthetic_data([1.5, -2.0], 0.3, n=7, noise=0.1, seed=seed)
    n = y.numel()
    weights = []
    for reduction, lr in [("sum", 0.01), ("mean", 0.01 * n)]:
        torch.manual_seed(seed)
        model = torch.nn.Linear(2, 1)
        optimizer = torch.optim.SGD(model.parameters(), lr=lr)
        criterion = torch.nn.MSELoss(reduction=reduction)
        for _ in range(50):
            optimizer.zero_grad()
            criterion(model(x), y).backward()
            optimizer.step()
        weights.append(torch.cat([model.weight.flatten(), model.bias]).detach())
    torch.testing.assert_close(weights[0], weights[1], rtol=1e-5, atol=1e-6)


# --- torch.optim.SGD ------------------------------------------------------------------


def test_sgd_signature_defaults_and_keyword_only_arguments() -> None:
    parameters = inspect.signature(torch.optim.SGD).parameters
    assert _defaults(torch.optim.SGD) == {
        "params": EMPTY,
        "lr": 1e-3,
        "momentum": 0,
        "dampening": 0,
        "weight_decay": 0,
        "nesterov": False,
        "maximize": False,
        "foreach": None,
        "differentiable": False,
        "fused": None,
    }
    keyword_only = {n for n, p in parameters.items() if p.kind is p.KEYWORD_ONLY}
    assert keyword_only == {"maximize", "foreach", "differentiable", "fused"}


def test_sgd_without_lr_uses_the_default() -> None:
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)])
    assert optimizer.param_groups[0]["lr"] == 1e-3


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"lr": -0.1}, "Invalid learning rate"),
        ({"momentum": -0.9}, "Invalid momentum"),
        ({"weight_decay": -1.0}, "Invalid weight_decay"),
        ({"nesterov": True}, "Nesterov momentum requires a momentum and zero dampening"),
        ({"nesterov": True, "momentum": 0.9, "dampening": 0.1}, "Nesterov momentum requires"),
    ],
)
def test_sgd_validation_errors(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        torch.optim.SGD([torch.zeros(1, requires_grad=True)], **options)


def _sgd_steps(options: dict[str, object], steps: int = 5) -> torch.Tensor:
    torch.manual_seed(0)
    theta = torch.randn(4, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([theta], foreach=False, **options)
    for _ in range(steps):
        optimizer.zero_grad()
        ((theta**4).sum() + (theta**2).sum()).backward()
        optimizer.step()
    return theta.detach()


def test_maximize_flips_the_gradient_before_weight_decay() -> None:
    options = {"lr": 0.05, "maximize": True, "weight_decay": 0.5}
    torch.manual_seed(0)
    theta = torch.randn(4, dtype=torch.float64)
    first = [theta.clone()]
    reference = linreg.SGDReference(**options)  # sign flip first, as the page says
    for _ in range(5):
        (theta,) = reference.step([theta], [4 * theta**3 + 2 * theta])
    torch.testing.assert_close(_sgd_steps(options), theta, rtol=1e-12, atol=1e-12)
    # The other order (decay first, then flip) gives a different result: the page's
    # remark about older documentation is not vacuous.
    other = first[0]
    for _ in range(5):
        g = 4 * other**3 + 2 * other + 0.5 * other
        other = other + 0.05 * g
    assert not torch.allclose(other, theta)


def test_the_lesson_settings_are_plain_gradient_descent() -> None:
    torch.manual_seed(0)
    theta = torch.randn(4, dtype=torch.float64)
    expected = theta.clone()
    for _ in range(5):
        expected = expected - 0.01 * (4 * expected**3 + 2 * expected)
    torch.testing.assert_close(_sgd_steps({"lr": 0.01}), expected, rtol=1e-12, atol=1e-12)
