"""Data parallel training, in real torchrun processes: the numbers of one process, clean failures.

Each torchrun launch costs seconds of start-up, so one launch of `API_SCRIPT` covers the
Python API (several runs, each against its one-process oracle, and every refusal), and
each command-line launch checks one behaviour of `linreg train` or `linreg compare`.

Loopback only: torchrun joins its rendezvous on 127.0.0.1 (`--rdzv-endpoint`,
`--local-addr`, so MASTER_ADDR is 127.0.0.1 too) and gloo binds `lo`
(GLOO_SOCKET_IFNAME). torch's TCP store nevertheless listens on every interface
(measured with `ss -ltn`, torch 2.13), so where `unshare` can make a private network
namespace, whose only interface is `lo`, the launches run inside one.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import linreg
from linreg import distributed
from linreg.cli import main

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 120  # seconds: no launch may hang a test run
# Full-batch DDP equals one process up to the order of the additions. Measured (torch 2.13,
# float32, API_SCRIPT's runs): losses within 5.5e-7 relative (the shards' float32 losses
# combined in float64 against one float32 loss over all N), SGD's weights bit for bit
# after 50 epochs, LBFGS's within 6e-8 relative. The bound leaves a margin of about 20.
RTOL, ATOL = 1e-5, 1e-6


@cache
def _namespace() -> tuple[str, ...]:
    """The command prefix that runs a launch in a private network namespace, if any."""
    if not (shutil.which("unshare") and shutil.which("ip")):
        return ()
    command = (
        "unshare",
        "--net",
        "--map-root-user",
        "sh",
        "-c",
        'ip link set lo up && exec "$@"',
        "sh",
    )
    try:
        probe = subprocess.run([*command, "true"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ()
    return command if probe.returncode == 0 else ()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def torchrun(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `torchrun --nproc-per-node=2 ARGS` on the loopback interface, bounded in time."""
    command = [
        *_namespace(),
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc-per-node=2",
        "--rdzv-backend=c10d",
        f"--rdzv-endpoint=127.0.0.1:{_free_port()}",
        "--local-addr=127.0.0.1",
        *args,
    ]
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "MASTER_ADDR": "127.0.0.1",
        "GLOO_SOCKET_IFNAME": "lo",
        **env,
    }
    return subprocess.run(
        command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=TIMEOUT
    )


def write_csv(path: Path, n: int) -> Path:
    x, y = linreg.synthetic_data([2.0, -3.4], 4.2, n=n, noise=0.1)
    np.savetxt(path, torch.cat([x, y], dim=1).numpy(), delimiter=",")
    return path


def close(a: Any, b: Any) -> bool:
    return bool(np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), RTOL, ATOL))


# --------------------------------------------------------------------------- Python API

API_SCRIPT = r"""
import json, os, sys
import torch
import linreg
from linreg import distributed


def threads():  # this process's threads, gloo's included (Linux); None elsewhere
    return len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else None


before = threads()
assert distributed.init_from_env()
rank = torch.distributed.get_rank()
x, y = linreg.synthetic_data([2.0, -3.4], 4.2, n=1000, noise=0.1)
xs, ys = distributed.shard(x, y)
out = {"rank": rank, "is_main": distributed.is_main(), "shard": xs.shape[0]}


def run(reduction, name, lr, epochs, batch_size=None, parallel=True, **options):
    torch.manual_seed(0)
    model = linreg.LinearModel(2)
    optimizer = linreg.make_optimizer(name, model.parameters(), lr=lr)
    history = linreg.train(
        distributed.wrap(model, reduction) if parallel else model,
        xs if parallel else x,
        ys if parallel else y,
        linreg.make_criterion(reduction),
        optimizer,
        epochs,
        batch_size,
        seed=0,
        **options,
    )
    return history.to_dict()


for key, settings in {
    "mean": ("mean", "SGD", 0.1, 50),
    "sum": ("sum", "SGD", 1e-4, 50),
    "lbfgs": ("mean", "LBFGS", 1.0, 3),
}.items():
    out[key] = run(*settings)
    out[key + "_one"] = run(*settings, parallel=False)
out["minibatch"] = run("mean", "SGD", 0.05, 2, 100, full_loss_every="update")


def refusal(action):
    try:
        action()
    except linreg.LinregError as err:
        return str(err)
    return None


out["sum_averaged"] = refusal(
    lambda: linreg.train(
        distributed.wrap(model := linreg.LinearModel(2)), xs, ys, linreg.make_criterion("sum"),
        torch.optim.SGD(model.parameters(), lr=0.1), 1,
    )
)
out["unequal"] = refusal(
    lambda: linreg.train(
        distributed.wrap(model := linreg.LinearModel(2)), xs[: 10 + rank], ys[: 10 + rank],
        linreg.make_criterion("mean"), torch.optim.SGD(model.parameters(), lr=0.1), 1,
    )
)
out["diverged"] = refusal(lambda: run("sum", "SGD", 0.01, 20))
out["diverged_one"] = refusal(lambda: run("sum", "SGD", 0.01, 20, parallel=False))
out["odd"] = refusal(lambda: distributed.shard(x[:999], y[:999]))
out["too_many"] = refusal(lambda: distributed.shard(x[:1], y[:1]))
out["one_failed"] = refusal(
    lambda: distributed.check_all(OSError("disk on fire") if rank == 1 else None)
)
json.dump(out, open(f"api{rank}.json", "w"))
during = threads()
distributed.leave()
json.dump([before, during, threads()], open(f"threads{rank}.json", "w"))
"""


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """One launch of `API_SCRIPT`; what each of the two processes recorded."""
    folder = tmp_path_factory.mktemp("api")
    (folder / "api.py").write_text(API_SCRIPT)
    result = torchrun(folder, "api.py")
    assert result.returncode == 0, result.stderr[:4000]
    return [
        {
            **json.loads((folder / f"api{rank}.json").read_text()),
            "threads": json.loads((folder / f"threads{rank}.json").read_text()),
        }
        for rank in (0, 1)
    ]


def test_leaving_ends_the_group_and_its_threads(api: list[dict[str, Any]]) -> None:
    # `distributed.leave()` must free the gloo group, which joins its worker threads. A
    # group that outlives it (held by a DDP model, or by torch.distributed.nn's default
    # arguments) keeps threads that can abort the process at interpreter shutdown, when
    # one of them releases a finished collective's tensors: rarely, so count the threads.
    for run in api:
        before, during, after = run["threads"]
        if before is None:
            pytest.skip("counting a process's threads needs /proc/self/task (Linux)")
        assert during > before, "the group has no threads of its own to count"
        assert after == before, f"threads before, with and after the group: {run['threads']}"


def test_each_process_trains_on_an_equal_shard(api: list[dict[str, Any]]) -> None:
    assert [(run["rank"], run["is_main"], run["shard"]) for run in api] == [
        (0, True, 500),
        (1, False, 500),
    ]


@pytest.mark.parametrize("key", ["mean", "sum", "lbfgs"])
def test_full_batch_equals_one_process_up_to_rounding(api: list[dict[str, Any]], key: str) -> None:
    parallel, alone = api[0][key], api[0][key + "_one"]
    # Every process holds the same numbers: the weights (DDP) and the combined losses.
    assert {k: v for k, v in api[1][key].items() if k != "seconds"} == {
        k: v for k, v in parallel.items() if k != "seconds"
    }
    for field in ("losses", "step_losses", "full_losses", "weight", "bias"):
        assert close(parallel[field], alone[field]), field
    assert parallel["loss_evaluations"] == alone["loss_evaluations"]
    # Not bit for bit: the shards' sums are added in another order.
    assert parallel["full_losses"][-1] == pytest.approx(alone["full_losses"][-1], rel=RTOL)


def test_minibatches_take_the_mean_over_both_processes_batches(api: list[dict[str, Any]]) -> None:
    # The oracle in plain torch: each step's batch is both ranks' batches together (each rank
    # draws the same order of its own 500 rows), and full_losses is the loss on all 1000 rows.
    x, y = linreg.synthetic_data([2.0, -3.4], 4.2, n=1000, noise=0.1)
    shards = [(x[:500], y[:500]), (x[500:], y[500:])]
    torch.manual_seed(0)
    model = linreg.LinearModel(2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    criterion = torch.nn.MSELoss()
    generator = torch.Generator().manual_seed(0)
    step_losses, full_losses = [], [criterion(model(x), y).item()]
    for _ in range(2):
        order = torch.randperm(500, generator=generator)
        for start in range(0, 500, 100):
            index = order[start : start + 100]
            xb = torch.cat([xs[index] for xs, _ in shards])
            yb = torch.cat([ys[index] for _, ys in shards])
            loss = criterion(model(xb), yb)
            step_losses.append(loss.item())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                full_losses.append(criterion(model(x), y).item())
    run = api[0]["minibatch"]
    assert close(run["step_losses"], step_losses)
    assert close(run["full_losses"], full_losses)
    assert close(run["weight"], model.linear.weight.tolist())


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (
            "sum_averaged",
            "reduction='sum' but the model's gradients are averaged over the 2 "
            "processes, so each step would be 2 times smaller than on one process: wrap the model "
            "with linreg.distributed.wrap(model, reduction='sum')",
        ),
        ("unequal", "the processes hold [10, 11] samples"),
        ("odd", "999 samples do not split into 2 equal shards"),
        (
            "too_many",
            "2 processes but only 1 sample(s): each process needs at least one; run at "
            "most 1 process(es)",
        ),
        ("one_failed", "process 1 of 2: disk on fire"),
    ],
)
def test_bad_input_stops_every_process_with_the_same_message(
    api: list[dict[str, Any]], key: str, message: str
) -> None:
    assert api[0][key] is not None
    assert message in api[0][key]
    assert api[1][key] == api[0][key]


def test_divergence_is_found_together_and_names_the_bound_of_all_the_data(
    api: list[dict[str, Any]],
) -> None:
    # The combined loss becomes inf in the same epoch in both processes, and the stable lr
    # is computed from all the processes' rows: the message of one process, word for word.
    assert api[0]["diverged"] == api[1]["diverged"] == api[0]["diverged_one"]
    assert "training diverged at epoch" in api[0]["diverged"]
    assert "the largest stable lr for full-batch SGD, reduction='sum', is" in api[0]["diverged"]


def test_without_torchrun_nothing_changes() -> None:
    assert not distributed.init_from_env()
    x, y = linreg.lesson_data()
    model = linreg.LinearModel()
    assert distributed.shard(x, y) == (x, y)
    assert distributed.wrap(model, "sum") is model
    assert distributed.is_main()


# --------------------------------------------------------------------------- the command

# Runs the command under torchrun with `{rank}` in its arguments replaced by the rank; with
# FAIL=exit or FAIL=hang, rank 1 dies or stops answering after epoch 20, and the processes
# give up waiting for each other after 3 s instead of 60.
CLI_SCRIPT = r"""
import os, sys, time
import linreg.cli

rank = os.environ["RANK"]
train, init_from_env = linreg.cli.train, linreg.cli.init_from_env


def failing_train(*args, callback=None, **kwargs):
    def fail(epoch, loss, model):
        if rank == "1" and epoch == 20:
            if os.environ["FAIL"] == "exit":
                os._exit(1)
            time.sleep(TIMEOUT)

    return train(*args, callback=fail, **kwargs)


TIMEOUT = 100
if os.environ.get("FAIL"):
    linreg.cli.train = failing_train
linreg.cli.init_from_env = lambda: init_from_env(timeout=3)
sys.exit(linreg.cli.main([arg.format(rank=rank) for arg in sys.argv[1:]]))
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "cli.py").write_text(CLI_SCRIPT)
    write_csv(tmp_path / "data.csv", 1000)
    return tmp_path


def test_train_prints_once_what_one_process_prints(
    folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["train", "--data", "data.csv", "--reduction", "mean", "--lr", "0.1", "--epochs", "50"]
    result = torchrun(folder, "-m", "linreg", *args, "--plot", "loss.png")
    assert result.returncode == 0, result.stderr[:4000]
    monkeypatch.chdir(folder)
    assert main(args) == 0
    alone = capsys.readouterr().out.splitlines()
    lines = result.stdout.splitlines()
    # The same report, each line once, at six significant digits (the timing aside), with
    # one more line that says how the run was split.
    assert lines.pop(1) == (
        "data parallel: 2 processes (gloo), 500 samples each; gradients averaged across "
        "the processes"
    )
    assert lines.pop() == "loss curve written to loss.png"
    assert lines[:-1] == alone[:-1]
    assert lines[-1].startswith("50 loss evaluations in ")
    assert (folder / "loss.png").read_bytes().startswith(b"\x89PNG")
    assert sorted(p.name for p in folder.iterdir()) == ["cli.py", "data.csv", "loss.png"]


def test_compare_with_sum_sums_the_gradients(
    folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["compare", "--data", "data.csv", "--lr", "1e-4", "--epochs", "30", "--json"]
    args += ["--reduction", "sum", "--optimizers", "SGD", "Adam", "LBFGS"]
    result = torchrun(folder, "-m", "linreg", *args)
    assert result.returncode == 0, result.stderr[:4000]
    parallel = json.loads(result.stdout)  # one JSON document: rank 0 alone printed
    monkeypatch.chdir(folder)
    assert main(args) == 0
    alone = json.loads(capsys.readouterr().out)
    assert list(parallel) == list(alone) == ["SGD", "Adam", "LBFGS"]
    for name in parallel:
        for field in ("losses", "full_losses", "weight", "bias"):
            assert close(parallel[name][field], alone[name][field]), (name, field)
        assert parallel[name]["loss_evaluations"] == alone[name]["loss_evaluations"]


def one_error_line(result: subprocess.CompletedProcess[str], start: str) -> str:
    """The command's own error lines (torchrun adds its report of the failed processes)."""
    ours = [line for line in result.stderr.splitlines() if line.startswith("linreg ")]
    assert len(ours) == 1, result.stderr[:4000]
    assert ours[0].startswith(start)
    assert "[rank" not in result.stderr  # torch marks a process's traceback with [rankN]:
    return ours[0]


def test_samples_that_do_not_split_evenly_are_refused(folder: Path) -> None:
    write_csv(folder / "odd.csv", 999)
    result = torchrun(folder, "cli.py", "train", "--data", "odd.csv", "--plot", "loss.png")
    assert result.returncode != 0
    assert result.stdout == ""
    assert one_error_line(result, "linreg train: error: ") == (
        "linreg train: error: 999 samples do not split into 2 equal shards, and the mean of "
        "unequal shards' gradients is not the gradient on all the data: keep 998 samples "
        "(drop the last 1), or run a number of processes that divides 999"
    )
    assert not (folder / "loss.png").exists()


def test_a_file_missing_in_one_process_stops_them_all(folder: Path) -> None:
    (folder / "data.csv").rename(folder / "data0.csv")
    result = torchrun(folder, "cli.py", "train", "--data", "data{rank}.csv")
    assert result.returncode != 0
    assert one_error_line(result, "linreg train: error: process 1 of 2: cannot read data1.csv")


# A run far longer than any test waits for: it ends only by a process failing.
LONG_RUN = (
    "train",
    "--data",
    "data.csv",
    "--reduction",
    "mean",
    "--lr",
    "0.1",
    "--epochs",
    "100000",
)


def test_a_process_that_dies_stops_the_others(folder: Path) -> None:
    result = torchrun(folder, "cli.py", *LONG_RUN, "--plot", "loss.png", FAIL="exit")
    # torchrun sees rank 1 exit and stops rank 0 (SIGTERM): no hang, no file.
    assert result.returncode != 0
    assert result.stdout == ""
    assert "exitcode  : 1" in result.stderr
    assert not (folder / "loss.png").exists()


def test_a_process_that_hangs_is_given_up_after_the_timeout(folder: Path) -> None:
    result = torchrun(folder, "cli.py", *LONG_RUN, FAIL="hang")
    assert result.returncode != 0
    line = one_error_line(result, "linreg train: error: process 0 lost the other processes (")
    assert "Timed out" in line
    assert line.endswith("one of them failed or hangs, see its message")
