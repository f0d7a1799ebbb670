"""Data parallel training on `torch.distributed`: gloo on CPU, started by torchrun.

Each process (rank) trains a copy of the model on its own equal shard of the data;
`DistributedDataParallel` (DDP) averages the gradients of all processes with an
all-reduce before every `optimizer.step()`, so every copy takes the same step. With
`reduction='mean'` and equal shards the average of the shards' gradients is the
gradient on all the data: the run equals the one-process run, up to the order of the
floating-point additions. With `reduction='sum'` the gradients must be summed
instead, which `wrap(model, reduction='sum')` arranges.

A script runs both ways: without torchrun `init_from_env` returns `False`, `shard`
returns the data unchanged and `wrap` the model unchanged. It ends with `leave()`.
"""

from __future__ import annotations

import datetime
import gc
import os
import weakref
from collections.abc import Callable
from typing import Any

import torch
import torch.distributed as dist

# Imported before any process group exists, on purpose. Its functions take
# `group=group.WORLD` as a default argument, evaluated at import: imported once the
# group exists, they would hold the default group for good. DDP imports it when it
# wraps the first model (torch 2.13, through torch._dynamo), so `destroy_process_group`
# could not free the group: gloo's worker threads outlived the script, and one of them
# releasing a finished collective's tensors during interpreter shutdown aborted the
# process ("terminate called without an active exception").
import torch.distributed.nn
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from linreg.checks import LinregError, check_data

__all__ = ["check_all", "init_from_env", "is_main", "leave", "shard", "wrap"]

_TORCHRUN = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


def init_from_env(timeout: float = 60.0) -> bool:
    """Join the process group that torchrun describes in the environment.

    Args:
        timeout: seconds a process waits for the others in a collective (an
            all-reduce, say) before it raises instead of hanging, e.g. when
            another process hangs.

    Returns:
        `True` under torchrun (the gloo process group is now initialised), `False`
        when the variables torchrun sets (`RANK`, `WORLD_SIZE`, `LOCAL_RANK`,
        `MASTER_ADDR`, `MASTER_PORT`) are absent: then nothing happens.

    Examples:
        >>> init_from_env()  # a plain `python`, not torchrun
        False
    """
    if not all(name in os.environ for name in _TORCHRUN):
        return False
    if not dist.is_initialized():
        dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=timeout))
    return True


def leave() -> None:
    """End the process group together: the last call of a script, in every process.

    Every process waits at a barrier for the others (none leaves while another still
    talks to it), then destroys the group, which stops gloo's worker threads. Call it
    once the DDP models are gone, e.g. after the function that used them has returned:
    a DDP model holds the group, which then outlives `destroy_process_group` until
    interpreter shutdown, where gloo's threads can abort the process. Models caught in
    reference cycles (an exception's traceback holds one, say) are collected first.
    Without a process group it does nothing.

    Examples:
        >>> leave()  # a plain `python`, not torchrun: nothing to leave
    """
    if not dist.is_initialized():
        return
    gc.collect()  # unreachable DDP models, and their hold on the group
    dist.barrier()
    dist.destroy_process_group()


def is_main() -> bool:
    """Whether this process is rank 0 (or the only process): the one that prints.

    Before the process group exists it reads torchrun's `RANK`.

    Examples:
        >>> is_main()
        True
    """
    if dist.is_initialized():
        return dist.get_rank() == 0
    return os.environ.get("RANK", "0") == "0"


def check_all(error: Exception | None) -> None:
    """Raise the same `LinregError` in every process if any process failed.

    A process that fails alone (its CSV is missing, say) would leave the others
    waiting in their first all-reduce; calling this collectively after a step that
    can fail makes all of them stop together, with the failing rank's message.

    Args:
        error: what this process caught, or `None`.

    Raises:
        LinregError: naming the first failing rank (without a process group:
            `error` itself).

    Examples:
        >>> check_all(None)
    """
    if not dist.is_initialized():
        if error is not None:
            raise LinregError(str(error)) from error
        return
    messages: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(messages, None if error is None else str(error))
    for rank, message in enumerate(messages):
        if message is not None:
            raise LinregError(f"process {rank} of {len(messages)}: {message}")


def shard(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """This process's equal share of the data: rank r keeps rows r·N/W to (r+1)·N/W.

    Every process must hold the same `(x, y)`; each keeps a copy of its rows only.
    N must be a multiple of the number of processes W: DDP averages the shards'
    gradients, which is the gradient on all the data only when the shards are equal
    (`DistributedSampler` would instead repeat samples to fill the last shard,
    training on different data).

    Args:
        x: inputs of shape `(N, in_features)`, the same in every process.
        y: targets of shape `(N, out_features)`.

    Returns:
        `(x_shard, y_shard)` of shapes `(N/W, in_features)` and `(N/W, out_features)`;
        `(x, y)` unchanged without a process group.

    Raises:
        LinregError: for bad data, processes that hold different shapes, W > N, or
            N not a multiple of W.

    Examples:
        >>> x, y = torch.arange(4.0).reshape(4, 1), torch.zeros(4, 1)
        >>> shard(x, y)[0].flatten().tolist()  # one process: all of it
        [0.0, 1.0, 2.0, 3.0]
    """
    x, y = check_data(x, y)
    if not dist.is_initialized():
        return x, y
    world_size, rank = dist.get_world_size(), dist.get_rank()
    shapes: list[Any] = [None] * world_size
    dist.all_gather_object(shapes, (tuple(x.shape), tuple(y.shape)))
    if any(shape != shapes[0] for shape in shapes):
        raise LinregError(
            f"the processes hold data of different shapes (x, y): {shapes}: "
            f"every process must read the same data"
        )
    n = x.shape[0]
    if world_size > n:
        raise LinregError(
            f"{world_size} processes but only {n} sample(s): each process needs at "
            f"least one; run at most {n} process(es)"
        )
    if n % world_size:
        keep = n - n % world_size
        raise LinregError(
            f"{n} samples do not split into {world_size} equal shards, and the mean of "
            f"unequal shards' gradients is not the gradient on all the data: keep "
            f"{keep} samples (drop the last {n - keep}), or run a number of processes "
            f"that divides {n}"
        )
    size = n // world_size
    rows = slice(rank * size, (rank + 1) * size)
    return x[rows].clone(), y[rows].clone()


def wrap(model: nn.Module, reduction: str = "mean") -> nn.Module:
    """Wrap `model` in `DistributedDataParallel`, gradients combined to suit `reduction`.

    DDP averages the processes' gradients. That is right for `reduction='mean'`
    over equal shards. For `'sum'` the one-process gradient is the sum of the
    shards' gradients, so the model gets a communication hook that sums them;
    averaging would make every step W times smaller. `linreg.train` refuses a DDP
    model whose gradients do not match its criterion's reduction.

    Args:
        model: e.g. a `LinearModel()`; DDP copies rank 0's parameters to every process.
        reduction: the criterion's reduction, `'mean'` or `'sum'`.

    Returns:
        The DDP-wrapped model (its `module` is `model`), or `model` itself without
        a process group.

    Raises:
        LinregError: for another reduction.

    Examples:
        >>> from linreg import LinearModel
        >>> model = LinearModel()
        >>> wrap(model, "sum") is model  # one process: nothing to wrap
        True
    """
    if reduction not in ("mean", "sum"):
        raise LinregError(f"unknown reduction={reduction!r}: choose 'mean' or 'sum'")
    if not dist.is_initialized():
        return model
    ddp = DistributedDataParallel(model)
    if reduction == "sum":
        ddp.register_comm_hook(None, _sum_hook)
        _SUMMED.add(ddp)
    return ddp


_SUMMED: weakref.WeakSet[nn.Module] = weakref.WeakSet()  # made by `wrap` to sum gradients


# DDP checks a hook's annotations at run time against the real classes, which this
# module's `from __future__ import annotations` would turn into strings: none given.
def _sum_hook(state, bucket):  # type: ignore[no-untyped-def]
    """A DDP communication hook: all-reduce a bucket of gradients by summing, not averaging."""
    work = dist.all_reduce(bucket.buffer(), async_op=True)
    return work.get_future().then(lambda future: future.value()[0])


def combiner(
    model: nn.Module, x: torch.Tensor, reduction: str
) -> Callable[[list[float]], list[float]] | None:
    """For `train`: combine each process's losses into losses on all the data.

    Args:
        model: the model `train` got.
        x: this process's inputs, of shape `(N/W, in_features)`.
        reduction: the criterion's reduction.

    Returns:
        `None` for a model that is not DDP-wrapped; otherwise a function mapping this
        process's losses to the losses on all the data (summed over the processes
        for `'sum'`, averaged otherwise), the same in every process.

    Raises:
        LinregError: if the processes hold different numbers of samples, or the
            model's gradients are averaged for `'sum'` (or summed for `'mean'`).
    """
    if not isinstance(model, DistributedDataParallel):
        return None
    group = model.process_group
    world_size = dist.get_world_size(group)
    sizes: list[Any] = [None] * world_size
    dist.all_gather_object(sizes, x.shape[0], group=group)
    if len(set(sizes)) > 1:
        raise LinregError(
            f"the processes hold {sizes} samples: DDP's average of their gradients is "
            f"the gradient on all the data only for equal shards; use "
            f"linreg.distributed.shard(x, y)"
        )
    summed = model in _SUMMED
    if summed != (reduction == "sum"):
        what = "averaged" if reduction == "sum" else "summed"
        size = "smaller" if reduction == "sum" else "larger"
        raise LinregError(
            f"the criterion has reduction={reduction!r} but the model's gradients are "
            f"{what} over the {world_size} processes, so each step would be "
            f"{world_size} times {size} than on one process: wrap the model with "
            f"linreg.distributed.wrap(model, reduction={reduction!r})"
        )

    def combine(values: list[float]) -> list[float]:
        total = torch.tensor(values, dtype=torch.float64)
        dist.all_reduce(total, group=group)
        return (total if summed else total / world_size).tolist()

    return combine


def gather(x: torch.Tensor, model: nn.Module) -> torch.Tensor:
    """All the processes' rows of `x` (for a DDP model), in rank order; else `x`."""
    if not isinstance(model, DistributedDataParallel):
        return x
    parts = [torch.empty_like(x) for _ in range(dist.get_world_size(model.process_group))]
    dist.all_gather(parts, x.contiguous(), group=model.process_group)
    return torch.cat(parts)
