"""Data parallel training on this CPU: epochs per second with 1 and 2 processes.

N = 1 000 000 synthetic rows (`linreg.synthetic_data`, two features), minibatches of 1024
per process, SGD lr=0.01, reduction='mean', `linreg.train`. Three runs, one after the other:
one process with 1 torch thread (what torchrun gives each process: OMP_NUM_THREADS=1), one
process with 2 threads, and 2 processes under torchrun (gloo, loopback only). The 2-process
run times every all-reduce of the gradients with a DDP communication hook: from the moment
the hook starts it to the moment its future completes (so the time a process waits for the
slower one is counted too). Then the same two ways at full batch (one step, one all-reduce,
per epoch), where the work between two all-reduces is 1000 times larger.

Run: `.venv/bin/python benchmarks/ddp.py [--epochs 5] [--json out.json]`; see
benchmarks/README.md. A run takes about a minute.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

import linreg
from linreg import distributed

ROOT = Path(__file__).resolve().parents[1]
N, BATCH, LR = 1_000_000, 1024, 0.01


def worker(epochs: int, threads: int, batch_size: int | None) -> None:
    """Train, timing each epoch; rank 0 prints one JSON line."""
    torch.set_num_threads(threads)
    parallel = distributed.init_from_env()
    x, y = distributed.shard(*linreg.synthetic_data([2.0, -3.4], 4.2, n=N, noise=0.01))
    torch.manual_seed(0)
    model = linreg.LinearModel(2)
    wrapped = distributed.wrap(model, "mean")
    allreduce: list[float] = []
    if parallel:
        world_size = dist.get_world_size()

        # DDP's own averaging (divide, then all-reduce by sum), timed.
        def timed(state, bucket):  # DDP checks these two names; no annotations (see linreg)
            start = time.perf_counter()
            work = dist.all_reduce(bucket.buffer().div_(world_size), async_op=True)

            def done(future):
                allreduce.append(time.perf_counter() - start)
                return future.value()[0]

            return work.get_future().then(done)

        wrapped.register_comm_hook(None, timed)
    ends = [time.perf_counter()]
    marks = [0]

    def lap(epoch: int, loss: float, model: torch.nn.Module) -> None:
        ends.append(time.perf_counter())
        marks.append(len(allreduce))

    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    history = linreg.train(
        wrapped,
        x,
        y,
        linreg.make_criterion("mean"),
        optimizer,
        epochs,
        batch_size,
        seed=0,
        callback=lap,
    )
    seconds = [b - a for a, b in itertools.pairwise(ends)]
    reduce_seconds = [sum(allreduce[a:b]) for a, b in itertools.pairwise(marks)]
    if distributed.is_main():
        result = {
            "epoch_seconds": seconds,
            "allreduce_seconds": reduce_seconds,
            "allreduces_per_epoch": marks[1] - marks[0],
            "steps_per_epoch": len(history.step_losses) // epochs,
            "final_loss": history.final_loss,
        }
        print(json.dumps(result))


def launch(epochs: int, processes: int, threads: int, full_batch: bool = False) -> dict[str, Any]:
    """Run the worker in a fresh process (or torchrun's processes); its JSON result."""
    command = [sys.executable]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": str(threads)}
    if processes > 1:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        command += ["-m", "torch.distributed.run", f"--nproc-per-node={processes}"]
        command += ["--rdzv-backend=c10d", f"--rdzv-endpoint=127.0.0.1:{port}"]
        command += ["--local-addr=127.0.0.1"]
        env |= {"MASTER_ADDR": "127.0.0.1", "GLOO_SOCKET_IFNAME": "lo"}
    command += [__file__, "--worker", "--epochs", str(epochs), "--threads", str(threads)]
    command += ["--full-batch"] if full_batch else []
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        raise SystemExit(f"the {processes}-process run failed:\n{result.stderr[:6000]}")
    summary: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    laps = summary["epoch_seconds"][1:]  # the first epoch warms up
    summary["epochs_per_second"] = 1 / statistics.median(laps)
    summary["allreduce_share"] = statistics.median(
        r / s for r, s in zip(summary["allreduce_seconds"][1:], laps, strict=True)
    )
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5, help="epochs per run, the first a warm-up")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--full-batch", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.epochs, args.threads, None if args.full_batch else BATCH)
        distributed.leave()  # once worker has returned, and its DDP model is gone
        return
    start = time.time()
    load = os.getloadavg()
    print(f"# benchmarks/ddp.py, {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC")
    print(
        f"# Python {platform.python_version()}, torch {torch.__version__}, "
        f"{os.cpu_count()} CPUs, load average {load[0]:.2f} at start"
    )
    print(
        f"# N = {N:,}, batch {BATCH} per process, {args.epochs} epochs per run "
        f"(median of the last {args.epochs - 1})"
    )
    runs = {
        "1 process, 1 thread": launch(args.epochs, 1, 1),
        "1 process, 2 threads": launch(args.epochs, 1, 2),
        "2 processes, 1 thread each": launch(args.epochs, 2, 1),
        "full batch, 1 process": launch(4 * args.epochs, 1, 1, full_batch=True),
        "full batch, 2 processes": launch(4 * args.epochs, 2, 1, full_batch=True),
    }
    base = runs["1 process, 1 thread"]["epochs_per_second"]
    print(f"{'run':<28} {'epochs/s':>9} {'ratio':>6} {'steps/epoch':>12} {'all-reduce':>11}")
    for name, run in runs.items():
        if name.startswith("full batch, 1"):
            base = run["epochs_per_second"]
        share = f"{run['allreduce_share']:.0%}" if run["allreduces_per_epoch"] else "-"
        print(
            f"{name:<28} {run['epochs_per_second']:>9.3f} {run['epochs_per_second'] / base:>6.2f} "
            f"{run['steps_per_epoch']:>12} {share:>11}"
        )
    parallel = runs["2 processes, 1 thread each"]
    per_call = (
        statistics.median(parallel["allreduce_seconds"][1:]) / parallel["allreduces_per_epoch"]
    )
    print(
        f"# all-reduce: {parallel['allreduces_per_epoch']} per epoch (one per step), "
        f"{per_call * 1e6:.0f} µs each on average, waiting for the other process included"
    )
    print(f"# load average {os.getloadavg()[0]:.2f} at end, {time.time() - start:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(runs, indent=2))


if __name__ == "__main__":
    main()
