"""The loss: mean squared error, by `reduction` or by the legacy arguments.

The lesson writes `MSELoss(size_average=False)`. The two arguments `size_average` and
`reduce` are deprecated in favour of `reduction`; torch still
accepts them, warns, and lets them override `reduction`. `legacy_reduction`
reproduces that mapping so the site can show it and the tests can check it.
"""

from __future__ import annotations

import warnings
from typing import Literal

from torch import nn

from linreg.checks import LinregError

__all__ = ["REDUCTIONS", "Reduction", "check_reduction", "legacy_reduction", "make_criterion"]

Reduction = Literal["none", "mean", "sum"]
REDUCTIONS: tuple[Reduction, ...] = ("none", "mean", "sum")
"""The reductions `torch.nn.MSELoss` accepts, as `make_criterion` takes them."""

# torch's own wording (torch/nn/_reduction.py), so a learner searching for it finds both.
_LEGACY_WARNING = (
    "size_average and reduce args will be deprecated, please use reduction='{}' instead."
)


def check_reduction(reduction: str) -> Reduction:
    """Return `reduction` if it is one of `REDUCTIONS`.

    Args:
        reduction: `'none'`, `'mean'` or `'sum'`.

    Returns:
        The same string, typed as a `Reduction`.

    Raises:
        LinregError: for any other value.
    """
    for known in REDUCTIONS:
        if reduction == known:
            return known
    raise LinregError(
        f"unknown reduction {reduction!r}: choose 'mean' (average over all elements), "
        f"'sum', or 'none' (one loss per element)"
    )


def legacy_reduction(
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    *,
    warn: bool = True,
) -> Reduction:
    """Map the deprecated `size_average` / `reduce` arguments to a reduction, as torch does.

    If both are `None`, `reduction` is used. Otherwise a `None` counts as `True` and
    `reduction` is ignored: `reduce=False` gives `'none'`, `size_average=False`
    gives `'sum'`, anything else `'mean'`. Like torch, it then warns.

    Args:
        size_average: the legacy flag: average (`True`) or sum (`False`).
        reduce: the legacy flag: reduce to a scalar (`True`) or not (`False`).
        reduction: used only when both legacy arguments are `None`.
        warn: emit torch's `UserWarning` when a legacy argument is given.

    Returns:
        `'none'`, `'mean'` or `'sum'`.

    Raises:
        LinregError: if `reduction` is not one of `REDUCTIONS`.

    Examples:
        >>> legacy_reduction(size_average=False, warn=False)
        'sum'
        >>> legacy_reduction(reduce=False, reduction="sum", warn=False)
        'none'
    """
    if size_average is None and reduce is None:
        return check_reduction(reduction)
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    result: Reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
    if warn:
        warnings.warn(_LEGACY_WARNING.format(result), UserWarning, stacklevel=2)
    return result


def make_criterion(
    reduction: str = "mean",
    *,
    size_average: bool | None = None,
    reduce: bool | None = None,
) -> nn.MSELoss:
    """Build a mean-squared-error criterion.

    Args:
        reduction: `'mean'` averages the squared errors over all elements, `'sum'`
            adds them up (the lesson's choice), `'none'` keeps one per element.
        size_average: deprecated; see `legacy_reduction`. Overrides `reduction`.
        reduce: deprecated; see `legacy_reduction`. Overrides `reduction`.

    Returns:
        A `torch.nn.MSELoss` with the resolved reduction.

    Raises:
        LinregError: if `reduction` is unknown.

    Examples:
        >>> make_criterion("sum")
        MSELoss()
        >>> make_criterion("sum").reduction
        'sum'
    """
    resolved = legacy_reduction(size_average, reduce, reduction, warn=False)
    if size_average is not None or reduce is not None:
        warnings.warn(_LEGACY_WARNING.format(resolved), UserWarning, stacklevel=2)
    return nn.MSELoss(reduction=resolved)
