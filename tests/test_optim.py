"""Tests for linreg.optim: optimizers by name, their checks, and the SGD reference rule."""

from __future__ import annotations

import inspect
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import linreg
from linreg.optim import OPTIMIZERS, SGDReference, make_optimizer, needs_closure


def fresh_params():
    return [torch.nn.Parameter(torch.zeros(2, 3)), torch.nn.Parameter(torch.zeros(2))]


def signature_defaults(cls):
    """The keyword defaults of an optimizer's constructor, read from its signature."""
    return {
        name: parameter.default
        for name, parameter in inspect.signature(cls.__init__).parameters.items()
        if name not in {"self", "params"} and parameter.default is not inspect.Parameter.empty
    }


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_each_optimizer_is_the_torch_class_of_that_name(name):
    cls = OPTIMIZERS[name]
    assert issubclass(cls, torch.optim.Optimizer)
    assert cls is getattr(torch.optim, name)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
@pytest.mark.parametrize("spell", [str, str.lower, str.upper, str.swapcase])
def test_make_optimizer_builds_by_name_in_any_case(name, spell):
    params = fresh_params()
    optimizer = make_optimizer(spell(name), params)
    assert type(optimizer) is OPTIMIZERS[name]
    # It optimizes exactly the parameters given, in order.
    held = optimizer.param_groups[0]["params"]
    assert [id(p) for p in held] == [id(p) for p in params]


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_make_optimizer_keeps_torch_defaults(name):
    cls = OPTIMIZERS[name]
    group = make_optimizer(name, fresh_params()).param_groups[0]
    defaults = signature_defaults(cls)
    assert "lr" in defaults
    for key, default in defaults.items():
        if cls is torch.optim.LBFGS and key == "max_eval" and default is None:
            # Documented: max_eval defaults to max_iter * 1.25.
            assert group[key] == group["max_iter"] * 5 // 4
            continue
        assert group[key] == default, key


@pytest.mark.parametrize(
    ("name", "hyperparameters"),
    [
        ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01}),
        ("sgd", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "maximize": True}),
        ("Adam", {"lr": 0.003, "betas": (0.8, 0.95), "eps": 1e-6, "amsgrad": True}),
        ("adamw", {"lr": 0.002, "weight_decay": 0.3}),
        ("RMSprop", {"lr": 0.004, "alpha": 0.9, "momentum": 0.5, "centered": True}),
        ("Rprop", {"lr": 0.02, "etas": (0.4, 1.3), "step_sizes": (1e-5, 10.0)}),
        ("ASGD", {"lr": 0.03, "lambd": 1e-3, "t0": 100.0}),
        ("LBFGS", {"lr": 0.5, "max_iter": 7, "history_size": 5, "line_search_fn": "strong_wolfe"}),
        ("Adagrad", {"lr": 0.2, "lr_decay": 0.01}),
        ("Adadelta", {"lr": 0.7, "rho": 0.8}),
    ],
)
def test_make_optimizer_passes_hyperparameters(name, hyperparameters):
    optimizer = make_optimizer(name, fresh_params(), **hyperparameters)
    group = optimizer.param_groups[0]
    for key, value in hyperparameters.items():
        assert group[key] == value, key
    # The ones not given keep torch's default.
    for key, default in signature_defaults(type(optimizer)).items():
        if key not in hyperparameters and default is not None:
            assert group[key] == default, key


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [("sgdd", "SGD"), ("adamm", "Adam"), ("lbfg", "LBFGS"), ("rmsprp", "RMSprop")],
)
def test_unknown_optimizer_suggests_close_match_and_lists_names(name, suggestion):
    with pytest.raises(linreg.LinregError) as info:
        make_optimizer(name, fresh_params())
    message = str(info.value)
    assert f"did you mean {suggestion!r}" in message
    for valid in OPTIMIZERS:
        assert valid in message


def test_unknown_optimizer_far_from_any_name_has_no_suggestion():
    with pytest.raises(linreg.LinregError) as info:
        make_optimizer("gradient-descent-please", fresh_params())
    assert "did you mean" not in str(info.value)
    assert "SGD" in str(info.value)


@pytest.mark.parametrize(
    ("name", "bad_argument"),
    [("SGD", "betas"), ("Adam", "momentum"), ("LBFGS", "weight_decay"), ("Rprop", "eps")],
)
def test_unknown_hyperparameter_is_named_with_the_accepted_ones(name, bad_argument):
    with pytest.raises(linreg.LinregError) as info:
        make_optimizer(name, fresh_params(), lr=0.1, **{bad_argument: 0.5})
    message = str(info.value)
    assert repr(bad_argument) in message
    for accepted in signature_defaults(OPTIMIZERS[name]):
        assert accepted in message


@pytest.mark.parametrize("lr", [-0.1, -1e-12, math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("name", ["SGD", "Adam", "LBFGS"])
def test_negative_or_non_finite_lr_is_refused(name, lr):
    with pytest.raises(linreg.LinregError, match="lr"):
        make_optimizer(name, fresh_params(), lr=lr)


def test_zero_lr_is_accepted():
    # lr = 0 is valid for torch (a frozen run), so it must stay valid here.
    assert make_optimizer("SGD", fresh_params(), lr=0.0).param_groups[0]["lr"] == 0.0


@pytest.mark.parametrize(
    "hyperparameters",
    [
        {"lr": 0.1, "nesterov": True},
        {"lr": 0.1, "nesterov": True, "momentum": 0.9, "dampening": 0.5},
    ],
)
def test_torch_validation_surfaces_as_linreg_error_with_torch_message(hyperparameters):
    with pytest.raises(ValueError, match="Nesterov") as torch_info:
        torch.optim.SGD(fresh_params(), **hyperparameters)
    with pytest.raises(linreg.LinregError) as info:
        make_optimizer("SGD", fresh_params(), **hyperparameters)
    assert str(torch_info.value) in str(info.value)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_needs_closure_only_for_lbfgs(name):
    optimizer = OPTIMIZERS[name](fresh_params())
    assert needs_closure(optimizer) is (name == "LBFGS")


# --- SGDReference against torch.optim.SGD ------------------------------------------

# A fixed, well-conditioned quadratic: f(W, v) = ½‖A·vec(W) − c‖² + ½‖v − d‖² + (Σ W)·(Σ v).
# The cross term couples the two parameters so each gradient depends on both.
_QUADRATIC = torch.Generator().manual_seed(0)
A = torch.randn(6, 6, generator=_QUADRATIC, dtype=torch.float64) / 3
C = torch.randn(6, generator=_QUADRATIC, dtype=torch.float64)
D = torch.randn(2, generator=_QUADRATIC, dtype=torch.float64)


def objective(weight, vector):
    return (
        0.5 * ((A @ weight.reshape(-1) - C) ** 2).sum()
        + 0.5 * ((vector - D) ** 2).sum()
        + 0.1 * weight.sum() * vector.sum()
    )


@settings(max_examples=40, deadline=None)
@given(
    lr=st.floats(min_value=1e-4, max_value=0.5),
    momentum=st.one_of(st.just(0.0), st.floats(min_value=0.0, max_value=0.99)),
    dampening=st.one_of(st.just(0.0), st.floats(min_value=0.0, max_value=1.0)),
    weight_decay=st.one_of(st.just(0.0), st.floats(min_value=0.0, max_value=0.5)),
    nesterov=st.booleans(),
    maximize=st.booleans(),
    seed=st.integers(min_value=0, max_value=2**31 - 1),
)
def test_sgd_reference_matches_torch_sgd_step_by_step(
    lr, momentum, dampening, weight_decay, nesterov, maximize, seed
):
    # torch only accepts Nesterov with momentum and zero dampening.
    nesterov = nesterov and momentum > 0 and dampening == 0
    hyperparameters = {
        "lr": lr,
        "momentum": momentum,
        "dampening": dampening,
        "weight_decay": weight_decay,
        "nesterov": nesterov,
        "maximize": maximize,
    }
    generator = torch.Generator().manual_seed(seed)
    start = [
        torch.randn(2, 3, generator=generator, dtype=torch.float64),
        torch.randn(2, generator=generator, dtype=torch.float64),
    ]
    params = [torch.nn.Parameter(p.clone()) for p in start]
    optimizer = torch.optim.SGD(params, foreach=False, **hyperparameters)
    reference = SGDReference(**hyperparameters)
    ours = [p.clone() for p in start]

    for _ in range(6):
        optimizer.zero_grad()
        objective(*params).backward()
        grads = [p.grad.detach().clone() for p in params]
        before = [p.detach().clone() for p in params]
        optimizer.step()
        ours = reference.step(ours, grads)
        for mine, theirs in zip(ours, params, strict=True):
            torch.testing.assert_close(mine, theirs.detach(), rtol=1e-12, atol=1e-12)
        # Guard the oracle: the step really moved the parameters.
        assert any(not torch.equal(b, p.detach()) for b, p in zip(before, params, strict=True))


def test_sgd_reference_does_not_modify_its_inputs():
    theta, grad = torch.tensor([1.0, -2.0]), torch.tensor([0.5, 0.25])
    theta_before, grad_before = theta.clone(), grad.clone()
    (updated,) = SGDReference(lr=0.1, momentum=0.9, weight_decay=0.1).step([theta], [grad])
    assert torch.equal(theta, theta_before)
    assert torch.equal(grad, grad_before)
    assert not torch.equal(updated, theta)


@pytest.mark.parametrize(
    ("hyperparameters", "torch_says", "linreg_says"),
    [
        ({"nesterov": True}, "Nesterov", "Nesterov"),
        ({"nesterov": True, "momentum": 0.0}, "Nesterov", "Nesterov"),
        ({"nesterov": True, "momentum": 0.9, "dampening": 0.1}, "Nesterov", "Nesterov"),
        ({"lr": -0.1}, "learning rate", "lr"),
        ({"momentum": -0.5}, "momentum", "momentum"),
        ({"weight_decay": -1e-3}, "weight_decay", "weight_decay"),
    ],
)
def test_sgd_reference_rejects_what_torch_rejects(hyperparameters, torch_says, linreg_says):
    with pytest.raises(ValueError, match=torch_says):
        torch.optim.SGD(fresh_params(), **hyperparameters)
    with pytest.raises(linreg.LinregError, match=linreg_says):
        SGDReference(**hyperparameters)


def test_sgd_reference_accepts_nesterov_with_momentum_like_torch():
    torch.optim.SGD(fresh_params(), momentum=0.9, nesterov=True)
    reference = SGDReference(momentum=0.9, nesterov=True)
    assert reference.nesterov
