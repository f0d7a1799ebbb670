"""The model: ŷ = x·wᵀ + b, written as the lesson's `torch.nn.Module` template."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from linreg.checks import LinregError, check_features

__all__ = ["LinearModel", "predict"]


class LinearModel(nn.Module):
    """A linear model around one `nn.Linear` layer.

    Only `__init__` and `forward` are written: autograd records the forward pass
    and derives the backward pass from it, so there is no `backward` method.

    Args:
        in_features: the number of input features (columns of x).
        out_features: the number of outputs (columns of y).

    Examples:
        >>> _ = torch.manual_seed(0)
        >>> model = LinearModel()
        >>> model(torch.tensor([[1.0], [2.0]])).shape
        torch.Size([2, 1])
    """

    def __init__(self, in_features: int = 1, out_features: int = 1) -> None:
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Compute the predictions.

        Args:
            x: inputs of shape `(N, in_features)`.

        Returns:
            Predictions `y_pred` of shape `(N, out_features)`.
        """
        y_pred: torch.Tensor = self.linear(x)  # (N, in) @ (in, out) + (out,) -> (N, out)
        return y_pred


def predict(model: nn.Module, x: torch.Tensor | float | Sequence[float]) -> torch.Tensor:
    """Predict y for new inputs, without recording gradients.

    Args:
        model: a trained model, e.g. a `LinearModel`.
        x: inputs of shape `(N, in_features)`; a number or a flat list is taken as
            N samples of one feature when the model has a single input feature.

    Returns:
        Predictions of shape `(N, out_features)`.

    Raises:
        LinregError: if `x` has the wrong shape or number of features, or holds
            NaN or inf.

    Examples:
        >>> model = LinearModel()
        >>> with torch.no_grad():
        ...     _ = model.linear.weight.fill_(2.0), model.linear.bias.fill_(0.0)
        >>> predict(model, 4.0)
        tensor([[8.]])
    """
    weight = first_weight(model)
    in_features = weight.shape[-1]
    if not isinstance(x, torch.Tensor):
        x = torch.as_tensor(x, dtype=weight.dtype)
        if x.ndim <= 1 and in_features == 1:
            x = x.reshape(-1, 1)
    if x.ndim == 1:
        hint = "x.reshape(-1, 1)" if in_features == 1 else "x.reshape(1, -1) for one sample"
        raise LinregError(
            f"x has shape {tuple(x.shape)} but the model expects (N, {in_features}): use {hint}"
        )
    x = check_features(x, "x")
    if x.shape[1] != in_features:
        raise LinregError(
            f"the model expects {in_features} input feature(s) but x has {x.shape[1]} column(s)"
        )
    if x.dtype != weight.dtype:
        raise LinregError(
            f"x is {x.dtype} but the model's weights are {weight.dtype}: use x.to({weight.dtype})"
        )
    with torch.no_grad():
        y_pred: torch.Tensor = model(x)
    return y_pred


def first_weight(model: nn.Module) -> torch.Tensor:
    """The first parameter of `model` with a feature dimension: the weight matrix.

    `train` and `predict` read the model's `in_features` and dtype from it, so they
    work for any `nn.Module` whose first 2-D parameter is the first layer's weight.

    Args:
        model: e.g. a `LinearModel` or an `nn.Linear`.

    Returns:
        The parameter itself (not a copy), of shape `(out_features, in_features)`.

    Raises:
        LinregError: if `model` has no 2-D parameter.

    Examples:
        >>> first_weight(torch.nn.Linear(3, 2)).shape
        torch.Size([2, 3])
    """
    for parameter in model.parameters():
        if parameter.ndim == 2:
            return parameter
    raise LinregError(f"{type(model).__name__} has no weight matrix to read in_features from")
