"""Tests for `linreg.data`: the lesson's data, synthetic data, minibatches and CSV files."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.utils.data import DataLoader, TensorDataset

import linreg
from linreg import LinregError, lesson_data, load_csv, minibatches, synthetic_data

# --- lesson_data -----------------------------------------------------------------------


def test_lesson_data_is_the_lessons_tensors():
    x, y = lesson_data()
    # the lesson's own construction
    x_data = torch.Tensor([[1.0], [2.0], [3.0]])
    y_data = torch.Tensor([[2.0], [4.0], [6.0]])
    assert x.dtype == y.dtype == x_data.dtype == torch.float32
    assert x.shape == y.shape == (3, 1)
    assert torch.equal(x, x_data)
    assert torch.equal(y, y_data)
    assert torch.equal(y, 2 * x)  # the line y = 2x
    assert not x.requires_grad
    assert not y.requires_grad


def test_lesson_data_returns_fresh_tensors():
    x, y = lesson_data()
    x += 100.0
    y.zero_()
    x2, y2 = lesson_data()
    assert torch.equal(x2, torch.Tensor([[1.0], [2.0], [3.0]]))
    assert torch.equal(y2, torch.Tensor([[2.0], [4.0], [6.0]]))


# --- synthetic_data --------------------------------------------------------------------


@pytest.mark.parametrize("w", [[2.0], [2.0, -3.4], [0.5, 1.0, -1.5], torch.tensor([1.0, 2.0])])
def test_synthetic_data_shapes(w):
    x, y = synthetic_data(w, 4.2, n=17, noise=0.1, seed=0)
    assert x.shape == (17, len(w))
    assert y.shape == (17, 1)
    assert x.dtype == y.dtype == torch.float32


@pytest.mark.parametrize("noise", [0.0, 0.5])
def test_synthetic_data_is_determined_by_its_seed(noise):
    a = synthetic_data([2.0, -3.4], 4.2, n=50, noise=noise, seed=3)
    b = synthetic_data([2.0, -3.4], 4.2, n=50, noise=noise, seed=3)
    c = synthetic_data([2.0, -3.4], 4.2, n=50, noise=noise, seed=4)
    assert torch.equal(a[0], b[0])
    assert torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])
    assert not torch.equal(a[1], c[1])


@settings(max_examples=25, deadline=None, database=None)
@given(
    w=st.lists(
        st.floats(-10, 10, allow_nan=False, allow_infinity=False, width=32), min_size=1, max_size=4
    ),
    b=st.floats(-10, 10, allow_nan=False, allow_infinity=False, width=32),
    n=st.integers(1, 60),
    seed=st.integers(0, 2**31),
)
def test_synthetic_data_without_noise_lies_on_the_line(w, b, n, seed):
    x, y = synthetic_data(w, b, n=n, noise=0.0, seed=seed)
    w_column = torch.tensor(w, dtype=torch.float32).reshape(-1, 1)
    assert torch.equal(y, x @ w_column + b)
    # and the same in float64 with numpy, up to float32 rounding
    expected = x.double().numpy() @ np.array(w).reshape(-1, 1) + b
    scale = np.abs(x.double().numpy()) @ np.abs(np.array(w)).reshape(-1, 1) + abs(b)
    assert np.all(np.abs(y.double().numpy() - expected) <= 1e-6 * scale + 1e-30)


def test_synthetic_data_noise_has_the_requested_spread():
    n, noise, w, b = 20_000, 0.3, [2.0, -3.4], 4.2
    x, y = synthetic_data(w, b, n=n, noise=noise, seed=5)
    residual = (y - (x @ torch.tensor(w).reshape(-1, 1) + b)).double().flatten()
    # sample mean and sd of n normal draws: standard errors noise/√n and noise/√(2n)
    assert abs(float(residual.mean())) < 6 * noise / math.sqrt(n)
    assert abs(float(residual.std()) - noise) < 6 * noise / math.sqrt(2 * n)
    # x is standard normal
    xd = x.double()
    assert float(xd.mean(0).abs().max()) < 6 / math.sqrt(n)
    assert float((xd.std(0) - 1).abs().max()) < 6 / math.sqrt(2 * n)


def test_synthetic_data_with_seed_leaves_the_global_rng_alone():
    before = torch.random.get_rng_state()
    synthetic_data([1.0, 2.0], 0.5, n=100, noise=0.2, seed=9)
    assert torch.equal(torch.random.get_rng_state(), before)


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"n": 0}, r"n must be a whole number >= 1, got 0"),
        ({"n": -5}, r"n must be a whole number >= 1, got -5"),
        ({"n": 2.5}, r"n must be a whole number >= 1, got 2\.5"),
        ({"w": []}, r"w is empty"),
        ({"w": torch.tensor([])}, r"w is empty"),
        ({"noise": -0.1}, r"noise must be a finite standard deviation >= 0, got -0\.1"),
        ({"noise": math.nan}, r"noise must be a finite standard deviation >= 0, got nan"),
        ({"noise": math.inf}, r"noise must be a finite standard deviation >= 0, got inf"),
    ],
)
def test_synthetic_data_errors(kwargs, pattern):
    arguments = {"w": [1.0], "b": 0.0, "n": 10, "noise": 0.0, "seed": 0} | kwargs
    with pytest.raises(LinregError, match=pattern):
        synthetic_data(**arguments)


# --- minibatches -----------------------------------------------------------------------


def _numbered(n, features=2):
    """Rows that say who they are: x[i] = (i, i + 0.5, ...), y[i] = 10 i + 1."""
    index = torch.arange(n, dtype=torch.float32).reshape(-1, 1)
    x = index + 0.5 * torch.arange(features, dtype=torch.float32)
    return x, 10 * index + 1


def _row_ids(batches):
    return [xb[:, 0].long().tolist() for xb, _ in batches]


def _flat_ids(batches):
    return [i for ids in _row_ids(batches) for i in ids]


@settings(max_examples=60, deadline=None, database=None)
@given(
    n=st.integers(1, 40),
    batch_size=st.integers(1, 50),
    shuffle=st.booleans(),
    seed=st.integers(0, 2**31),
)
def test_minibatches_cover_every_row_once(n, batch_size, shuffle, seed):
    x, y = _numbered(n)
    batches = list(
        minibatches(
            x, y, batch_size, shuffle=shuffle, generator=torch.Generator().manual_seed(seed)
        )
    )
    sizes = [xb.shape[0] for xb, _ in batches]
    expected_sizes = [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])
    assert sizes == expected_sizes  # the last, partial batch is kept
    ids = _flat_ids(batches)
    assert sorted(ids) == list(range(n))
    for xb, yb in batches:
        assert xb.shape[1] == 2
        assert yb.shape[1] == 1
        assert torch.equal(yb, 10 * xb[:, :1] + 1)  # x and y rows stay paired
    if not shuffle:
        assert ids == list(range(n))


def test_unshuffled_minibatches_are_slices_in_order():
    x, y = _numbered(10)
    batches = list(minibatches(x, y, 4, shuffle=False))
    assert len(batches) == 3
    for (xb, yb), start in zip(batches, [0, 4, 8], strict=True):
        assert torch.equal(xb, x[start : start + 4])
        assert torch.equal(yb, y[start : start + 4])


def test_shuffled_minibatches_are_seeded_and_new_every_epoch():
    x, y = _numbered(20)
    generator = torch.Generator().manual_seed(4)
    first = _row_ids(minibatches(x, y, 6, generator=generator))
    second = _row_ids(minibatches(x, y, 6, generator=generator))
    again = _row_ids(minibatches(x, y, 6, generator=torch.Generator().manual_seed(4)))
    assert first == again
    assert first != second  # the generator moves on: a new order each epoch


def test_shuffled_minibatches_without_generator_use_the_global_rng():
    x, y = _numbered(20)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(2)
        first = _row_ids(minibatches(x, y, 6))
        torch.manual_seed(2)
        again = _row_ids(minibatches(x, y, 6))
    assert first == again
    assert sorted(i for batch in first for i in batch) == list(range(20))


@pytest.mark.parametrize(("n", "batch_size"), [(10, 3), (7, 7), (5, 2), (64, 8), (33, 32)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_minibatches_against_dataloader(n, batch_size, seed):
    # DataLoader(TensorDataset(x, y), batch_size, shuffle=True, generator=g) does NOT give the
    # same order as minibatches(..., generator=g) for the same seed: per epoch DataLoader draws a
    # base seed from g before the sampler's randperm, and the sampler draws one more randperm
    # for the (empty) remainder. What is the same, epoch by epoch: batch sizes, the set of rows
    # (each exactly once) and the pairing of x and y.
    x, y = _numbered(n)
    loader = DataLoader(
        TensorDataset(x, y), batch_size, shuffle=True, generator=torch.Generator().manual_seed(seed)
    )
    generator = torch.Generator().manual_seed(seed)
    for _epoch in range(3):
        theirs = list(loader)
        ours = list(minibatches(x, y, batch_size, generator=generator))
        assert [xb.shape[0] for xb, _ in ours] == [xb.shape[0] for xb, _ in theirs]
        assert sorted(_flat_ids(ours)) == sorted(_flat_ids(theirs))
        for xb, yb in ours:
            assert torch.equal(yb, 10 * xb[:, :1] + 1)


def test_unshuffled_minibatches_equal_dataloader_exactly():
    x, y = _numbered(11)
    theirs = list(DataLoader(TensorDataset(x, y), 4, shuffle=False))
    ours = list(minibatches(x, y, 4, shuffle=False))
    assert len(ours) == len(theirs)
    for (xa, ya), (xb, yb) in zip(ours, theirs, strict=True):
        assert torch.equal(xa, xb)
        assert torch.equal(ya, yb)


@pytest.mark.parametrize(
    ("batch_size", "pattern"),
    [
        (0, r"batch_size must be a whole number >= 1, got 0"),
        (-3, r"batch_size must be a whole number >= 1, got -3"),
        (2.0, r"batch_size must be a whole number >= 1, got 2\.0"),
        (True, r"batch_size must be a whole number >= 1, got True"),
    ],
)
def test_minibatches_bad_batch_size(batch_size, pattern):
    x, y = _numbered(5)
    with pytest.raises(LinregError, match=pattern):
        minibatches(x, y, batch_size)  # refused at the call, not at the first batch


@pytest.mark.parametrize(
    ("x", "y", "pattern"),
    [
        (torch.arange(3.0), torch.zeros(3, 1), r"x must be 2-D.*x\.reshape\(-1, 1\)"),
        (torch.zeros(3, 1), torch.zeros(3), r"y has shape \(3,\).*y\.reshape\(-1, 1\)"),
        (torch.zeros(3, 1), torch.zeros(4, 1), r"x has 3 rows but y has 4"),
        (torch.zeros(3, 1, dtype=torch.int64), torch.zeros(3, 1), r"dtype torch\.int64"),
        (torch.tensor([[0.0], [math.nan]]), torch.zeros(2, 1), r"x holds 1 NaN or inf"),
        (torch.zeros(0, 1), torch.zeros(0, 1), r"x is empty"),
        ([[1.0], [2.0]], torch.zeros(2, 1), r"x must be a torch\.Tensor, got list"),
    ],
)
def test_minibatches_bad_data(x, y, pattern):
    with pytest.raises(LinregError, match=pattern):
        minibatches(x, y, 2)


# --- load_csv --------------------------------------------------------------------------


def _write(tmp_path, text, name="data.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _numpy_oracle(path, skiprows):
    data = np.loadtxt(path, delimiter=",", skiprows=skiprows, ndmin=2, encoding="utf-8-sig")
    return torch.tensor(data[:, :-1], dtype=torch.float32), torch.tensor(
        data[:, -1:], dtype=torch.float32
    )


@pytest.mark.parametrize("header", [True, False])
def test_load_csv_header_detection(tmp_path, header):
    body = "1.5,3.25\n-2,0.1\n1e3,7\n"
    path = _write(tmp_path, ("x,y\n" if header else "") + body)
    x, y = load_csv(path)
    ex, ey = _numpy_oracle(path, skiprows=1 if header else 0)
    assert x.dtype == y.dtype == torch.float32
    assert x.shape == (3, 1)
    assert y.shape == (3, 1)
    assert torch.equal(x, ex)
    assert torch.equal(y, ey)
    # and the same through a str path
    xs, ys = load_csv(str(path))
    assert torch.equal(xs, x)
    assert torch.equal(ys, y)


def test_load_csv_skips_blank_lines(tmp_path):
    path = _write(tmp_path, "\nx,y\n\n1,2\n\n\n3,4\n\n")
    x, y = load_csv(path)
    assert torch.equal(x, torch.tensor([[1.0], [3.0]]))
    assert torch.equal(y, torch.tensor([[2.0], [4.0]]))


def test_load_csv_several_features(tmp_path):
    path = _write(tmp_path, "a,b,c,target\n1,2,3,4\n5,6,7,8\n-1,0.5,2.5,9\n")
    x, y = load_csv(path)
    ex, ey = _numpy_oracle(path, skiprows=1)
    assert x.shape == (3, 3)
    assert y.shape == (3, 1)
    assert torch.equal(x, ex)
    assert torch.equal(y, ey)
    assert x.is_contiguous()
    assert y.is_contiguous()
    # ready for training: check_data accepts it
    assert linreg.checks.check_data(x, y) == (x, y)


@pytest.mark.parametrize("header", ["x,y\n", ""])
def test_load_csv_byte_order_mark(tmp_path, header):
    path = _write(tmp_path, header + "1,2\r\n3,4\r\n", encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    x, y = load_csv(path)
    assert torch.equal(x, torch.tensor([[1.0], [3.0]]))
    assert torch.equal(y, torch.tensor([[2.0], [4.0]]))


def test_load_csv_missing_file(tmp_path):
    path = tmp_path / "nowhere.csv"
    with pytest.raises(LinregError, match=r"cannot read .*nowhere\.csv"):
        load_csv(path)


BAD_FILES = {
    # name: (file text, pattern the message must match)
    "one column": ("1\n2\n3\n", r"at least two columns.*line 1 has 1"),
    "one column after a header": ("x,y\n1\n2\n", r"at least two columns.*line 2 has 1"),
    "one column after blank lines": ("\n\n1\n2\n", r"at least two columns.*line 3 has 1"),
    "ragged row": ("x,y\n1,2\n3\n", r"line 3: expected 2 values, got 1"),
    "long row": ("1,2\n3,4\n5,6,7\n", r"line 3: expected 2 values, got 3"),
    "empty cell": ("x,y\n1,2\n3,\n", r"line 3, column 2 is empty"),
    "blank cell": ("x,y\n1,2\n  ,4\n", r"line 3, column 1 is empty"),
    "non-numeric cell": ("x,y\n1,2\n3,abc\n", r"line 3, column 2 'abc' is not a number"),
    "nan cell": ("1,2\nnan,4\n", r"line 2, column 1 is nan"),
    "inf cell": ("x,y\n1,2\n3,4\n5,-inf\n", r"line 4, column 2 is -inf"),
    "only a header": ("x,y\n", r"has no data rows"),
    "empty file": ("", r"has no data rows"),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_load_csv_bad_files(tmp_path, name):
    text, pattern = BAD_FILES[name]
    path = _write(tmp_path, text)
    with pytest.raises(LinregError, match=pattern) as info:
        load_csv(path)
    assert str(path) in str(info.value)


def test_load_csv_error_line_numbers_count_the_file_lines(tmp_path):
    # the line named in an error is the line a text editor shows
    lines = ["a,b", "", "1,2", "", "3,4", "5,oops"]
    path = _write(tmp_path, "\n".join(lines) + "\n")
    bad_line = next(number for number, line in enumerate(lines, 1) if "oops" in line)
    with pytest.raises(LinregError, match=re.escape(f"line {bad_line}, column 2 'oops'")):
        load_csv(path)
