"""Benchmarks of linreg: every figure is a ratio or difference measured side by side.

Run with `make bench`, or `.venv/bin/python benchmarks/run.py [--quick] [--json out.json]`.
See benchmarks/README.md for what is measured and why. The exit code is 0 even when a
target is missed: the table says MISSED instead.
"""

from __future__ import annotations

import argparse
import ast
import compileall
import datetime
import functools
import gc
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch.utils.data import DataLoader, TensorDataset

import linreg
from linreg.checks import check_data
from linreg.data import unchecked_minibatches

ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")


@dataclass(frozen=True)
class Sizes:
    train_epochs: int  # epochs per timed repeat
    train_repeats: int  # pairs (linreg.train, hand-written loop)
    rows: int  # N of the minibatch benchmarks
    batch_size: int
    iterator_rounds: int  # each round: one epoch of each of the four batch loops
    dataloader_runs: int
    import_rounds: int  # each round: one fresh process per import variant


FULL = Sizes(1000, 60, 1_000_000, 1024, 15, 2, 10)
QUICK = Sizes(300, 8, 100_000, 1024, 5, 1, 2)


@dataclass
class Result:
    key: str
    title: str
    value: float
    unit: str
    target: float
    better: str  # "lower" or "higher": which side of the target passes
    statistic: str  # how `value` was computed from the samples
    details: dict[str, Any] = field(default_factory=dict)
    ci: list[float] | None = None  # 95% confidence interval of `value`, when it has one

    @property
    def passed(self) -> bool:
        return self.value <= self.target if self.better == "lower" else self.value >= self.target

    @property
    def borderline(self) -> bool:
        """The confidence interval holds the target: another run may give the other verdict."""
        return self.ci is not None and self.ci[0] <= self.target <= self.ci[1]

    @property
    def verdict(self) -> str:
        text = "pass" if self.passed else "MISSED"
        return f"{text} (borderline)" if self.borderline else text


# --- timing helpers ----------------------------------------------------------------------


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    """Seconds taken by one call of `fn` and its result, with the garbage collector off."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        result = fn()
        return time.perf_counter() - start, result
    finally:
        gc.enable()


def median(values: list[float]) -> float:
    return statistics.median(values)


def quartiles(values: list[float]) -> tuple[float, float]:
    if len(values) < 2:
        return values[0], values[0]
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q3


def spread(values: list[float], digits: int = 3) -> dict[str, Any]:
    q1, q3 = quartiles(values)
    return {
        "n": len(values),
        "median": round(median(values), digits),
        "q1": round(q1, digits),
        "q3": round(q3, digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
    }


def median_ci(values: list[float], digits: int = 3) -> list[float]:
    """A 95% bootstrap confidence interval of the median: how sharp the figure is."""
    rng = random.Random(0)
    medians = sorted(median(rng.choices(values, k=len(values))) for _ in range(2000))
    return [round(medians[49], digits), round(medians[1949], digits)]


def progress(message: str) -> None:
    print(f"  .. {message}", file=sys.stderr, flush=True)


# --- 1. linreg.train against the lesson's hand-written loop ---------------------------------


def _lesson_setup() -> tuple[torch.nn.Module, torch.nn.Module, torch.optim.Optimizer]:
    torch.manual_seed(0)
    model = linreg.LinearModel()
    criterion = torch.nn.MSELoss(reduction="sum")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    return model, criterion, optimizer


def run_linreg_train(x: torch.Tensor, y: torch.Tensor, epochs: int) -> tuple[float, list[float]]:
    model, criterion, optimizer = _lesson_setup()
    seconds, history = timed(lambda: linreg.train(model, x, y, criterion, optimizer, epochs))
    return seconds, history.losses


def run_hand_written(x: torch.Tensor, y: torch.Tensor, epochs: int) -> tuple[float, list[float]]:
    model, criterion, optimizer = _lesson_setup()
    losses: list[float] = []

    def loop() -> None:
        # The lesson's loop, word for word.
        for _ in range(epochs):
            y_pred = model(x)
            loss = criterion(y_pred, y)
            losses.append(loss.item())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    return timed(loop)[0], losses


def bench_train(sizes: Sizes) -> Result:
    x, y = linreg.lesson_data()
    epochs = sizes.train_epochs
    # Warm up both (first calls allocate, fill caches, resolve dispatch).
    run_linreg_train(x, y, 50)
    run_hand_written(x, y, 50)
    _, lib_losses = run_linreg_train(x, y, epochs)
    _, hand_losses = run_hand_written(x, y, epochs)
    same = lib_losses == hand_losses

    lib_times: list[float] = []
    hand_times: list[float] = []
    ratios: list[float] = []
    for repeat in range(sizes.train_repeats):
        # Alternate which one runs first, so neither always gets the warmer slot.
        if repeat % 2 == 0:
            lib, _ = run_linreg_train(x, y, epochs)
            hand, _ = run_hand_written(x, y, epochs)
        else:
            hand, _ = run_hand_written(x, y, epochs)
            lib, _ = run_linreg_train(x, y, epochs)
        lib_times.append(lib)
        hand_times.append(hand)
        ratios.append(lib / hand)

    def per_epoch_us(times: list[float]) -> dict[str, Any]:
        return spread([t / epochs * 1e6 for t in times], digits=1)

    return Result(
        key="train_vs_hand_written",
        title="linreg.train / hand-written loop",
        value=median(ratios),
        unit="x",
        target=1.05,
        better="lower",
        statistic=f"median of {len(ratios)} paired ratios, {epochs} epochs each",
        ci=median_ci(ratios),
        details={
            "epochs_per_repeat": epochs,
            "ratio": spread(ratios),
            "ratio_of_minimums": round(min(lib_times) / min(hand_times), 3),
            "extra_us_per_epoch": spread(
                [(a - b) / epochs * 1e6 for a, b in zip(lib_times, hand_times, strict=True)], 1
            ),
            "train_us_per_epoch": per_epoch_us(lib_times),
            "hand_written_us_per_epoch": per_epoch_us(hand_times),
            "identical_losses": same,
        },
    )


# --- 2 and 3. the minibatch iterator against DataLoader and raw index slicing --------------


def epoch_minibatches(x: torch.Tensor, y: torch.Tensor, batch: int, seed: int) -> int:
    generator = torch.Generator().manual_seed(seed)
    rows = 0
    for xb, _ in linreg.minibatches(x, y, batch, shuffle=True, generator=generator):
        rows += xb.shape[0]
    return rows


def epoch_unchecked_minibatches(x: torch.Tensor, y: torch.Tensor, batch: int, seed: int) -> int:
    generator = torch.Generator().manual_seed(seed)
    rows = 0
    for xb, _ in unchecked_minibatches(x, y, batch, True, generator):
        rows += xb.shape[0]
    return rows


def epoch_raw(x: torch.Tensor, y: torch.Tensor, batch: int, seed: int) -> int:
    generator = torch.Generator().manual_seed(seed)
    rows = 0
    perm = torch.randperm(x.shape[0], generator=generator)
    for i in range(0, x.shape[0], batch):
        idx = perm[i : i + batch]
        xb, _yb = x[idx], y[idx]
        rows += xb.shape[0]
    return rows


def epoch_raw_index_select(x: torch.Tensor, y: torch.Tensor, batch: int, seed: int) -> int:
    generator = torch.Generator().manual_seed(seed)
    rows = 0
    perm = torch.randperm(x.shape[0], generator=generator)
    for i in range(0, x.shape[0], batch):
        idx = perm[i : i + batch]
        xb, _yb = x.index_select(0, idx), y.index_select(0, idx)
        rows += xb.shape[0]
    return rows


def epoch_permute_once(x: torch.Tensor, y: torch.Tensor, batch: int, seed: int) -> int:
    # One gather per epoch, then contiguous slices: the same batches, one copy of the data.
    generator = torch.Generator().manual_seed(seed)
    rows = 0
    perm = torch.randperm(x.shape[0], generator=generator)
    xs, ys = x.index_select(0, perm), y.index_select(0, perm)
    for i in range(0, x.shape[0], batch):
        xb, _yb = xs[i : i + batch], ys[i : i + batch]
        rows += xb.shape[0]
    return rows


def epoch_dataloader(x: torch.Tensor, y: torch.Tensor, batch: int) -> int:
    rows = 0
    for xb, _ in DataLoader(TensorDataset(x, y), batch_size=batch, shuffle=True):
        rows += xb.shape[0]
    return rows


def _first_batch(batches: Iterator[tuple[torch.Tensor, torch.Tensor]]) -> torch.Tensor:
    return next(iter(batches))[0]


def bench_minibatches(sizes: Sizes) -> list[Result]:
    n, batch = sizes.rows, sizes.batch_size
    data_generator = torch.Generator().manual_seed(0)
    x = torch.randn(n, 2, generator=data_generator)
    y = torch.randn(n, 1, generator=data_generator)

    # Same seed, same batches: the raw loop does exactly the iterator's work.
    seeded = torch.Generator().manual_seed(7)
    first = _first_batch(linreg.minibatches(x, y, batch, shuffle=True, generator=seeded))
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(7))
    same_batches = torch.equal(first, x[perm[:batch]])

    runners: dict[str, Callable[[int], int]] = {
        "minibatches": lambda seed: epoch_minibatches(x, y, batch, seed),
        "raw": lambda seed: epoch_raw(x, y, batch, seed),
        "unchecked_minibatches": lambda seed: epoch_unchecked_minibatches(x, y, batch, seed),
        "index_select": lambda seed: epoch_raw_index_select(x, y, batch, seed),
        "permute_once": lambda seed: epoch_permute_once(x, y, batch, seed),
    }
    for run in runners.values():  # warm-up
        run(0)

    times: dict[str, list[float]] = {name: [] for name in runners}
    check_times: list[float] = []
    dataloader_times: list[float] = []
    ratios_raw: list[float] = []
    ratios_unchecked: list[float] = []
    rows_seen: set[int] = set()
    names = list(runners)
    rounds = sizes.iterator_rounds
    # DataLoader epochs are spread over the run: the first after round 0, then evenly.
    dataloader_after = {
        round(i * rounds / sizes.dataloader_runs) for i in range(sizes.dataloader_runs)
    }
    for r in range(rounds):
        # minibatches and raw run back to back; each round reverses who goes first.
        order = names if r % 2 == 0 else names[::-1]
        this_round: dict[str, float] = {}
        for name in order:
            seconds, rows = timed(functools.partial(runners[name], r))
            this_round[name] = seconds
            times[name].append(seconds)
            rows_seen.add(rows)
        ratios_raw.append(this_round["minibatches"] / this_round["raw"])
        ratios_unchecked.append(this_round["unchecked_minibatches"] / this_round["raw"])
        check_times.append(timed(lambda: check_data(x, y))[0])
        if r in dataloader_after:
            progress(f"DataLoader epoch {len(dataloader_times) + 1}/{sizes.dataloader_runs}")
            seconds, rows = timed(lambda: epoch_dataloader(x, y, batch))
            dataloader_times.append(seconds)
            rows_seen.add(rows)

    def ms(values: list[float]) -> dict[str, Any]:
        return spread([v * 1e3 for v in values], digits=2)

    common = {"rows": n, "batch_size": batch, "batches_per_epoch": -(-n // batch)}
    vs_dataloader = Result(
        key="minibatches_vs_dataloader",
        title="DataLoader / minibatches (speed-up)",
        value=min(dataloader_times) / min(times["minibatches"]),
        unit="x",
        target=50.0,
        better="higher",
        statistic=(
            f"min of {len(dataloader_times)} DataLoader epochs / "
            f"min of {len(times['minibatches'])} iterator epochs"
        ),
        details={
            **common,
            "dataloader_epoch_ms": ms(dataloader_times),
            "minibatches_epoch_ms": ms(times["minibatches"]),
            "ratio_of_medians": round(median(dataloader_times) / median(times["minibatches"]), 1),
            "speed_up_of_unchecked_batches": round(
                min(dataloader_times) / min(times["unchecked_minibatches"]), 1
            ),
            "speed_up_of_raw_slicing": round(min(dataloader_times) / min(times["raw"]), 1),
            "speed_up_of_index_select_per_batch": round(
                min(dataloader_times) / min(times["index_select"]), 1
            ),
            "speed_up_of_permute_once_then_slice": round(
                min(dataloader_times) / min(times["permute_once"]), 1
            ),
            "every_epoch_covered_all_rows": rows_seen == {n},
        },
    )
    vs_raw = Result(
        key="minibatches_vs_raw_slicing",
        title="minibatches / raw randperm slicing",
        value=median(ratios_raw),
        unit="x",
        target=1.2,
        better="lower",
        statistic=f"median of {len(ratios_raw)} paired ratios, one epoch each",
        ci=median_ci(ratios_raw),
        details={
            **common,
            "ratio": spread(ratios_raw),
            "ratio_of_minimums": round(min(times["minibatches"]) / min(times["raw"]), 3),
            "unchecked_batches_over_raw": spread(ratios_unchecked),
            "minibatches_epoch_ms": ms(times["minibatches"]),
            "raw_epoch_ms": ms(times["raw"]),
            "unchecked_batches_epoch_ms": ms(times["unchecked_minibatches"]),
            "raw_index_select_epoch_ms": ms(times["index_select"]),
            "permute_once_then_slice_epoch_ms": ms(times["permute_once"]),
            "check_data_ms": ms(check_times),
            "same_batches_as_raw": same_batches,
        },
    )
    return [vs_dataloader, vs_raw]


# --- 4. the cost of `import linreg` on top of `import torch` ------------------------------

_CHILD = """\
import sys, time
t0 = time.perf_counter()
import torch
t1 = time.perf_counter()
out = {"torch_ms": (t1 - t0) * 1e3}
if WITH_LINREG:
    before = set(sys.modules)
    import linreg
    out["linreg_ms"] = (time.perf_counter() - t1) * 1e3
    out["new_modules"] = sorted(set(sys.modules) - before)
    out["file"] = linreg.__file__
out["matplotlib"] = "matplotlib" in sys.modules
print(repr(out))
"""


def _child_code(with_linreg: bool) -> str:
    return _CHILD.replace("WITH_LINREG", repr(with_linreg))


def bench_import(sizes: Sizes) -> Result:
    workdir = Path(tempfile.mkdtemp(prefix="linreg-bench-"))
    try:
        return _bench_import(sizes, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _bench_import(sizes: Sizes, workdir: Path) -> Result:
    # Two copies of the package, so the project tree is never written to: `warm` with its
    # bytecode compiled (what a user gets after the first import), `cold` without, read
    # with PYTHONDONTWRITEBYTECODE=1 so every import compiles the sources again.
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("warm", "cold"):
        shutil.copytree(ROOT / "linreg", workdir / name / "linreg", ignore=ignore)
    compileall.compile_dir(workdir / "warm" / "linreg", quiet=1)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    base_env["PYTHONDONTWRITEBYTECODE"] = "1"
    variants: dict[str, tuple[str, dict[str, str]]] = {
        "torch": (_child_code(False), base_env),
        "warm": (_child_code(True), {**base_env, "PYTHONPATH": str(workdir / "warm")}),
        "cold": (_child_code(True), {**base_env, "PYTHONPATH": str(workdir / "cold")}),
    }

    def launch(name: str) -> tuple[float, dict[str, Any]]:
        code, env = variants[name]
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", code],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        wall = time.perf_counter() - start
        return wall * 1e3, ast.literal_eval(done.stdout.strip().splitlines()[-1])

    launch("torch")  # warm-up: the first process pays for the disk cache
    walls: dict[str, list[float]] = {name: [] for name in variants}
    inner: dict[str, list[float]] = {"warm": [], "cold": []}
    diffs: dict[str, list[float]] = {"warm": [], "cold": []}
    reports: dict[str, dict[str, Any]] = {}
    torch_ms: list[float] = []
    matplotlib = False
    names = list(variants)
    for r in range(sizes.import_rounds):
        progress(f"import round {r + 1}/{sizes.import_rounds}")
        order = names[r % len(names) :] + names[: r % len(names)]
        this_round = {}
        for name in order:
            wall, report = launch(name)
            this_round[name] = wall
            walls[name].append(wall)
            reports[name] = report
            torch_ms.append(report["torch_ms"])
            if name != "torch":
                inner[name].append(report["linreg_ms"])
                matplotlib = matplotlib or report["matplotlib"]
        for name in ("warm", "cold"):
            diffs[name].append(this_round[name] - this_round["torch"])

    expected = {str(workdir / name / "linreg" / "__init__.py") for name in ("warm", "cold")}
    loaded = {reports[name]["file"] for name in ("warm", "cold")}
    added = [m for m in reports["warm"]["new_modules"] if m.split(".")[0] != "linreg"]
    return Result(
        key="import_cost",
        title="import linreg after import torch",
        value=median(inner["warm"]),
        unit="ms",
        target=20.0,
        better="lower",
        statistic=(
            f"median of {len(inner['warm'])} fresh processes, timed inside the process, "
            "bytecode cached"
        ),
        details={
            "in_process_ms_warm": spread(inner["warm"], 1),
            "in_process_ms_cold_no_bytecode": spread(inner["cold"], 1),
            "whole_process_difference_ms_warm": spread(diffs["warm"], 1),
            "whole_process_difference_ms_cold": spread(diffs["cold"], 1),
            "whole_process_ms_torch_only": spread(walls["torch"], 1),
            "import_torch_in_process_ms": spread(torch_ms, 1),
            "matplotlib_imported": matplotlib,
            "modules_added_besides_linreg": added,
            "linreg_modules": len(reports["warm"]["new_modules"]) - len(added),
            "measured_copies": loaded == expected,
            "note": (
                "whole-process differences are shown, not judged: `import torch` alone "
                "varies by far more than 20 ms between processes"
            ),
        },
    )


# --- report ---------------------------------------------------------------------------------


def header(quick: bool) -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "mode": "quick" if quick else "full",
        "python": platform.python_version(),
        "torch": torch.__version__,
        "linreg": linreg.__version__,
        "cpu_count": os.cpu_count(),
        "cpu": cpu,
        "torch_threads": torch.get_num_threads(),
        "load_average_start": [round(v, 2) for v in os.getloadavg()],
    }


def describe(value: object) -> str:
    if isinstance(value, dict) and "median" in value:
        if value["n"] == 1:
            return f"{value['median']} (n=1)"
        return (
            f"median {value['median']}  (IQR {value['q1']} to {value['q3']}; "
            f"min {value['min']}, max {value['max']}; n={value['n']})"
        )
    if isinstance(value, list):
        return ", ".join(map(str, value)) if value else "none"
    return str(value)


def fmt(value: float, unit: str) -> str:
    if unit == "x":
        return f"{value:.1f}x" if value >= 10 else f"{value:.3f}x"
    return f"{value:.1f} {unit}"


def print_report(info: dict[str, Any], results: list[Result]) -> None:
    print()
    print("linreg benchmarks")
    for key in ("date", "mode", "python", "torch", "linreg", "cpu_count", "cpu", "torch_threads"):
        print(f"  {key:<14} {info[key]}")
    loads = f"{info['load_average_start']} at start, {info.get('load_average_end')} at end"
    print(f"  {'load average':<14} {loads}")
    print(f"  {'run time':<14} {info.get('seconds', 0):.1f} s")
    print()
    rows = [("benchmark", "measured", "target", "result")]
    for result in results:
        sign = "<=" if result.better == "lower" else ">="
        rows.append(
            (
                result.title,
                fmt(result.value, result.unit),
                f"{sign} {fmt(result.target, result.unit)}",
                result.verdict,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for i, row in enumerate(rows):
        print("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if i == 0:
            print("  " + "  ".join("-" * width for width in widths))
    for result in results:
        print()
        print(f"{result.title}  [{result.statistic}]")
        if result.ci is not None:
            print(f"  {'95% CI of the median':<38} {result.ci[0]} to {result.ci[1]}")
        for key, value in result.details.items():
            print(f"  {key:<38} {describe(value)}")
    missed = [result.title for result in results if not result.passed]
    borderline = [result.title for result in results if result.borderline]
    print()
    if missed:
        print(f"MISSED {len(missed)} of {len(results)} targets: {'; '.join(missed)}")
    else:
        print(f"all {len(results)} targets met")
    if borderline:
        print(f"borderline (95% CI holds the target): {'; '.join(borderline)}")


BENCHMARKS: dict[str, Callable[[Sizes], list[Result]]] = {
    "train": lambda sizes: [bench_train(sizes)],
    "minibatches": bench_minibatches,
    "import": lambda sizes: [bench_import(sizes)],
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smaller sizes: a smoke run")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results here")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=list(BENCHMARKS),
        default=list(BENCHMARKS),
        help="run only these benchmarks",
    )
    parser.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help="torch.set_num_threads(N) first (default: torch's own choice)",
    )
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    sizes = QUICK if args.quick else FULL
    info = header(args.quick)
    start = time.perf_counter()
    results: list[Result] = []
    for name in args.only:
        progress(f"{name} ...")
        results.extend(BENCHMARKS[name](sizes))
    info["seconds"] = round(time.perf_counter() - start, 1)
    info["load_average_end"] = [round(v, 2) for v in os.getloadavg()]
    info["sizes"] = asdict(sizes)
    print_report(info, results)
    if args.json:
        payload = {
            **info,
            "results": [
                {**asdict(r), "passed": r.passed, "borderline": r.borderline} for r in results
            ],
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
