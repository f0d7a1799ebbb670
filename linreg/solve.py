"""Reference answers: the closed-form least-squares fit and the stable learning rate."""

from __future__ import annotations

import torch

from linreg.checks import LinregError, check_data, check_features, check_positive_int
from linreg.loss import check_reduction

__all__ = ["fit_closed_form", "stable_lr"]


def _design(x: torch.Tensor, bias: bool) -> torch.Tensor:
    """Return x in float64, with a column of ones appended for the bias."""
    x64 = x.double()
    if not bias:
        return x64
    return torch.cat([x64, torch.ones(x.shape[0], 1, dtype=torch.float64)], dim=1)  # (N, in+1)


def fit_closed_form(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Solve least squares exactly with `torch.linalg.lstsq`.

    This is the answer gradient descent walks towards: the w and b that minimise
    the squared error (sum or mean: both have the same minimiser). Computed in
    float64, returned in the dtype of `x`.

    Args:
        x: inputs of shape `(N, in_features)`.
        y: targets of shape `(N, out_features)`.

    Returns:
        `(weight, bias)` shaped like `nn.Linear`'s: `(out_features, in_features)`
        and `(out_features,)`.

    Raises:
        LinregError: if the data fails `check_data`.

    Examples:
        >>> from linreg.data import lesson_data
        >>> w, b = fit_closed_form(*lesson_data())
        >>> print(f"w = {w.item():.4f}, b = {abs(b.item()):.4f}")
        w = 2.0000, b = 0.0000
    """
    x, y = check_data(x, y)
    # "gelsd" (SVD) gives the minimum-norm answer, as numpy does, also for rank-deficient x
    # such as a repeated column. The CPU default "gelsy" returned wrong fits there
    # (pytorch/pytorch#187411: its pivot array was not reset).
    design = _design(x, bias=True)
    solution = torch.linalg.lstsq(design, y.double(), driver="gelsd").solution  # (in+1, out)
    weight = solution[: x.shape[1]].T.to(x.dtype).contiguous()  # (out, in)
    return weight, solution[-1].to(x.dtype)  # (out,)


def stable_lr(
    x: torch.Tensor, reduction: str = "sum", bias: bool = True, out_features: int = 1
) -> float:
    """The largest learning rate at which full-batch gradient descent on MSE converges.

    The loss is quadratic in θ = (w, b), with Hessian H = 2·XᵀX for `'sum'` and
    2·XᵀX / (N·out_features) for `'mean'` (the mean runs over all N·out_features
    elements; X is x with a column of ones when there is a bias). Gradient descent
    θ ← θ − lr·∇L converges exactly when lr < 2 / λ_max(H); above it the error
    grows along the top eigenvector of H.

    Args:
        x: inputs of shape `(N, in_features)`.
        reduction: `'sum'` or `'mean'`, as in the criterion.
        bias: whether the model has a bias.
        out_features: the number of outputs (columns of y); matters for `'mean'`.

    Returns:
        2 / λ_max(H). For `'mean'` it is N·out_features times the bound for `'sum'`.

    Raises:
        LinregError: if `x` fails `check_features` or `reduction` is neither
            `'sum'` nor `'mean'`.

    Examples:
        >>> from linreg.data import lesson_data
        >>> x, _ = lesson_data()
        >>> round(stable_lr(x, "sum"), 4), round(stable_lr(x, "mean"), 4)
        (0.0601, 0.1803)
    """
    x = check_features(x, "x")
    if check_reduction(reduction) == "none":
        raise LinregError(
            "reduction 'none' gives one loss per element, not a scalar to descend: "
            "use 'sum' or 'mean'"
        )
    out_features = check_positive_int(out_features, "out_features")
    design = _design(x, bias)
    hessian = 2 * design.T @ design  # (p, p), p = in_features (+1 with a bias)
    if reduction == "mean":
        hessian = hessian / (x.shape[0] * out_features)
    largest = float(torch.linalg.eigvalsh(hessian)[-1])
    return 2.0 / largest
