"""The `linreg` command: its numbers equal the Python API's, bad input is one line."""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import math
import os
import re
import struct
import subprocess
import sys
import termios
import threading
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TextIO

import numpy as np
import pytest
import torch

import linreg
from linreg.cli import main

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SCRIPT = Path(sys.executable).with_name("linreg")


# --------------------------------------------------------------------------- helpers


def invoke(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run `linreg ARGS` in-process; return (exit code, stdout, stderr)."""
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code: int, out: str, err: str, *needles: str) -> None:
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    assert err.endswith("\n")
    assert err.count("\n") == 1, f"expected one line on stderr, got:\n{err}"
    for needle in needles:
        assert needle in err, f"{needle!r} not in {err!r}"


def lesson_loop(
    epochs: int = 100, lr: float = 0.01, seed: int = 0
) -> tuple[torch.nn.Linear, list[float]]:
    """The lesson's hand-written loop in plain torch, independent of linreg."""
    x = torch.tensor([[1.0], [2.0], [3.0]])
    y = torch.tensor([[2.0], [4.0], [6.0]])
    torch.manual_seed(seed)
    model = torch.nn.Linear(1, 1)
    criterion = torch.nn.MSELoss(reduction="sum")
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        y_pred = model(x)
        loss = criterion(y_pred, y)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model, losses


def api_train(
    *,
    optimizer: str = "SGD",
    lr: float = 0.01,
    reduction: str = "sum",
    epochs: int = 100,
    batch_size: int | None = None,
    seed: int = 0,
    data: Path | None = None,
    **params: object,
) -> tuple[linreg.LinearModel, linreg.History]:
    """Train through linreg's Python API, as its documentation shows."""
    x, y = linreg.lesson_data() if data is None else linreg.load_csv(data)
    torch.manual_seed(seed)
    model = linreg.LinearModel(x.shape[1], y.shape[1])
    opt = linreg.make_optimizer(optimizer, model.parameters(), lr=lr, **params)
    criterion = linreg.make_criterion(reduction)
    history = linreg.train(model, x, y, criterion, opt, epochs, batch_size, seed=seed)
    return model, history


def without_seconds(record: dict[str, object]) -> dict[str, object]:
    """A History dict without its wall time, the one field that differs between runs."""
    assert isinstance(record["seconds"], float)
    assert record["seconds"] >= 0
    return {key: value for key, value in record.items() if key != "seconds"}


def numbers(text: str) -> list[float]:
    """The numbers in `1.5` or `[1.5, -2]`, as printed for w and b."""
    return [float(v) for v in text.strip().strip("[]").split(",")]


def parse_train_table(out: str) -> dict[str, object]:
    """Read the epoch/loss rows, w, b and the predictions from `linreg train`'s output."""
    rows: dict[int, float] = {}
    predictions: dict[float, float] = {}
    parsed: dict[str, object] = {"rows": rows, "predictions": predictions}
    for line in out.splitlines():
        if match := re.fullmatch(r"\s*(\d+)\s+(\S+)\s*", line):
            rows[int(match[1])] = float(match[2])
        elif line.startswith("w = "):
            parsed["w"] = numbers(line[4:])
        elif line.startswith("b = "):
            parsed["b"] = numbers(line[4:])
        elif match := re.fullmatch(r"y_pred at x = (\S+): (\S+)", line):
            predictions[float(match[1])] = float(match[2])
    return parsed


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    """A small CSV of one feature with a header and noisy targets near y = 2x + 0.5."""
    path = tmp_path / "points.csv"
    path.write_text("x,y\n1,2.4\n2,4.7\n3,6.3\n4,8.6\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------- train


def test_train_default_text_equals_the_lessons_loop(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = invoke(capsys, "train")
    assert (code, err) == (0, "")
    model, losses = lesson_loop()
    with torch.no_grad():
        at_four = model(torch.tensor([[4.0]])).item()
    table = parse_train_table(out)
    rows = table["rows"]
    assert isinstance(rows, dict)
    assert 0 in rows
    assert 99 in rows
    for epoch, loss in rows.items():
        assert loss == pytest.approx(losses[epoch], rel=1e-5)
    assert table["w"] == pytest.approx([model.weight.item()], rel=1e-5)
    assert table["b"] == pytest.approx([model.bias.item()], rel=1e-5)
    assert table["predictions"] == {4.0: pytest.approx(at_four, rel=1e-5)}


def test_train_json_equals_the_api_history(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = invoke(capsys, "train", "--json")
    assert (code, err) == (0, "")
    result = json.loads(out)
    model, history = api_train()
    assert without_seconds(result["history"]) == without_seconds(history.to_dict())
    assert result["history"]["losses"] == lesson_loop()[1]  # exactly, not approximately
    assert result["history"]["loss_evaluations"] == 100
    expected_prediction = linreg.predict(model, [4.0]).tolist()
    assert result["predictions"] == [[4.0, expected_prediction[0]]]
    assert result["optimizer"] == "SGD"
    assert result["hyperparameters"] == {"lr": 0.01}
    assert result["reduction"] == "sum"
    assert result["epochs"] == 100
    assert result["batch_size"] is None
    assert result["seed"] == 0


def test_train_options_reach_the_api(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--optimizer", "adam", "--lr", "0.05", "--epochs", "30", "--reduction", "mean"]
    code, out, _ = invoke(capsys, "train", "--json", "--seed", "3", *args)
    assert code == 0
    result = json.loads(out)
    _, history = api_train(optimizer="Adam", lr=0.05, epochs=30, reduction="mean", seed=3)
    assert result["optimizer"] == "Adam"  # the canonical spelling
    assert result["history"]["losses"] == history.losses
    assert result["history"]["weight"] == history.to_dict()["weight"]


def test_param_momentum_reaches_the_optimizer(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = invoke(capsys, "train", "--json", "--param", "momentum=0.9")
    assert (code, err) == (0, "")
    result = json.loads(out)
    _, plain = api_train()
    _, with_momentum = api_train(momentum=0.9)
    assert result["hyperparameters"] == {"lr": 0.01, "momentum": 0.9}
    assert result["history"]["losses"] == with_momentum.losses
    assert result["history"]["losses"] != plain.losses
    assert result["history"]["losses"][0] == plain.losses[0]  # same start, different steps


def test_repeated_params_all_reach_the_optimizer(capsys: pytest.CaptureFixture[str]) -> None:
    params = ["--param", "momentum=0.5", "--param", "nesterov=True"]
    code, out, _ = invoke(capsys, "train", "--json", "--epochs", "20", *params)
    assert code == 0
    _, history = api_train(epochs=20, momentum=0.5, nesterov=True)
    _, without_nesterov = api_train(epochs=20, momentum=0.5)
    losses = json.loads(out)["history"]["losses"]
    assert losses == history.losses
    assert losses != without_nesterov.losses


def test_batch_size_trains_on_minibatches(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = invoke(capsys, "train", "--json", "--batch-size", "2", "--epochs", "40")
    assert code == 0
    result = json.loads(out)
    _, history = api_train(batch_size=2, epochs=40)
    _, full = api_train(epochs=40)
    assert result["batch_size"] == 2
    assert without_seconds(result["history"]) == without_seconds(history.to_dict())
    assert len(result["history"]["step_losses"]) == 40 * math.ceil(3 / 2)
    assert result["history"]["losses"] != full.losses


def test_data_from_a_csv_file(capsys: pytest.CaptureFixture[str], csv_file: Path) -> None:
    code, out, err = invoke(capsys, "train", "--json", "--data", str(csv_file))
    assert (code, err) == (0, "")
    result = json.loads(out)
    model, history = api_train(data=csv_file)
    _, on_lesson_data = api_train()
    assert result["data"] == str(csv_file)
    assert result["history"]["losses"] == history.losses
    assert result["history"]["losses"] != on_lesson_data.losses
    assert result["predictions"] == [[4.0, linreg.predict(model, [4.0]).tolist()[0]]]


def test_data_with_two_features(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "two.csv"
    path.write_text("1,0,3\n0,1,-1\n1,1,2.2\n2,1,4.9\n", encoding="utf-8")  # no header
    code, out, _ = invoke(capsys, "train", "--data", str(path), "--epochs", "50")
    assert code == 0
    _, history = api_train(data=path, epochs=50)
    table = parse_train_table(out)
    assert history.weight is not None
    assert table["w"] == pytest.approx(history.weight.flatten().tolist(), rel=1e-5)
    assert len(table["w"]) == 2
    assert table["predictions"] == {}  # a line y(x) needs one feature


def test_predict_at_several_points(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = invoke(capsys, "train", "--predict", "4", "5", "-1.5")
    assert code == 0
    model, _ = api_train()
    expected = linreg.predict(model, [4.0, 5.0, -1.5]).flatten().tolist()
    predictions = parse_train_table(out)["predictions"]
    assert predictions == {
        4.0: pytest.approx(expected[0], rel=1e-5),
        5.0: pytest.approx(expected[1], rel=1e-5),
        -1.5: pytest.approx(expected[2], rel=1e-5),
    }

    code, out, _ = invoke(capsys, "train", "--json", "--predict", "4", "5")
    assert code == 0
    assert json.loads(out)["predictions"] == [
        [4.0, [expected[0]]],
        [5.0, [expected[1]]],
    ]


# --------------------------------------------------------------------------- compare, solve


def test_compare_json_equals_the_api(capsys: pytest.CaptureFixture[str]) -> None:
    names = ["sgd", "Adam", "rprop", "LBFGS"]
    code, out, err = invoke(capsys, "compare", "--json", "--epochs", "5", "--optimizers", *names)
    assert (code, err) == (0, "")
    result = json.loads(out)
    runs = linreg.compare(names, *linreg.lesson_data(), epochs=5)
    assert list(result) == ["SGD", "Adam", "Rprop", "LBFGS"]
    assert list(result) == list(runs)
    for name, run in runs.items():
        assert without_seconds(result[name]) == without_seconds(run.to_dict()), name


def test_compare_options_reach_the_api(capsys: pytest.CaptureFixture[str], csv_file: Path) -> None:
    args = ["--lr", "0.003", "--reduction", "mean", "--batch-size", "3", "--seed", "7"]
    code, out, _ = invoke(
        capsys, "compare", "--json", "--data", str(csv_file), "--epochs", "10", *args,
        "--optimizers", "SGD", "RMSprop",
    )  # fmt: skip
    assert code == 0
    x, y = linreg.load_csv(csv_file)
    runs = linreg.compare(
        ["SGD", "RMSprop"], x, y, epochs=10, lr=0.003, reduction="mean", batch_size=3, seed=7
    )
    result = json.loads(out)
    assert {name: without_seconds(r) for name, r in result.items()} == {
        name: without_seconds(run.to_dict()) for name, run in runs.items()
    }


def test_compare_defaults_to_every_optimizer(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = invoke(capsys, "compare", "--json", "--epochs", "2")
    assert code == 0
    assert list(json.loads(out)) == list(linreg.OPTIMIZERS)


def test_compare_text_lists_each_optimizer_once(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = invoke(capsys, "compare", "--epochs", "20", "--optimizers", "SGD", "adam", "sgd")
    assert code == 0
    runs = linreg.compare(["SGD", "Adam"], *linreg.lesson_data(), epochs=20)
    rows = {line.split()[0]: line.split() for line in out.splitlines()[2:]}
    assert list(rows) == ["SGD", "Adam"]
    for name, run in runs.items():
        assert float(rows[name][1]) == pytest.approx(run.final_loss, rel=1e-3)


def test_solve_json_equals_the_closed_form(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = invoke(capsys, "solve", "--json")
    assert (code, err) == (0, "")
    result = json.loads(out)
    x, y = linreg.lesson_data()
    weight, bias = linreg.fit_closed_form(x, y)
    assert bias is not None
    assert result["weight"] == weight.tolist()
    assert result["bias"] == bias.tolist()
    assert result["stable_lr"] == {
        "sum": linreg.stable_lr(x, "sum"),
        "mean": linreg.stable_lr(x, "mean"),
    }
    assert result["sum_of_squared_errors"] == pytest.approx(0.0, abs=1e-8)  # y = 2x exactly


def test_solve_agrees_with_numpy_least_squares(
    capsys: pytest.CaptureFixture[str], csv_file: Path
) -> None:
    code, out, _ = invoke(capsys, "solve", "--json", "--data", str(csv_file))
    assert code == 0
    result = json.loads(out)
    data = np.loadtxt(csv_file, delimiter=",", skiprows=1)
    design = np.column_stack([data[:, 0], np.ones(len(data))])
    (w, b), residuals, *_ = np.linalg.lstsq(design, data[:, 1], rcond=None)
    assert result["weight"] == [[pytest.approx(w, rel=1e-5)]]
    assert result["bias"] == [pytest.approx(b, rel=1e-4)]
    assert result["sum_of_squared_errors"] == pytest.approx(residuals[0], rel=1e-4)
    assert result["data"] == str(csv_file)

    code, out, _ = invoke(capsys, "solve", "--data", str(csv_file))
    assert code == 0
    printed = dict(
        line.split(" = ", 1) for line in out.splitlines() if line[:4] in ("w = ", "b = ")
    )
    assert numbers(printed["w"]) == [pytest.approx(w, rel=1e-5)]
    assert numbers(printed["b"]) == [pytest.approx(b, rel=1e-4)]


# --------------------------------------------------------------------------- bad input

BAD_CSV = "x,y\n1,2\n2,abc\n3,6\n"


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["train", "--optimizer", "adamm"], ["adamm", "did you mean 'Adam'"]),
        (["compare", "--optimizers", "SGD", "rmsprob"], ["rmsprob", "did you mean 'RMSprop'"]),
        (["train", "--lr", "-1"], ["--lr", ">= 0", "-1"]),
        (["train", "--lr", "abc"], ["--lr", "'abc'"]),
        (["train", "--lr", "inf"], ["--lr", "finite"]),
        (["train", "--epochs", "0"], ["--epochs", ">= 1"]),
        (["compare", "--epochs", "2.5"], ["--epochs", "whole number"]),
        (["train", "--batch-size", "0"], ["--batch-size", ">= 1"]),
        (["train", "--reduction", "median"], ["median", "sum", "mean"]),
        (["train", "--param", "momentum"], ["NAME=VALUE", "momentum=0.9"]),
        (["train", "--param", "=0.9"], ["NAME=VALUE"]),
        (["train", "--param", "foo=1"], ["'foo'", "momentum"]),
        (["train", "--optimizer", "Adam", "--param", "momentum=0.9"], ["'momentum'", "betas"]),
        (["train", "--predict", "nan"], ["--predict", "finite"]),
        ([], ["choose a command", "train", "compare", "solve"]),
        (["bogus"], ["'bogus'", "train"]),
        (["train", "--bogus"], ["--bogus"]),
    ],
)
def test_bad_input_is_one_actionable_line(
    capsys: pytest.CaptureFixture[str], args: list[str], needles: list[str]
) -> None:
    code, out, err = invoke(capsys, *args)
    assert_one_line_error(code, out, err, *needles)


def test_plot_to_a_missing_folder(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "missing" / "out.png"
    code, out, err = invoke(capsys, "train", "--plot", str(target))
    assert_one_line_error(code, out, err, "--plot", "does not exist", str(target))
    assert not target.parent.exists()


@pytest.mark.parametrize("name", ["out.jpg", "out", "out.png.txt"])
def test_plot_with_a_bad_suffix(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str
) -> None:
    code, out, err = invoke(capsys, "compare", "--plot", str(tmp_path / name))
    assert_one_line_error(code, out, err, "--plot", ".png", ".svg", ".pdf")
    assert list(tmp_path.iterdir()) == []


def test_missing_data_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    for command in ("train", "compare", "solve"):
        code, out, err = invoke(capsys, command, "--data", str(missing))
        assert_one_line_error(code, out, err, str(missing), "No such file")


def test_csv_with_a_non_numeric_cell(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(BAD_CSV, encoding="utf-8")
    for command in ("train", "compare", "solve"):
        code, out, err = invoke(capsys, command, "--data", str(path))
        assert_one_line_error(code, out, err, str(path), "line 3", "column 2", "'abc'")


def test_divergence_names_epoch_lr_and_stable_bound(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = invoke(capsys, "train", "--lr", "1")
    assert_one_line_error(code, out, err, "diverged")
    with pytest.raises(linreg.DivergenceError) as raised:
        api_train(lr=1.0)
    epoch = re.search(r"\bepoch (\d+)", err)
    assert epoch is not None
    assert int(epoch[1]) == len(raised.value.history.losses) - 1
    assert re.search(r"\blr=1(\.0*)?\b", err)
    bound = re.search(r"stable lr\b.*\bis (\d[\d.e+-]*\d)", err)
    assert bound is not None
    x, _ = linreg.lesson_data()
    assert float(bound[1]) == pytest.approx(linreg.stable_lr(x, "sum"), rel=1e-3)
    assert float(bound[1]) < 1


def test_compare_divergence_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = invoke(capsys, "compare", "--optimizers", "SGD", "Adam", "--lr", "1")
    assert_one_line_error(code, out, err, "diverged", "lr=1")


def test_help_and_version_exit_zero(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = invoke(capsys, "--help")
    assert (code, err) == (0, "")
    assert out.startswith("usage: linreg")
    for command in ("train", "compare", "solve"):
        assert command in out
        code, out_command, _ = invoke(capsys, command, "--help")
        assert code == 0
        assert out_command.startswith(f"usage: linreg {command}")
        assert "--data" in out_command
    code, out, err = invoke(capsys, "--version")
    assert (code, out, err) == (0, f"linreg {linreg.__version__}\n", "")


def test_help_says_how_to_run_data_parallel(capsys: pytest.CaptureFixture[str]) -> None:
    # The runs themselves are in tests/test_distributed.py (real torchrun processes).
    for command in ("train", "compare"):
        code, out, _ = invoke(capsys, command, "--help")
        text = " ".join(out.split())
        assert code == 0
        assert "torchrun --nproc-per-node=2 -m linreg" in text
        assert "N must be a multiple of the number of processes" in text
        assert "Process 0 alone prints and writes files" in text


# Bad input found while writing these tests: each still ends in a traceback.


def test_param_lr_is_an_error_not_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    # `--param lr=0.5` collides with `--lr`: make_optimizer gets lr twice (TypeError).
    code, out, err = invoke(capsys, "train", "--param", "lr=0.5")
    assert_one_line_error(code, out, err, "--lr")


def test_huge_seed_is_an_error_not_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    # torch.manual_seed overflows (ValueError/RuntimeError) above 2**64.
    code, out, err = invoke(capsys, "train", "--seed", str(2**80))
    assert_one_line_error(code, out, err, "seed")


def test_plot_onto_a_folder_is_an_error_not_a_traceback(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # os.replace onto a directory raises IsADirectoryError, an OSError, not a LinregError.
    (tmp_path / "out.png").mkdir()
    code, out, err = invoke(capsys, "train", "--plot", str(tmp_path / "out.png"))
    assert_one_line_error(code, out, err, "out.png")
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]
    assert (tmp_path / "out.png").is_dir()


# --------------------------------------------------------------------------- files


@pytest.mark.parametrize(
    "args",
    [
        ["train", "--lr", "1"],
        ["compare", "--optimizers", "SGD", "--lr", "1"],
        ["train", "--data", "BAD"],
        ["compare", "--data", "BAD"],
    ],
)
def test_a_failed_run_writes_no_plot(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(BAD_CSV, encoding="utf-8")
    folder = tmp_path / "plots"
    folder.mkdir()
    args = [str(bad) if a == "BAD" else a for a in args]
    target = folder / "out.png"

    code, _, err = invoke(capsys, *args, "--plot", str(target))
    assert code == 2
    assert "Traceback" not in err
    assert list(folder.iterdir()) == []

    previous = b"an earlier plot, to be kept"
    target.write_bytes(previous)
    code, _, _ = invoke(capsys, *args, "--plot", str(target))
    assert code == 2
    assert target.read_bytes() == previous
    assert list(folder.iterdir()) == [target]


def test_train_plot_png_is_valid_and_reproducible(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    first, second = tmp_path / "a.png", tmp_path / "b.png"
    code, out, err = invoke(capsys, "train", "--epochs", "30", "--plot", str(first))
    assert (code, err) == (0, "")
    assert str(first) in out
    code, _, _ = invoke(capsys, "train", "--epochs", "30", "--plot", str(second))
    assert code == 0
    data = first.read_bytes()
    assert data.startswith(PNG_MAGIC)
    assert data[12:16] == b"IHDR"
    assert data == second.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "b.png"]

    code, _, _ = invoke(capsys, "train", "--epochs", "30", "--lr", "0.02", "--plot", str(second))
    assert code == 0
    assert second.read_bytes() != data  # a different run draws a different curve


@pytest.mark.parametrize("overlay", [[], ["--overlay"]])
def test_compare_plot_svg_is_valid_and_reproducible(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, overlay: list[str]
) -> None:
    args = ["compare", "--epochs", "10", "--optimizers", "SGD", "Adam", *overlay, "--plot"]
    first, second = tmp_path / "a.svg", tmp_path / "b.svg"
    for target in (first, second):
        code, out, err = invoke(capsys, *args, str(target))
        assert (code, err) == (0, "")
        assert str(target) in out
    root = ET.fromstring(first.read_bytes())
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert first.read_bytes() == second.read_bytes()


# --------------------------------------------------------------------------- real processes

PROCESSES = {
    "dash_m_divergence": [sys.executable, "-m", "linreg", "train", "--lr", "1"],
    "script_success": [str(SCRIPT), "train", "--epochs", "5", "--json"],
}


@pytest.fixture(scope="module")
def processes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, str, str]]:
    """Run the commands above as real processes, in parallel: each one starts torch."""
    cwd = tmp_path_factory.mktemp("processes")  # away from the checkout
    started = {
        name: subprocess.Popen(
            command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for name, command in PROCESSES.items()
    }
    results = {}
    try:
        for name, process in started.items():
            out, err = process.communicate(timeout=180)
            results[name] = (process.returncode, out, err)
    finally:
        for process in started.values():
            if process.poll() is None:
                process.kill()
                process.communicate()
    return results


@pytest.mark.slow  # fresh Python processes
def test_python_dash_m_reports_divergence_in_one_line(
    processes: dict[str, tuple[int, str, str]],
) -> None:
    code, out, err = processes["dash_m_divergence"]
    assert_one_line_error(code, out, err, "diverged")
    assert err.startswith("linreg train: error: training diverged")


@pytest.mark.slow  # fresh Python processes
def test_console_script_success(processes: dict[str, tuple[int, str, str]]) -> None:
    assert SCRIPT.is_file()
    code, out, err = processes["script_success"]
    assert (code, err) == (0, "")
    _, history = api_train(epochs=5)
    assert json.loads(out)["history"]["losses"] == history.losses


# --------------------------------------------------------------------------- progress bar


def epochs_lasting(seconds: float) -> int:
    """How many epochs `linreg train` needs on the lesson's data to run at least `seconds`."""
    x, y = linreg.lesson_data()
    model = linreg.LinearModel()
    optimizer = linreg.make_optimizer("SGD", model.parameters(), lr=0.01)
    criterion = linreg.make_criterion("sum")
    # the fastest of a few timings, so that a quieter machine later still needs the time
    fastest = min(linreg.train(model, x, y, criterion, optimizer, 300).seconds for _ in range(3))
    return max(2000, math.ceil(seconds / fastest * 300))


def read_all(fd: int, into: list[bytes]) -> None:
    """Read a pseudo-terminal's output until every writer has closed it."""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the other side is closed
            return
        if not chunk:
            return
        into.append(chunk)


def run_with_stderr(stderr: TextIO, *args: str) -> tuple[int, str]:
    """Run `linreg ARGS` in-process with this stderr; return (exit code, stdout)."""
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(list(args))
    return code, stdout.getvalue()


@pytest.fixture(scope="module")
def long_runs() -> dict[str, tuple[int, str, str]]:
    """`linreg train --json` for two and a half seconds, stderr a terminal or not.

    Well past the bar's one-second delay: without the bar (not a terminal) the same
    epochs run faster, and a busy machine's calibration errs both ways.
    """
    args = ["train", "--json", "--epochs", str(epochs_lasting(2.5))]
    terminal, stderr_end = os.openpty()
    # 80 columns, as a new pseudo-terminal has no size
    fcntl.ioctl(stderr_end, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    drawn: list[bytes] = []
    reader = threading.Thread(target=read_all, args=(terminal, drawn))
    reader.start()
    try:
        with os.fdopen(stderr_end, "w", encoding="utf-8") as stderr:
            assert stderr.isatty()
            code, out = run_with_stderr(stderr, *args)
    finally:
        reader.join(timeout=10)
        os.close(terminal)
    results = {"terminal": (code, out, b"".join(drawn).decode())}
    not_a_terminal = io.StringIO()
    code, out = run_with_stderr(not_a_terminal, *args)
    results["not a terminal"] = (code, out, not_a_terminal.getvalue())
    return results


@pytest.mark.slow  # runs of seconds, to outlast the bar's delay
def test_long_run_on_a_terminal_draws_a_progress_bar(
    long_runs: dict[str, tuple[int, str, str]],
) -> None:
    code, out, err = long_runs["terminal"]
    assert code == 0
    history = json.loads(out)["history"]
    epochs = len(history["losses"])
    assert history["seconds"] > 1.0  # long enough for the bar's one-second delay
    # tqdm's bar: " 42%|████▏     | 1234/3000 [00:01<00:01, 1200.00epoch/s, loss=0.0123]"
    bars = re.findall(rf"\r\s*(\d+)%\|[^|\r]*\| (\d+)/{epochs} \[[^\]\r]*epoch/s, loss=", err)
    assert bars, f"no progress bar in {err[:300]!r}"
    assert all(int(done) <= epochs for _, done in bars)


@pytest.mark.slow  # runs of seconds, to outlast the bar's delay
def test_long_run_not_on_a_terminal_prints_only_the_results(
    long_runs: dict[str, tuple[int, str, str]],
) -> None:
    code, out, err = long_runs["not a terminal"]
    assert (code, err) == (0, "")
    history = json.loads(out)["history"]  # stdout is the results and nothing else
    assert history["seconds"] > 1.0
    # the bar only shows the run: with or without it, the same numbers
    _, terminal_out, _ = long_runs["terminal"]
    assert without_seconds(history) == without_seconds(json.loads(terminal_out)["history"])


def test_short_run_on_a_terminal_shows_no_bar(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # the default 100 epochs end long before tqdm's one-second delay
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code, out, err = invoke(capsys, "train")
    assert (code, err) == (0, "")
    assert "w = " in out


@pytest.mark.slow  # fresh Python processes
def test_import_linreg_and_its_cli_need_no_tqdm(tmp_path: Path) -> None:
    # torch itself imports tqdm when it is installed (torch.hub), so block it instead:
    # linreg imports tqdm only inside the command that draws the bar.
    script = "import sys; sys.modules['tqdm'] = None; import linreg, linreg.cli; print('ok')"
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "ok\n", "")
