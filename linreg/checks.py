"""Input checks that turn silent mistakes into one-line, actionable errors.

torch accepts many inputs that make linear regression quietly wrong: a target of
shape `(N,)` against predictions of shape `(N, 1)` broadcasts to `(N, N)` and gives
a wrong loss with only a warning; integer tensors fail deep inside `nn.Linear`;
NaN in the data turns every parameter into NaN. Every public function of
`linreg` runs these checks first, so the learner reads what to change instead
of a traceback.
"""

from __future__ import annotations

import torch

__all__ = ["LinregError", "check_data", "check_features", "check_positive_int"]


class LinregError(ValueError):
    """Bad input to `linreg`; the message says what is wrong and how to fix it."""


def check_features(x: object, name: str = "x") -> torch.Tensor:
    """Check that `x` is a finite, floating-point, non-empty 2-D tensor.

    Args:
        x: inputs of shape `(N, in_features)`.
        name: the argument's name, used in the error message.

    Returns:
        `x` itself, unchanged.

    Raises:
        LinregError: if `x` is not a tensor, not 2-D, empty, not floating point,
            or holds NaN or inf.

    Examples:
        >>> check_features(torch.tensor([1.0, 2.0]))
        Traceback (most recent call last):
        ...
        linreg.checks.LinregError: x must be 2-D with shape (N, in_features), got shape (2,): \
use x.reshape(-1, 1) for a single feature
    """
    if not isinstance(x, torch.Tensor):
        raise LinregError(
            f"{name} must be a torch.Tensor, got {type(x).__name__}: "
            f"use torch.tensor(..., dtype=torch.float32)"
        )
    if x.ndim != 2:
        hint = (
            f"use {name}.reshape(-1, 1) for a single feature"
            if x.ndim < 2
            else f"use {name}.reshape({name}.shape[0], -1)"
        )
        features = "in_features" if name == "x" else "out_features"
        raise LinregError(
            f"{name} must be 2-D with shape (N, {features}), got shape {tuple(x.shape)}: {hint}"
        )
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise LinregError(f"{name} is empty (shape {tuple(x.shape)}): give at least one sample")
    if not x.is_floating_point():
        raise LinregError(
            f"{name} has dtype {x.dtype}, but gradients need floating point: "
            f"use {name}.float(), or write the numbers as 1.0, 2.0, ..."
        )
    # One reduction for the common case: the sum is finite only if every value is
    # (a huge but finite x can overflow the sum, so look closer before refusing).
    if not bool(torch.isfinite(x.sum())) and not bool(torch.isfinite(x).all()):
        bad = ~torch.isfinite(x)
        row = int(bad.any(dim=1).nonzero()[0, 0])
        raise LinregError(
            f"{name} holds {int(bad.sum())} NaN or inf value(s), the first in row {row}: "
            f"drop or fill them before training"
        )
    return x


def check_data(x: object, y: object) -> tuple[torch.Tensor, torch.Tensor]:
    """Check inputs `x` and targets `y` for training.

    Both must be finite floating-point 2-D tensors with the same number of rows and
    the same dtype. A 1-D `y` is refused: against predictions of shape `(N, 1)` it
    would broadcast to `(N, N)` and give a wrong loss.

    Args:
        x: inputs of shape `(N, in_features)`.
        y: targets of shape `(N, out_features)`.

    Returns:
        `(x, y)`, unchanged.

    Raises:
        LinregError: if either fails `check_features`, or the two do not match.

    Examples:
        >>> x = torch.tensor([[1.0], [2.0], [3.0]])
        >>> check_data(x, torch.tensor([2.0, 4.0, 6.0]))
        Traceback (most recent call last):
        ...
        linreg.checks.LinregError: y has shape (3,) but predictions have shape (3, 1): \
MSELoss would broadcast them to (3, 3) and compute a wrong loss; use y.reshape(-1, 1)
    """
    x = check_features(x, "x")
    if isinstance(y, torch.Tensor) and y.ndim == 1 and y.shape[0] == x.shape[0]:
        n = x.shape[0]
        raise LinregError(
            f"y has shape ({n},) but predictions have shape ({n}, 1): MSELoss would broadcast "
            f"them to ({n}, {n}) and compute a wrong loss; use y.reshape(-1, 1)"
        )
    y = check_features(y, "y")
    if x.shape[0] != y.shape[0]:
        raise LinregError(
            f"x has {x.shape[0]} rows but y has {y.shape[0]}: give one target row per sample"
        )
    if x.dtype != y.dtype:
        raise LinregError(f"x is {x.dtype} but y is {y.dtype}: convert one, e.g. y = y.to(x.dtype)")
    return x, y


def check_positive_int(value: object, name: str) -> int:
    """Check that `value` is an integer >= 1 (bools are refused).

    Args:
        value: the number to check.
        name: the argument's name, used in the error message.

    Returns:
        `value` as an `int`.

    Raises:
        LinregError: if `value` is not a whole number of at least 1.

    Examples:
        >>> check_positive_int(0, "epochs")
        Traceback (most recent call last):
        ...
        linreg.checks.LinregError: epochs must be a whole number >= 1, got 0
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise LinregError(f"{name} must be a whole number >= 1, got {value!r}")
    return value
