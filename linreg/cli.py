"""The `linreg` command: train, compare optimizers, solve in closed form.

Bad input ends with one line on stderr and exit code 2, never a traceback; files
are written only after the work succeeded, and atomically.

Started by torchrun (`torchrun --nproc-per-node=2 -m linreg train ...`), `train` and
`compare` run data parallel: every process reads the data, keeps its equal shard, and
DDP combines the gradients (gloo); process 0 alone prints and writes files.
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import torch
import torch.distributed as dist

from linreg import __version__
from linreg.checks import LinregError
from linreg.compare import compare
from linreg.data import lesson_data, load_csv
from linreg.distributed import check_all, init_from_env, is_main, leave, shard, wrap
from linreg.loss import REDUCTIONS, make_criterion
from linreg.model import LinearModel, predict
from linreg.optim import OPTIMIZERS, canonical_name, make_optimizer
from linreg.solve import fit_closed_form, stable_lr
from linreg.train import Callback, History, train

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, without the usage block."""

    def error(self, message: str) -> NoReturn:
        line = f"{self.prog}: error: {message} (see '{self.prog} --help')\n"
        self.exit(2, line if is_main() else None)  # under torchrun: said once, by rank 0


def _whole(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text}")
    return value


def _learning_rate(text: str) -> float:
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


def _hyperparameter(text: str) -> tuple[str, Any]:
    name, sep, raw = text.partition("=")
    if not sep or not name.isidentifier():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, e.g. momentum=0.9, got {text!r}")
    if name == "lr":
        raise argparse.ArgumentTypeError("set the learning rate with --lr, not --param lr=...")
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        value = raw  # a plain word, e.g. line_search_fn=strong_wolfe
    return name, value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not -(2**63) <= value < 2**64:  # what torch.manual_seed accepts
        raise argparse.ArgumentTypeError(f"must be between -2**63 and 2**64 - 1, got {text}")
    return value


def _optimizer_name(text: str) -> str:
    try:
        return canonical_name(text)
    except LinregError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _figure_path(text: str) -> Path:
    path = Path(text)
    if path.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise argparse.ArgumentTypeError(f"{text!r} must end in .png, .svg or .pdf")
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"the folder of {text!r} does not exist")
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a folder; give a file name")
    return path


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        type=Path,
        metavar="FILE.csv",
        help="CSV of numbers, the last column is y (default: the lesson's x=[1,2,3], y=[2,4,6])",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _add_training(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--epochs", type=_whole, default=100, help="passes over the data (100)")
    parser.add_argument(
        "--reduction",
        choices=[r for r in REDUCTIONS if r != "none"],
        default="sum",
        help="how the squared errors are combined (sum, as in the lesson)",
    )
    parser.add_argument("--seed", type=_seed, default=0, help="seed of the initial weights (0)")
    parser.add_argument(
        "--batch-size", type=_whole, metavar="N", help="minibatch size (default: full batch)"
    )


_PARALLEL = """\
Data parallel: started by torchrun (torchrun --nproc-per-node=2 -m linreg ...), every
process reads the data and trains on its equal shard (N must be a multiple of the number
of processes); DDP averages the gradients over gloo, or sums them for --reduction sum, so
each full-batch step is the one-process step up to rounding (the additions run in another
order). With --batch-size B each process takes B samples per step. Process 0 alone prints
and writes files; a process that gets no answer from the others for 60 s stops (exit 1).
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `linreg` command."""
    parser = _Parser(
        prog="linreg",
        description="Linear regression in PyTorch: the lesson's model, loss and loop.",
        epilog="Under torchrun, train and compare run data parallel: see 'linreg train --help'.",
    )
    parser.add_argument("--version", action="version", version=f"linreg {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = commands.add_parser(
        "train", help="train one model and report the loss, w and b", epilog=_PARALLEL
    )
    _add_common(p)
    _add_training(p)
    p.add_argument(
        "--optimizer", type=_optimizer_name, default="SGD", help=f"one of {', '.join(OPTIMIZERS)}"
    )
    p.add_argument("--lr", type=_learning_rate, default=0.01, help="learning rate (0.01)")
    p.add_argument(
        "--param",
        type=_hyperparameter,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="another hyperparameter of the optimizer, e.g. momentum=0.9 (repeatable)",
    )
    p.add_argument(
        "--predict",
        type=_number,
        nargs="+",
        default=[4.0],
        metavar="X",
        help="print the prediction at these x (4.0; one-feature data only)",
    )
    p.add_argument("--plot", type=_figure_path, metavar="FILE", help="save the loss curve")
    p.set_defaults(run=_train)

    p = commands.add_parser(
        "compare", help="train several optimizers from the same start", epilog=_PARALLEL
    )
    _add_common(p)
    _add_training(p)
    p.add_argument(
        "--optimizers",
        type=_optimizer_name,
        nargs="+",
        default=list(OPTIMIZERS),
        metavar="NAME",
        help="optimizers to compare (default: all)",
    )
    p.add_argument("--lr", type=_learning_rate, default=0.01, help="learning rate for all (0.01)")
    p.add_argument("--plot", type=_figure_path, metavar="FILE", help="save the loss curves")
    p.add_argument(
        "--overlay", action="store_true", help="one plot on a log scale instead of a grid"
    )
    p.set_defaults(run=_compare)

    p = commands.add_parser("solve", help="closed-form w, b and the largest stable lr")
    _add_common(p)
    p.set_defaults(run=_solve)
    return parser


def _load(args: argparse.Namespace) -> tuple[torch.Tensor, torch.Tensor, str]:
    if args.data is None:
        x, y = lesson_data()
        return x, y, "the lesson's data"
    try:
        x, y = load_csv(args.data)
    except LinregError as err:
        check_all(err)  # under torchrun: every process stops, not only this one
        raise
    check_all(None)
    return x, y, str(args.data)


def _parallel(args: argparse.Namespace, n: int) -> str:
    """What a data parallel run does, for the report; empty for one process."""
    if not dist.is_initialized():
        return ""
    world_size = dist.get_world_size()
    how = "summed (reduction='sum')" if args.reduction == "sum" else "averaged"
    batch = "" if args.batch_size is None else f", {args.batch_size * world_size} per step"
    return (
        f"data parallel: {world_size} processes (gloo), {n // world_size} samples each"
        f"{batch}; gradients {how} across the processes\n"
    )


def _fit(
    args: argparse.Namespace,
    name: str,
    options: dict[str, Any],
    x: torch.Tensor,
    y: torch.Tensor,
    callback: Callback | None = None,
) -> tuple[torch.nn.Module, History]:
    """Train one `LinearModel` from `args.seed`, DDP-wrapped under torchrun."""
    torch.manual_seed(args.seed)
    model = LinearModel(x.shape[1], y.shape[1])
    optimizer = make_optimizer(name, model.parameters(), **options)
    history = train(
        wrap(model, args.reduction),
        x,
        y,
        make_criterion(args.reduction),
        optimizer,
        args.epochs,
        args.batch_size,
        seed=args.seed,
        callback=callback,
    )
    return model, history


def _params(history: History) -> tuple[list[list[float]], list[float] | None]:
    weight = [] if history.weight is None else history.weight.tolist()
    bias = None if history.bias is None else history.bias.tolist()
    return weight, bias


def _train(args: argparse.Namespace) -> int:
    x, y, source = _load(args)
    n = x.shape[0]
    x, y = shard(x, y)  # under torchrun: this process's equal shard
    # Only this command needs tqdm: imported when used, like matplotlib for --plot.
    from tqdm import tqdm

    # A progress bar on stderr, only on a terminal (disable=None) and only once the run
    # has lasted a second (delay): short runs and piped output show just the results.
    disable = None if is_main() else True
    with tqdm(total=args.epochs, unit="epoch", disable=disable, delay=1.0, leave=False) as bar:

        def show(epoch: int, loss: float, model: torch.nn.Module) -> None:
            bar.set_postfix_str(f"loss={loss:.4g}", refresh=False)
            bar.update()

        options = {"lr": args.lr, **dict(args.param)}
        callback = None if bar.disable else show
        model, history = _fit(args, args.optimizer, options, x, y, callback)
    if not is_main():
        return 0
    predictions = []
    if x.shape[1] == 1:
        y_new = predict(model, args.predict)
        predictions = [[v, p] for v, p in zip(args.predict, y_new.tolist(), strict=True)]
    if args.plot:
        from linreg.plot import plot_loss, save_figure

        save_figure(plot_loss(history, title=args.optimizer), args.plot)
    if args.json:
        result = {
            "optimizer": args.optimizer,
            "hyperparameters": {"lr": args.lr, **dict(args.param)},
            "reduction": args.reduction,
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "seed": args.seed,
            "data": source,
            **({"processes": dist.get_world_size()} if dist.is_initialized() else {}),
            "history": history.to_dict(),
            "predictions": predictions,
        }
        print(json.dumps(result, indent=2))
        return 0
    batches = "full batch" if args.batch_size is None else f"batch size {args.batch_size}"
    print(
        f"{args.optimizer} lr={args.lr} reduction={args.reduction!r}, {args.epochs} epochs, "
        f"{batches}, {n} samples from {source}, seed {args.seed}"
    )
    print(_parallel(args, n), end="")
    print(f"{'epoch':>7}  {'loss':>14}")
    shown = sorted({*range(0, args.epochs, max(1, args.epochs // 10)), args.epochs - 1})
    for epoch in shown:
        print(f"{epoch:>7}  {history.losses[epoch]:>14.6g}")
    weight, bias = _params(history)
    print(f"w = {_fmt(weight)}")
    print(f"b = {_fmt(bias)}")
    for value, y_pred in predictions:
        print(f"y_pred at x = {value:g}: {_fmt(y_pred)}")
    print(f"{history.loss_evaluations} loss evaluations in {history.seconds:.3f} s")
    if args.plot:
        print(f"loss curve written to {args.plot}")
    return 0


def _compare(args: argparse.Namespace) -> int:
    x, y, source = _load(args)
    n = x.shape[0]
    names = list(dict.fromkeys(args.optimizers))
    if dist.is_initialized():  # what `compare` does, one DDP model after the other
        x, y = shard(x, y)
        runs = {name: _fit(args, name, {"lr": args.lr}, x, y)[1] for name in names}
        if not is_main():
            return 0
    else:
        runs = compare(
            names,
            x,
            y,
            epochs=args.epochs,
            lr=args.lr,
            reduction=args.reduction,
            batch_size=args.batch_size,
            seed=args.seed,
        )
    if args.plot:
        from linreg.plot import plot_comparison, save_figure

        figure = plot_comparison(runs, kind="overlay" if args.overlay else "grid")
        save_figure(figure, args.plot)
    if args.json:
        print(json.dumps({name: run.to_dict() for name, run in runs.items()}, indent=2))
        return 0
    print(f"lr={args.lr} reduction={args.reduction!r}, {args.epochs} epochs, data: {source}")
    print(_parallel(args, n), end="")
    print(f"{'optimizer':<10} {'final loss':>12} {'w':>24} {'b':>10} {'evals':>6} {'time':>8}")
    for name, run in runs.items():
        weight, bias = _params(run)
        print(
            f"{name:<10} {run.final_loss:>12.4g} {_fmt(weight):>24} {_fmt(bias):>10} "
            f"{run.loss_evaluations:>6} {run.seconds:>7.3f}s"
        )
    if args.plot:
        print(f"loss curves written to {args.plot}")
    return 0


def _solve(args: argparse.Namespace) -> int:
    x, y, source = _load(args)
    weight, bias = fit_closed_form(x, y)
    y_pred = x @ weight.T + bias  # (N, in) @ (in, out) + (out,) -> (N, out)
    residual = float(((y_pred - y) ** 2).sum())
    bounds = {r: stable_lr(x, r, out_features=y.shape[1]) for r in ("sum", "mean")}
    if args.json:
        result = {
            "data": source,
            "weight": weight.tolist(),
            "bias": bias.tolist(),
            "sum_of_squared_errors": residual,
            "stable_lr": bounds,
        }
        print(json.dumps(result, indent=2))
        return 0
    print(f"closed-form least squares on {x.shape[0]} samples from {source}")
    print(f"w = {_fmt(weight.tolist())}")
    print(f"b = {_fmt(bias.tolist())}")
    print(f"sum of squared errors = {residual:.6g}")
    for reduction, bound in bounds.items():
        print(f"largest stable lr for full-batch SGD, reduction={reduction!r}: {bound:.6g}")
    return 0


def _fmt(value: Any) -> str:
    """Numbers in a short form: 1.99, [1.99, -3.4], and a lone 1x1 value unwrapped."""
    while isinstance(value, list) and len(value) == 1:
        value = value[0]
    if value is None:
        return "-"
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return f"{value:.6g}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `linreg` command.

    Args:
        argv: the arguments after the program name; `sys.argv[1:]` when `None`.

    Returns:
        The exit code: 0 on success, 2 for bad input (after one line on stderr).

    Under torchrun, a process that loses the others prints one line and ends at once
    with exit code 1 (`os._exit`), without taking its process group down: freeing a
    gloo group while a collective is still pending can deadlock (the destructor joins a
    worker thread that waits for the GIL, pytorch/pytorch#56297); torchrun stops the
    rest.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else 2
    if args.command is None:
        print(
            "linreg: error: choose a command: train, compare or solve (see 'linreg --help')",
            file=sys.stderr,
        )
        return 2
    try:
        if init_from_env() and args.command == "solve":
            raise LinregError("solve is one closed-form solution: run it without torchrun")
        code: int = args.run(args)
    except LinregError as err:
        if is_main():  # under torchrun every process stops with the same error
            print(f"linreg {args.command}: error: {err}", file=sys.stderr)
        code = 2
    except RuntimeError as err:
        if not dist.is_initialized() or "gloo" not in str(err):
            raise
        # gloo's message starts with its source file: "[.../pair.cc:534] Connection closed"
        reason = str(err).split("] ", 1)[-1].splitlines()[0]
        print(
            f"linreg {args.command}: error: process {dist.get_rank()} lost the other "
            f"processes ({reason}): one of them failed or hangs, see its message",
            file=sys.stderr,
        )
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)
    leave()  # together, after the models are gone (args.run has returned)
    return code
