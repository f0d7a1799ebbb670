"""Tests for linreg.loss: the reduction, the legacy arguments and the MSE criterion."""

from __future__ import annotations

import itertools
import re
import warnings

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import linreg
from linreg.loss import REDUCTIONS, legacy_reduction, make_criterion

LEGACY_VALUES = [None, True, False]
LEGACY_CASES = [
    (size_average, reduce, reduction)
    for size_average, reduce in itertools.product(LEGACY_VALUES, LEGACY_VALUES)
    for reduction in REDUCTIONS
]


def torch_reduction_and_warnings(size_average, reduce, reduction):
    """What torch itself does with these arguments: the reduction and its warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        criterion = nn.MSELoss(size_average=size_average, reduce=reduce, reduction=reduction)
    return criterion.reduction, caught


@pytest.mark.parametrize(("size_average", "reduce", "reduction"), LEGACY_CASES)
def test_legacy_reduction_maps_like_torch(size_average, reduce, reduction):
    expected, _ = torch_reduction_and_warnings(size_average, reduce, reduction)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert legacy_reduction(size_average, reduce, reduction) == expected


@pytest.mark.parametrize(("size_average", "reduce", "reduction"), LEGACY_CASES)
def test_legacy_reduction_warns_exactly_like_torch(size_average, reduce, reduction):
    _, torch_warnings = torch_reduction_and_warnings(size_average, reduce, reduction)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        legacy_reduction(size_average, reduce, reduction)
    ours = [(w.category, str(w.message)) for w in caught]
    theirs = [(w.category, str(w.message)) for w in torch_warnings]
    assert ours == theirs
    # Guard the oracle: torch warns exactly when a legacy argument is given.
    given_legacy = size_average is not None or reduce is not None
    assert len(theirs) == (1 if given_legacy else 0)
    if given_legacy:
        assert theirs[0][0] is UserWarning


@pytest.mark.parametrize(("size_average", "reduce"), [(None, True), (True, None), (True, True)])
def test_legacy_reduction_warn_false_is_silent(size_average, reduce):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        legacy_reduction(size_average, reduce, warn=False)
    assert caught == []


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        # The legacy arguments win over `reduction`, whatever it says.
        ({"reduction": "sum", "reduce": False}, "none"),
        ({"reduction": "none", "size_average": False}, "sum"),
        ({"reduction": "sum", "size_average": True}, "mean"),
        ({"reduction": "none", "reduce": True}, "mean"),
        ({"reduction": "mean", "size_average": False, "reduce": False}, "none"),
    ],
)
def test_legacy_arguments_override_reduction(kwargs, expected):
    torch_result, _ = torch_reduction_and_warnings(
        kwargs.get("size_average"), kwargs.get("reduce"), kwargs["reduction"]
    )
    assert torch_result == expected  # the oracle agrees with the expectation
    with pytest.warns(UserWarning, match=f"reduction='{expected}'"):
        assert legacy_reduction(**kwargs) == expected


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_make_criterion_builds_mse_loss_with_reduction(reduction):
    criterion = make_criterion(reduction)
    assert isinstance(criterion, nn.MSELoss)
    assert criterion.reduction == reduction


@pytest.mark.parametrize(
    ("size_average", "reduce"),
    [
        (sa, r)
        for sa, r in itertools.product(LEGACY_VALUES, LEGACY_VALUES)
        if (sa, r) != (None, None)
    ],
)
def test_make_criterion_legacy_arguments_warn_with_torch_message(size_average, reduce):
    expected, torch_warnings = torch_reduction_and_warnings(size_average, reduce, "mean")
    (torch_warning,) = torch_warnings
    with pytest.warns(UserWarning, match=f"^{re.escape(str(torch_warning.message))}$") as caught:
        criterion = make_criterion(size_average=size_average, reduce=reduce)
    assert len(caught) == 1
    assert criterion.reduction == expected


def test_legacy_warnings_point_at_the_callers_line():
    # stacklevel=2: the learner sees their own line, not linreg's internals.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        make_criterion(size_average=False)
        legacy_reduction(reduce=False)
    assert [w.filename for w in caught] == [__file__, __file__]


def test_make_criterion_without_legacy_arguments_does_not_warn():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        make_criterion("sum")
    assert caught == []


@pytest.mark.parametrize("bad", ["average", "Mean", "", "elementwise_mean"])
def test_unknown_reduction_raises_linreg_error_listing_choices(bad):
    with pytest.raises(linreg.LinregError) as info:
        legacy_reduction(reduction=bad)
    for choice in REDUCTIONS:
        assert repr(choice) in str(info.value)
    with pytest.raises(linreg.LinregError):
        make_criterion(bad)


def test_linreg_error_is_a_value_error():
    # Callers catching ValueError (as torch raises) keep working.
    with pytest.raises(ValueError, match="unknown reduction"):
        make_criterion("average")


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=12),
    k=st.integers(min_value=1, max_value=4),
    seed=st.integers(min_value=0, max_value=2**31 - 1),
    scale=st.floats(min_value=1e-3, max_value=1e3),
)
def test_sum_loss_and_gradient_are_n_times_k_times_mean(n, k, seed, scale):
    generator = torch.Generator().manual_seed(seed)
    target = scale * torch.randn(n, k, generator=generator, dtype=torch.float64)
    base = scale * torch.randn(n, k, generator=generator, dtype=torch.float64)

    losses, grads = {}, {}
    for reduction in ("sum", "mean"):
        prediction = base.clone().requires_grad_(True)
        loss = make_criterion(reduction)(prediction, target)
        loss.backward()
        losses[reduction], grads[reduction] = loss.detach(), prediction.grad

    elements = n * k
    torch.testing.assert_close(losses["sum"], elements * losses["mean"])
    torch.testing.assert_close(grads["sum"], elements * grads["mean"])
    # The gradient of the sum is 2 (prediction - target), by differentiating by hand.
    torch.testing.assert_close(grads["sum"], 2 * (base - target))
