"""Tests for `linreg.checks`: one actionable message per mistake, valid input passed through."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch

from linreg import LinregError
from linreg.checks import check_data, check_features, check_positive_int

# --- check_features --------------------------------------------------------------------


@pytest.mark.parametrize(
    "x",
    [
        torch.tensor([[1.0], [2.0]]),
        torch.zeros(5, 3, dtype=torch.float64),
        torch.ones(1, 1, dtype=torch.float16),
        torch.randn(4, 2, generator=torch.Generator().manual_seed(0)),
        torch.tensor([[-1e30, 1e30]]),
        # finite, though their float32 sum overflows to inf
        torch.full((3, 2), torch.finfo(torch.float32).max),
    ],
)
def test_check_features_returns_valid_input_unchanged(x):
    before = x.clone()
    assert check_features(x) is x
    assert check_features(x, "y") is x
    assert torch.equal(x, before)


@pytest.mark.parametrize(
    ("value", "pattern"),
    [
        ([[1.0], [2.0]], r"x must be a torch\.Tensor, got list: use torch\.tensor\("),
        (np.ones((2, 1)), r"x must be a torch\.Tensor, got ndarray"),
        (3.0, r"x must be a torch\.Tensor, got float"),
        (None, r"x must be a torch\.Tensor, got NoneType"),
        (
            torch.tensor([1.0, 2.0]),
            r"x must be 2-D with shape \(N, in_features\), got shape \(2,\): "
            r"use x\.reshape\(-1, 1\) for a single feature",
        ),
        (torch.tensor(1.0), r"got shape \(\): use x\.reshape\(-1, 1\)"),
        (
            torch.zeros(4, 2, 3),
            r"x must be 2-D .* got shape \(4, 2, 3\): use x\.reshape\(x\.shape\[0\], -1\)",
        ),
        (torch.zeros(0, 1), r"x is empty \(shape \(0, 1\)\)"),
        (torch.zeros(3, 0), r"x is empty \(shape \(3, 0\)\)"),
        (torch.tensor([[1], [2]]), r"x has dtype torch\.int64.*use x\.float\(\)"),
        (torch.tensor([[True], [False]]), r"x has dtype torch\.bool"),
        (torch.tensor([[1.0], [math.nan]]), r"x holds 1 NaN or inf value\(s\), the first in row 1"),
        (
            torch.tensor([[1.0, 2.0], [math.inf, 3.0], [-math.inf, math.nan]]),
            r"x holds 3 NaN or inf value\(s\), the first in row 1",
        ),
    ],
)
def test_check_features_messages(value, pattern):
    with pytest.raises(LinregError, match=pattern):
        check_features(value)


def test_check_features_uses_the_given_name():
    with pytest.raises(LinregError, match=r"^y must be 2-D with shape \(N, out_features\)"):
        check_features(torch.zeros(2, 2, 2), "y")
    with pytest.raises(LinregError, match=r"use y\.reshape\(-1, 1\)"):
        check_features(torch.zeros(3), "y")
    with pytest.raises(LinregError, match=r"^inputs must be a torch\.Tensor"):
        check_features([1.0], "inputs")


# --- check_data ------------------------------------------------------------------------


def test_check_data_returns_the_same_objects():
    x = torch.tensor([[1.0], [2.0], [3.0]])
    y = torch.tensor([[2.0], [4.0], [6.0]])
    got_x, got_y = check_data(x, y)
    assert got_x is x
    assert got_y is y
    x2 = torch.zeros(4, 3, dtype=torch.float64)
    y2 = torch.zeros(4, 2, dtype=torch.float64)
    assert all(a is b for a, b in zip(check_data(x2, y2), (x2, y2), strict=True))


X3 = torch.tensor([[1.0], [2.0], [3.0]])


@pytest.mark.parametrize(
    ("x", "y", "pattern"),
    [
        (
            X3,
            torch.tensor([2.0, 4.0, 6.0]),
            r"y has shape \(3,\) but predictions have shape \(3, 1\): MSELoss would broadcast "
            r"them to \(3, 3\) and compute a wrong loss; use y\.reshape\(-1, 1\)",
        ),
        (
            X3,
            torch.tensor([2.0, 4.0]),
            r"y must be 2-D .* got shape \(2,\): use y\.reshape\(-1, 1\)",
        ),
        (X3, [[2.0], [4.0], [6.0]], r"y must be a torch\.Tensor, got list"),
        ([[1.0], [2.0], [3.0]], X3, r"x must be a torch\.Tensor, got list"),
        (torch.tensor([1.0, 2.0, 3.0]), X3, r"x must be 2-D.*x\.reshape\(-1, 1\)"),
        (torch.zeros(3, 1, 1), X3, r"x must be 2-D .* got shape \(3, 1, 1\)"),
        (X3, torch.zeros(3, 1, 1), r"y must be 2-D with shape \(N, out_features\)"),
        (X3, torch.zeros(2, 1), r"x has 3 rows but y has 2: give one target row per sample"),
        (X3, torch.tensor([[2], [4], [6]]), r"y has dtype torch\.int64.*use y\.float\(\)"),
        (X3, X3.double(), r"x is torch\.float32 but y is torch\.float64: .*y\.to\(x\.dtype\)"),
        (X3, torch.tensor([[2.0], [math.inf], [6.0]]), r"y holds 1 NaN or inf.*row 1"),
        (X3, torch.zeros(3, 0), r"y is empty"),
    ],
)
def test_check_data_messages(x, y, pattern):
    with pytest.raises(LinregError, match=pattern):
        check_data(x, y)


def test_the_one_dimensional_y_message_is_right_about_broadcasting():
    # the message claims (3, 1) against (3,) broadcasts to (3, 3): torch agrees
    x = X3
    y = torch.tensor([2.0, 4.0, 6.0])
    assert torch.broadcast_shapes(x.shape, y.shape) == (3, 3)


# --- check_positive_int ----------------------------------------------------------------


@pytest.mark.parametrize("value", [1, 2, 100, 10**12])
def test_check_positive_int_returns_the_value(value):
    assert check_positive_int(value, "epochs") is value


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0, "0"),
        (-1, "-1"),
        (2.5, "2.5"),
        (3.0, "3.0"),
        (True, "True"),
        (False, "False"),
        ("5", "'5'"),
        (None, "None"),
        (math.nan, "nan"),
    ],
)
def test_check_positive_int_refuses(value, shown):
    message = f"epochs must be a whole number >= 1, got {shown}"
    with pytest.raises(LinregError, match=f"^{re.escape(message)}$"):
        check_positive_int(value, "epochs")


def test_check_positive_int_uses_the_given_name():
    with pytest.raises(LinregError, match=r"^batch_size must be a whole number >= 1, got 0$"):
        check_positive_int(0, "batch_size")
