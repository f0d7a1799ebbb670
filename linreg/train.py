"""The training loop of the lesson: forward, loss, `zero_grad`, `backward`, `step`."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from torch import nn

from linreg.checks import LinregError, check_data, check_positive_int
from linreg.data import unchecked_minibatches
from linreg.distributed import combiner, gather
from linreg.model import first_weight
from linreg.optim import needs_closure
from linreg.solve import stable_lr

__all__ = ["Callback", "DivergenceError", "History", "train"]

Callback = Callable[[int, float, nn.Module], "bool | None"]
"""Called after each epoch as `callback(epoch, loss, model)`; return `True` to stop."""


@dataclass
class History:
    """What one training run did.

    Attributes:
        losses: one loss per epoch. Full batch: the loss computed in that epoch,
            before its update (what the lesson prints). Minibatches: the sum of the
            batch losses for `reduction='sum'`, their size-weighted mean otherwise.
        step_losses: one loss per update (equal to `losses` for full batch): the loss
            of the batch the update was computed from, before the update.
        full_losses: the loss on all the data, computed under `torch.no_grad()`: first
            for the initial parameters, then after every epoch, or after every update
            with `train(..., full_loss_every='update')`. Minibatch losses are noisy
            samples; these show how good the model is.
        weight: the final weight, shape `(out_features, in_features)`.
        bias: the final bias, shape `(out_features,)`, or `None` without one.
        loss_evaluations: forward passes through the loss that training made, closures
            included (LBFGS evaluates the loss several times per step); the
            evaluations behind `full_losses` are not counted.
        seconds: wall time of the loop, the evaluations behind `full_losses` included.
        stopped_early: the callback asked to stop before the last epoch.

    For a model wrapped in `DistributedDataParallel` every loss is the loss on all
    the data, the shards' losses combined over the processes (summed for
    `reduction='sum'`, averaged otherwise), so it is the same in every process.
    """

    losses: list[float] = field(default_factory=list)
    step_losses: list[float] = field(default_factory=list)
    full_losses: list[float] = field(default_factory=list)
    weight: torch.Tensor | None = None
    bias: torch.Tensor | None = None
    loss_evaluations: int = 0
    seconds: float = 0.0
    stopped_early: bool = False

    @property
    def final_loss(self) -> float:
        """The loss of the final parameters on all the data (NaN if none was computed).

        That is `full_losses[-1]`, computed after the last update. It is not
        `losses[-1]`, which for full batch is the loss before the last update and for
        minibatches the mean of the last epoch's batch losses.
        """
        return self.full_losses[-1] if self.full_losses else math.nan

    def to_dict(self) -> dict[str, Any]:
        """The history as plain Python values, ready for `json.dumps`."""
        return {
            "losses": list(self.losses),
            "step_losses": list(self.step_losses),
            "full_losses": list(self.full_losses),
            "weight": None if self.weight is None else self.weight.tolist(),
            "bias": None if self.bias is None else self.bias.tolist(),
            "loss_evaluations": self.loss_evaluations,
            "seconds": self.seconds,
            "stopped_early": self.stopped_early,
        }


class DivergenceError(LinregError):
    """The loss became inf or NaN; `history` holds the epochs run until then."""

    def __init__(self, message: str, history: History) -> None:
        super().__init__(message)
        self.history = history


def train(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    criterion: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    epochs: int,
    batch_size: int | None = None,
    *,
    seed: int | None = None,
    callback: Callback | None = None,
    full_loss_every: Literal["epoch", "update"] = "epoch",
) -> History:
    """Train `model` on `(x, y)` with the lesson's loop.

    Each update runs `y_pred = model(x)`, `loss = criterion(y_pred, y)`,
    `optimizer.zero_grad()`, `loss.backward()`, `optimizer.step()`, in that order,
    so with the same seed the numbers equal the lesson's hand-written loop exactly.
    Optimizers whose `step` needs a closure (LBFGS) get one that re-runs the
    forward and backward passes.

    A model wrapped in `DistributedDataParallel` (see `linreg.distributed`) trains
    on this process's shard `(x, y)`; the loop is the same. The losses it records,
    hands to the callback and gives back to LBFGS are combined over the processes,
    so every process sees the loss on all the data and takes the same decisions.

    Args:
        model: the model, e.g. `LinearModel()`.
        x: inputs of shape `(N, in_features)`.
        y: targets of shape `(N, out_features)`.
        criterion: a scalar loss such as `nn.MSELoss(reduction='sum')`.
        optimizer: built from `model.parameters()`.
        epochs: passes over the data, at least 1.
        batch_size: `None` for full batch (the lesson); otherwise minibatches of
            this size in a new random order every epoch, the last one keeping the
            remainder.
        seed: seeds the order of the minibatches; `None` uses the global RNG.
        callback: called after every epoch as `callback(epoch, loss, model)`;
            returning `True` stops the run (see `Callback`).
        full_loss_every: when to record the loss on all the data in
            `History.full_losses`: after every `'epoch'` (one extra forward pass per
            epoch), or after every `'update'` (one per update: the learning curve of
            a minibatch run, at the cost of a pass over the data per step).

    Returns:
        The `History` of the run.

    Raises:
        LinregError: for bad data (see `check_data`), `epochs` or `batch_size`
            below 1, an unknown `full_loss_every`, a model that does not fit the
            data's shapes, a loss that is not a scalar, an optimizer that does not
            hold the model's parameters, or a DDP model with unequal shards or
            gradients that do not suit the reduction (`linreg.distributed.wrap`).
        DivergenceError: when the loss becomes inf or NaN; the message names the
            epoch, the learning rate and, for MSE, the stable bound.

    Examples:
        >>> from linreg import LinearModel, lesson_data, make_criterion, make_optimizer
        >>> x, y = lesson_data()
        >>> _ = torch.manual_seed(0)
        >>> model = LinearModel()
        >>> optimizer = make_optimizer("SGD", model.parameters(), lr=0.01)
        >>> history = train(model, x, y, make_criterion("sum"), optimizer, epochs=1000)
        >>> print(f"w = {history.weight.item():.2f}, b = {history.bias.item():.2f}")
        w = 2.00, b = 0.00

        `losses` holds what the loop computed, epoch by epoch (here: before each
        update); `full_losses` the loss of the whole data at the start and after each
        epoch, so its last value is the trained model's loss:

        >>> len(history.losses), len(history.full_losses)
        (1000, 1001)
        >>> history.full_losses[1:3] == history.losses[1:3], history.final_loss < 1e-6
        (True, True)

        A callback sees each epoch's loss and can stop the run, here early stopping
        once the fit is good enough:

        >>> def good_enough(epoch, loss, model):
        ...     return loss < 1e-6
        >>> model = LinearModel()
        >>> optimizer = make_optimizer("SGD", model.parameters(), lr=0.01)
        >>> history = train(
        ...     model, x, y, make_criterion("sum"), optimizer, epochs=5000, callback=good_enough
        ... )
        >>> history.stopped_early, len(history.losses) < 5000, history.final_loss < 1e-6
        (True, True, True)
    """
    epochs = check_positive_int(epochs, "epochs")
    if batch_size is not None:
        batch_size = check_positive_int(batch_size, "batch_size")
    if full_loss_every not in ("epoch", "update"):
        raise LinregError(
            f"unknown full_loss_every={full_loss_every!r}: choose 'epoch' or 'update'"
        )
    x, y = check_data(x, y)
    _check_fit(model, x, y, criterion, optimizer)

    history = History()
    closure_needed = needs_closure(optimizer)
    weighted = getattr(criterion, "reduction", "mean") != "sum"
    # None unless the model is DDP-wrapped: then the shards' losses are combined.
    combine = combiner(model, x, "mean" if weighted else "sum")

    def all_data(value: float) -> float:
        return value if combine is None else combine([value])[0]

    generator = None if seed is None else torch.Generator().manual_seed(seed)
    # Full batch: each epoch's loss is the loss on all the data before its update, so
    # `full_losses` is `losses` and one evaluation after the last update (`finish`).
    full_batch = batch_size is None
    every_update = full_loss_every == "update" and not full_batch
    start = time.perf_counter()

    def finish() -> None:
        if full_batch:
            history.full_losses = list(history.losses)
            record_full_loss()
        if combine is not None:  # once, at the end: one all-reduce instead of one per step
            history.step_losses = combine(history.step_losses)
        history.seconds = time.perf_counter() - start

    def record_full_loss() -> None:
        with torch.no_grad():
            history.full_losses.append(all_data(criterion(model(x), y).item()))

    def update(xb: torch.Tensor, yb: torch.Tensor) -> float:
        if closure_needed:
            values: list[float] = []  # this process's loss at each evaluation

            def closure() -> torch.Tensor:
                optimizer.zero_grad()
                loss = criterion(model(xb), yb)
                loss.backward()  # type: ignore[no-untyped-call]
                history.loss_evaluations += 1
                values.append(loss.item())
                # LBFGS's line search and stopping tests read the loss: the same everywhere.
                return loss if combine is None else torch.tensor(all_data(values[-1]))

            optimizer.step(closure)  # type: ignore[arg-type]
            return values[0]  # the loss before the step, as LBFGS's step returns it
        y_pred = model(xb)
        loss = criterion(y_pred, yb)
        value = loss.item()
        history.loss_evaluations += 1
        optimizer.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]
        optimizer.step()
        return value

    if not full_batch:
        record_full_loss()
    for epoch in range(epochs):
        if batch_size is None:
            value = update(x, y)
            history.step_losses.append(value)
        else:
            value = 0.0
            for xb, yb in unchecked_minibatches(x, y, batch_size, True, generator):
                batch_loss = update(xb, yb)
                history.step_losses.append(batch_loss)
                if every_update:
                    record_full_loss()
                value += batch_loss * xb.shape[0] if weighted else batch_loss
            if weighted:
                value /= x.shape[0]
        value = all_data(value)
        history.losses.append(value)
        if not full_batch and not every_update:
            record_full_loss()
        if not math.isfinite(value):
            finish()
            _diverged(history, epoch, x, y, criterion, optimizer, batch_size, model)
        if callback is not None and callback(epoch, value, model) and epoch + 1 < epochs:
            history.stopped_early = True
            break

    finish()
    if not all(bool(torch.isfinite(p).all()) for p in model.parameters()):
        _diverged(history, len(history.losses) - 1, x, y, criterion, optimizer, batch_size, model)
    _record_parameters(history, model)
    return history


def _check_fit(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    criterion: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    optimizer: torch.optim.Optimizer,
) -> None:
    """Refuse a model, criterion or optimizer that does not fit the data."""
    weight = first_weight(model)
    if weight.shape[-1] != x.shape[1]:
        raise LinregError(
            f"the model expects {weight.shape[-1]} input feature(s) but x has {x.shape[1]} "
            f"column(s): build it with LinearModel(in_features={x.shape[1]})"
        )
    if weight.dtype != x.dtype:
        raise LinregError(
            f"x is {x.dtype} but the model's weights are {weight.dtype}: use x.to({weight.dtype})"
        )
    if getattr(criterion, "reduction", None) == "none":
        raise LinregError(
            "the criterion has reduction='none', which gives one loss per element and "
            "nothing to call backward() on: use reduction='sum' or 'mean'"
        )
    with torch.no_grad():
        y_pred = model(x[:1])
    if y_pred.shape[1:] != y.shape[1:]:
        raise LinregError(
            f"the model predicts {y_pred.shape[-1]} output(s) per sample but y has "
            f"{y.shape[1]} column(s): build it with LinearModel(out_features={y.shape[1]})"
        )
    held = {id(p) for group in optimizer.param_groups for p in group["params"]}
    if not any(id(p) in held for p in model.parameters()):
        raise LinregError(
            "the optimizer does not hold this model's parameters: build it from "
            "model.parameters() after creating the model"
        )


def _diverged(
    history: History,
    epoch: int,
    x: torch.Tensor,
    y: torch.Tensor,
    criterion: object,
    optimizer: torch.optim.Optimizer,
    batch_size: int | None,
    model: nn.Module,
) -> None:
    """Raise a `DivergenceError` that says what to change."""
    _record_parameters(history, model)
    lr = optimizer.param_groups[0].get("lr")
    loss = history.losses[-1]
    what = f"the loss became {loss}" if not math.isfinite(loss) else "the parameters overflowed"
    message = f"training diverged at epoch {epoch}: {what} with lr={lr}"
    reduction = getattr(criterion, "reduction", None)
    if isinstance(criterion, nn.MSELoss) and reduction in ("sum", "mean"):
        bias = any(name.endswith("bias") for name, _ in model.named_parameters())
        # The bound of the loss on all the data: under DDP, all the processes' rows.
        bound = stable_lr(gather(x, model), reduction, bias=bias, out_features=y.shape[1])
        scope = "full-batch SGD" + ("" if batch_size is None else " (minibatches need less)")
        message += f"; the largest stable lr for {scope}, reduction={reduction!r}, is {bound:.4g}"
    raise DivergenceError(message + ": lower lr", history)


def _record_parameters(history: History, model: nn.Module) -> None:
    """Copy the final weight and bias into the history."""
    for name, parameter in model.named_parameters():
        if history.weight is None and name.endswith("weight"):
            history.weight = parameter.detach().clone()
        elif history.bias is None and name.endswith("bias"):
            history.bias = parameter.detach().clone()
