"""Data: the lesson's three points, synthetic data, minibatches and CSV files."""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator, Sequence
from pathlib import Path

import torch

from linreg.checks import LinregError, check_data, check_positive_int

__all__ = ["lesson_data", "load_csv", "minibatches", "synthetic_data"]


def lesson_data() -> tuple[torch.Tensor, torch.Tensor]:
    """Return the lesson's data: three points on the line y = 2x.

    Returns:
        `(x, y)`, float32 tensors of shape `(3, 1)`.

    Examples:
        >>> x, y = lesson_data()
        >>> x.shape, y.dtype
        (torch.Size([3, 1]), torch.float32)
        >>> y.flatten().tolist()
        [2.0, 4.0, 6.0]
    """
    x = torch.tensor([[1.0], [2.0], [3.0]])
    y = torch.tensor([[2.0], [4.0], [6.0]])
    return x, y


def synthetic_data(
    w: Sequence[float] | torch.Tensor,
    b: float,
    n: int,
    noise: float = 0.0,
    seed: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw `n` samples of y = x·w + b + noise, with x from a standard normal.

    Args:
        w: the true weights, one per feature.
        b: the true bias.
        n: the number of samples.
        noise: the standard deviation of the Gaussian noise added to y.
        seed: seeds a private generator, so the global RNG is untouched.

    Returns:
        `(x, y)`, float32 tensors of shapes `(n, len(w))` and `(n, 1)`.

    Raises:
        LinregError: if `n < 1`, `w` is empty or `noise` is negative or not finite.

    Examples:
        >>> x, y = synthetic_data([2.0, -3.4], 4.2, n=1000)
        >>> x.shape, y.shape
        (torch.Size([1000, 2]), torch.Size([1000, 1]))
    """
    n = check_positive_int(n, "n")
    w_true = torch.as_tensor(w, dtype=torch.float32).reshape(-1, 1)  # (in, 1)
    if w_true.numel() == 0:
        raise LinregError("w is empty: give one weight per feature, e.g. w=[2.0]")
    if not (math.isfinite(noise) and noise >= 0):
        raise LinregError(f"noise must be a finite standard deviation >= 0, got {noise!r}")
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, w_true.shape[0], generator=generator)
    y = x @ w_true + b  # (n, in) @ (in, 1) -> (n, 1)
    if noise:
        y += noise * torch.randn(n, 1, generator=generator)
    return x, y


def minibatches(
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    *,
    shuffle: bool = True,
    generator: torch.Generator | None = None,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield `(x_batch, y_batch)` pairs covering the data once (one epoch).

    Batches like those of `DataLoader(TensorDataset(x, y), batch_size, shuffle)`
    (the same sizes, every row once per epoch; the shuffled order differs for the same
    generator), drawn with one `randperm` and index slicing instead of one Python call
    per sample: tens of times faster for in-memory tensors. The last batch keeps the
    remainder, so it may be smaller than `batch_size`.

    Args:
        x: inputs of shape `(N, in_features)`.
        y: targets of shape `(N, out_features)`.
        batch_size: samples per batch, at least 1.
        shuffle: draw a new random order for this epoch; otherwise keep the order.
        generator: the random generator for the order; the global one when `None`.

    Yields:
        Batches of shapes `(B, in_features)` and `(B, out_features)`, B <= batch_size.

    Raises:
        LinregError: if the data fails `check_data` or `batch_size < 1`.

    Examples:
        >>> x, y = torch.arange(5.0).reshape(5, 1), torch.zeros(5, 1)
        >>> [xb.flatten().tolist() for xb, _ in minibatches(x, y, 2, shuffle=False)]
        [[0.0, 1.0], [2.0, 3.0], [4.0]]
    """
    batch_size = check_positive_int(batch_size, "batch_size")
    x, y = check_data(x, y)
    return unchecked_minibatches(x, y, batch_size, shuffle, generator)


def unchecked_minibatches(
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    shuffle: bool,
    generator: torch.Generator | None,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """`minibatches` without its checks: `train` checks the data once, not every epoch.

    Args:
        x: inputs of shape `(N, in_features)`, already checked.
        y: targets of shape `(N, out_features)`, already checked.
        batch_size: samples per batch, at least 1.
        shuffle: draw a new random order for this epoch; otherwise keep the order.
        generator: the random generator for the order; the global one when `None`.

    Yields:
        Batches of shapes `(B, in_features)` and `(B, out_features)`, B <= batch_size.

    Examples:
        >>> x, y = torch.arange(5.0).reshape(5, 1), torch.zeros(5, 1)
        >>> [len(xb) for xb, _ in unchecked_minibatches(x, y, 2, True, None)]
        [2, 2, 1]
    """
    n = x.shape[0]
    if not shuffle:
        for start in range(0, n, batch_size):
            yield x[start : start + batch_size], y[start : start + batch_size]
        return
    order = torch.randperm(n, generator=generator)
    for start in range(0, n, batch_size):
        index = order[start : start + batch_size]
        # index_select gathers rows about twice as fast as x[index] (benchmarks/).
        yield x.index_select(0, index), y.index_select(0, index)


def load_csv(path: str | Path) -> tuple[torch.Tensor, torch.Tensor]:
    """Read a CSV file of numbers: every column but the last is x, the last is y.

    A first row that is not all numbers is taken as a header and skipped. Blank
    lines are skipped.

    Args:
        path: the CSV file.

    Returns:
        `(x, y)`, float32 tensors of shapes `(N, columns - 1)` and `(N, 1)`.

    Raises:
        LinregError: if the file is missing or unreadable, has fewer than two
            columns, rows of different lengths, an empty or non-numeric cell,
            NaN or inf.
    """
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            rows = [(number, row) for number, row in enumerate(csv.reader(f), 1) if row]
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise LinregError(f"cannot read {path}: {err}") from None
    if rows and not any(_is_number(cell) for cell in rows[0][1]):
        rows = rows[1:]  # a header
    if not rows:
        raise LinregError(f"{path} has no data rows")
    width = len(rows[0][1])
    if width < 2:
        raise LinregError(
            f"{path} needs at least two columns (x..., y), line {rows[0][0]} has {width}"
        )
    values: list[list[float]] = []
    for number, row in rows:
        if len(row) != width:
            raise LinregError(f"{path} line {number}: expected {width} values, got {len(row)}")
        parsed = []
        for column, cell in enumerate(row, 1):
            if not _is_number(cell):
                what = "is empty" if not cell.strip() else f"{cell.strip()!r} is not a number"
                raise LinregError(f"{path} line {number}, column {column} {what}")
            value = float(cell)
            if not math.isfinite(value):
                raise LinregError(f"{path} line {number}, column {column} is {cell.strip()}")
            parsed.append(value)
        values.append(parsed)
    data = torch.tensor(values, dtype=torch.float32)  # (N, columns)
    return data[:, :-1].contiguous(), data[:, -1:].contiguous()


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True
