"""The homework: several optimizers trained from the same initial weights."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from linreg.checks import LinregError, check_data
from linreg.loss import make_criterion
from linreg.model import LinearModel
from linreg.optim import canonical_name, make_optimizer
from linreg.train import History, train

__all__ = ["compare"]


def compare(
    optimizers: Sequence[str] | Mapping[str, Mapping[str, Any]],
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int = 100,
    lr: float = 0.01,
    reduction: str = "sum",
    batch_size: int | None = None,
    seed: int = 0,
) -> dict[str, History]:
    """Train one `LinearModel` per optimizer, all from the same initial weights.

    A fair comparison changes one thing only: the model is initialised once from
    `seed` and every optimizer starts from a copy of those weights (and, with
    minibatches, sees the batches in the same order).

    Args:
        optimizers: optimizer names, or a mapping from name to that optimizer's
            hyperparameters, e.g. `{"SGD": {"momentum": 0.9}, "LBFGS": {"lr": 1}}`.
        x: inputs of shape `(N, in_features)`.
        y: targets of shape `(N, out_features)`.
        epochs: passes over the data for each optimizer.
        lr: the learning rate for every optimizer that is not given its own.
        reduction: `'sum'` (the lesson) or `'mean'`.
        batch_size: `None` for full batch, else the minibatch size.
        seed: seeds the initial weights and the shuffling.

    Returns:
        A mapping from each optimizer's canonical name (`"Adam"`, `"SGD"`, ...) to
        its `History`, in the order given.

    Raises:
        LinregError: for an unknown optimizer or hyperparameter, bad data, or a
            run that diverges (`DivergenceError`).

    Examples:
        >>> from linreg.data import lesson_data
        >>> runs = compare(["SGD", "Adam"], *lesson_data(), epochs=10)
        >>> list(runs), len(runs["Adam"].losses)
        (['SGD', 'Adam'], 10)
        >>> runs["SGD"].losses[0] == runs["Adam"].losses[0]  # same start
        True
    """
    x, y = check_data(x, y)
    settings = (
        {name: dict(options) for name, options in optimizers.items()}
        if isinstance(optimizers, Mapping)
        else {name: {} for name in optimizers}
    )
    with torch.random.fork_rng(devices=[]):  # seed the weights, leave the global RNG alone
        torch.manual_seed(seed)
        initial = LinearModel(x.shape[1], y.shape[1]).to(x.dtype)
    histories: dict[str, History] = {}
    keys = [canonical_name(name) for name in settings]
    for key in keys:
        if keys.count(key) > 1:
            raise LinregError(f"{key} is listed twice: give each optimizer once")
    for key, options in zip(keys, settings.values(), strict=True):
        options.setdefault("lr", lr)
        model = copy.deepcopy(initial)
        optimizer = make_optimizer(key, model.parameters(), **options)
        histories[key] = train(
            model, x, y, make_criterion(reduction), optimizer, epochs, batch_size, seed=seed
        )
    return histories
