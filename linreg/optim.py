"""Optimizers by name, and the SGD update rule written out with plain tensors."""

from __future__ import annotations

import difflib
import inspect
import math
from collections.abc import Iterable
from typing import Any

import torch

from linreg.checks import LinregError

__all__ = ["OPTIMIZERS", "SGDReference", "make_optimizer", "needs_closure"]

# Every torch.optim optimizer that fits a small dense regression problem. Left out:
# SparseAdam (sparse gradients only) and Muon (2-D hidden-layer weights only).
OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "SGD": torch.optim.SGD,
    "ASGD": torch.optim.ASGD,
    "Adagrad": torch.optim.Adagrad,
    "Adadelta": torch.optim.Adadelta,
    "Adam": torch.optim.Adam,
    "AdamW": torch.optim.AdamW,
    "Adamax": torch.optim.Adamax,
    "NAdam": torch.optim.NAdam,
    "RAdam": torch.optim.RAdam,
    "RMSprop": torch.optim.RMSprop,
    "Rprop": torch.optim.Rprop,
    "LBFGS": torch.optim.LBFGS,
}
"""The optimizers `make_optimizer` builds, by name (any case), and their torch classes."""


def canonical_name(name: str) -> str:
    """The key of `OPTIMIZERS` that matches `name`, ignoring case.

    Args:
        name: an optimizer's name in any letter case, e.g. `"adamw"`.

    Returns:
        The name as `OPTIMIZERS` spells it.

    Raises:
        LinregError: for an unknown name; the message suggests the closest one.

    Examples:
        >>> canonical_name("adamw")
        'AdamW'
    """
    by_lower = {key.lower(): key for key in OPTIMIZERS}
    key = by_lower.get(str(name).lower())
    if key is None:
        close = difflib.get_close_matches(str(name).lower(), by_lower, n=1)
        hint = f" (did you mean {by_lower[close[0]]!r}?)" if close else ""
        raise LinregError(
            f"unknown optimizer {name!r}{hint}; choose one of: {', '.join(OPTIMIZERS)}"
        )
    return key


def make_optimizer(
    name: str, params: Iterable[torch.Tensor], **hyperparameters: Any
) -> torch.optim.Optimizer:
    """Build a `torch.optim` optimizer by name, checking its hyperparameters first.

    Args:
        name: one of `OPTIMIZERS`, in any letter case (`"sgd"`, `"Adam"`, `"lbfgs"`).
        params: the parameters to optimize, usually `model.parameters()`.
        **hyperparameters: keyword arguments of that optimizer, e.g. `lr=0.01`,
            `momentum=0.9`. Torch's defaults apply to the rest.

    Returns:
        The optimizer.

    Raises:
        LinregError: for an unknown name, an argument that optimizer does not take,
            a negative or non-finite `lr`, or a combination torch rejects (the
            message is torch's).

    Examples:
        >>> model = torch.nn.Linear(1, 1)
        >>> make_optimizer("sgd", model.parameters(), lr=0.01)  # doctest: +ELLIPSIS
        SGD (...
        >>> make_optimizer("SGD", model.parameters(), lr=0.01, betas=(0.9, 0.99))
        Traceback (most recent call last):
        ...
        linreg.checks.LinregError: SGD takes no argument 'betas'; it takes: lr, momentum, \
dampening, weight_decay, nesterov, maximize, foreach, differentiable, fused
    """
    key = canonical_name(name)
    cls = OPTIMIZERS[key]
    signature = inspect.signature(cls.__init__)
    accepted = [p for p in signature.parameters if p not in {"self", "params"}]
    unknown = sorted(set(hyperparameters) - set(accepted))
    if unknown:
        raise LinregError(
            f"{key} takes no argument {unknown[0]!r}; it takes: {', '.join(accepted)}"
        )
    lr = hyperparameters.get("lr")
    if lr is not None and not _is_learning_rate(lr):
        raise LinregError(f"lr must be a finite number >= 0, got {lr!r}")
    try:
        return cls(params, **hyperparameters)
    except (ValueError, TypeError) as err:
        raise LinregError(f"{key}: {err}") from None


def _is_learning_rate(lr: object) -> bool:
    """Whether `lr` is a finite number >= 0 (a float, an int, a numpy or 0-d torch scalar)."""
    if isinstance(lr, (bool, str)):
        return False
    try:
        value = float(lr)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return math.isfinite(value) and value >= 0


def needs_closure(optimizer: torch.optim.Optimizer) -> bool:
    """Whether `optimizer.step` requires a closure that re-evaluates the loss (LBFGS).

    Args:
        optimizer: any `torch.optim.Optimizer`.

    Returns:
        `True` when `step` has a `closure` parameter without a default.

    Examples:
        >>> params = torch.nn.Linear(1, 1).parameters()
        >>> needs_closure(torch.optim.LBFGS(params))
        True
    """
    closure = inspect.signature(optimizer.step).parameters.get("closure")
    return closure is not None and closure.default is inspect.Parameter.empty


class SGDReference:
    r"""`torch.optim.SGD`'s update rule, written out with plain tensor arithmetic.

    For each parameter θ with gradient g, at step t (γ = lr, λ = weight_decay,
    μ = momentum, τ = dampening):

    1. g ← −g if `maximize`
    2. g ← g + λθ
    3. if μ ≠ 0: b ← g at t = 1, else b ← μb + (1 − τ)g;
       then g ← g + μb with `nesterov`, else g ← b
    4. θ ← θ − γg

    Step 1 comes first, as in torch's code: with `maximize` and weight decay, older
    versions of torch's documentation wrote it last (pytorch/pytorch#149476).

    Args:
        lr: the learning rate γ.
        momentum: the momentum factor μ.
        dampening: the dampening τ of the momentum.
        weight_decay: the L2 penalty λ.
        nesterov: use Nesterov momentum (needs μ > 0 and τ = 0).
        maximize: climb the objective instead of descending it.

    Raises:
        LinregError: for a negative value or Nesterov without momentum, as torch does.

    Examples:
        >>> sgd = SGDReference(lr=0.1, momentum=0.9)
        >>> sgd.step([torch.tensor([1.0])], [torch.tensor([2.0])])
        [tensor([0.8000])]
    """

    def __init__(
        self,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        maximize: bool = False,
    ) -> None:
        for name, value in [("lr", lr), ("momentum", momentum), ("weight_decay", weight_decay)]:
            if value < 0:
                raise LinregError(f"{name} must be >= 0, got {value}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise LinregError("Nesterov momentum requires a momentum and zero dampening")
        self.lr = lr
        self.momentum = momentum
        self.dampening = dampening
        self.weight_decay = weight_decay
        self.nesterov = nesterov
        self.maximize = maximize
        self.buffers: list[torch.Tensor | None] = []

    def step(self, params: list[torch.Tensor], grads: list[torch.Tensor]) -> list[torch.Tensor]:
        """Return the parameters after one update; the inputs are not modified.

        Args:
            params: the current parameters θ.
            grads: their gradients ∂L/∂θ, in the same order and shapes.

        Returns:
            The new parameters, as new tensors.
        """
        if not self.buffers:
            self.buffers = [None] * len(params)
        updated = []
        for i, (theta, g) in enumerate(zip(params, grads, strict=True)):
            if self.maximize:
                g = -g
            if self.weight_decay != 0:
                g = g + self.weight_decay * theta
            if self.momentum != 0:
                previous = self.buffers[i]
                buffer = (
                    g.clone()
                    if previous is None
                    else self.momentum * previous + (1 - self.dampening) * g
                )
                self.buffers[i] = buffer
                g = g + self.momentum * buffer if self.nesterov else buffer
            updated.append(theta - self.lr * g)
        return updated
