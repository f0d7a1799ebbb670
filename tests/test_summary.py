"""Every number the summary page (the cheat sheet) prints, computed again another way.

The page's code blocks run at build time (markdown-exec); here they run again and what
each block printed is checked against an independent computation: the formulas by hand,
the eigenvalues with numpy, the optimizers with a training loop written out, the
defaults with `inspect`, torch's messages by provoking them. tests/test_docs_code.py
already checks that both languages print the same numbers; this checks they are right.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import io
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

import linreg
from tools import twins

ROOT = Path(__file__).resolve().parents[1]
PAGES = {lang: ROOT / "docs" / lang / "tutorials" / "summary.md" for lang in ("en", "zh")}
BLOCK = re.compile(r"^```python\b([^\n]*)\n(.*?)^```", re.S | re.M)

X = torch.tensor([[1.0], [2.0], [3.0]])
Y = torch.tensor([[2.0], [4.0], [6.0]])


def _blocks(lang: str) -> list[str]:
    return [match.group(2) for match in BLOCK.finditer(PAGES[lang].read_text(encoding="utf-8"))]


@functools.cache
def _printed() -> list[str]:
    """What each block of the English page printed, run in order in one namespace."""
    namespace: dict[str, object] = {"__name__": "__main__"}
    printed = []
    for code in _blocks("en"):
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            exec(compile(code, "summary.md", "exec"), namespace)
        printed.append(output.getvalue())
    return printed


def _table(text: str) -> list[list[str]]:
    """The body rows of a printed Markdown table, each cell stripped of its spaces."""
    rows = [line for line in text.splitlines() if line.startswith("|")][2:]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]


def _block(start: str) -> str:
    """The output of the block whose code starts with `start`."""
    pairs = zip(_blocks("en"), _printed(), strict=True)
    (found,) = [out for code, out in pairs if code.startswith(start)]
    return found


def _lesson_loop(
    cls: type[torch.optim.Optimizer], options: dict[str, object], epochs: int
) -> tuple[torch.nn.Linear, float, int]:
    """The lesson's loop written out: the model, the last epoch's loss, loss evaluations."""
    torch.manual_seed(0)
    model = torch.nn.Linear(1, 1)
    optimizer = cls(model.parameters(), **options)
    criterion = torch.nn.MSELoss(reduction="sum")
    evaluations = 0

    def closure() -> torch.Tensor:
        nonlocal evaluations
        evaluations += 1
        optimizer.zero_grad()
        loss = criterion(model(X), Y)
        loss.backward()
        return loss

    loss = torch.tensor(0.0)
    for _ in range(epochs):
        if cls is torch.optim.LBFGS:
            loss = optimizer.step(closure)  # type: ignore[assignment]
        else:
            loss = closure()
            optimizer.step()
    return model, loss.item(), evaluations


def test_the_page_is_the_last_tutorial_in_both_navigations() -> None:
    for config, title in [("mkdocs.yml", "Summary (cheat sheet)"), ("mkdocs.zh.yml", "速查表")]:
        nav = yaml.safe_load((ROOT / config).read_text(encoding="utf-8").split("\nnav:")[1])
        tutorials = next(iter(nav[1].values()))
        assert tutorials[-1] == {title: "tutorials/summary.md"}


def test_both_languages_run_the_same_program_and_name_the_torch() -> None:
    twins.check_same_program(_blocks("en"), _blocks("zh"))
    for page in PAGES.values():
        assert page.read_text(encoding="utf-8").count("{{ torch_version }}") == 2


def test_the_recipe_trains_the_lesson() -> None:
    model, last_loss, _ = _lesson_loop(torch.optim.SGD, {"lr": 0.01}, 1000)
    w, b = model.weight.item(), model.bias.item()
    out = _block("import torch\n")
    assert f"loss in the last epoch: {last_loss:.3g}\n" in out
    assert f"w = {w:.4f}, b = {b:.4f}\n" in out
    assert f"prediction at x = 4: {4 * w + b:.4f}\n" in out
    # linreg runs the same loop: the same weights.
    torch.manual_seed(0)
    lesson = linreg.LinearModel()
    optimizer = torch.optim.SGD(lesson.parameters(), lr=0.01)
    run = linreg.train(lesson, X, Y, torch.nn.MSELoss(reduction="sum"), optimizer, 1000)
    assert (run.weight.item(), run.bias.item()) == (w, b)


def test_the_shapes_follow_their_rules() -> None:
    rows = _table(_block("layer = torch.nn.Linear(2, 3)"))
    sizes = {"N": 4, "in": 2, "out": 3}
    assert [row[0] for row in rows] == ["`x`", "`y, y_pred`", "`weight`", "`bias`"]
    for _, rule, here in rows:
        names = rule.strip("`(,)").split(",")
        assert here == f"`{tuple(sizes[name.strip()] for name in names)}`"


def test_the_flat_target_trap() -> None:
    out = _block("import warnings")
    pairs = sum((p - t) ** 2 for p in (2.0, 4.0, 6.0) for t in (2.0, 4.0, 6.0))
    assert "(y - y_flat).shape: (3, 3)\n" in out
    assert f"loss of perfect predictions: {pairs} instead of 0.0\n" in out
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.nn.MSELoss()(Y, Y.flatten())
    assert f"torch: {caught[0].message}\n" in out


def _bound(x: np.ndarray, reduction: str) -> tuple[float, float]:
    """2/λmax and λmax/λmin of the MSE Hessian, with numpy."""
    design = np.column_stack([x, np.ones(len(x))])
    hessian = 2 * design.T @ design / (len(x) if reduction == "mean" else 1)
    eigenvalues = np.linalg.eigvalsh(hessian)
    return 2 / eigenvalues[-1], eigenvalues[-1] / eigenvalues[0]


def test_the_reductions() -> None:
    rows = _table(_block("import linreg"))
    predictions, targets = [1.0, 2.0, 3.0], [2.0, 4.0, 6.0]
    squares = [(p - t) ** 2 for p, t in zip(predictions, targets, strict=True)]
    twice = [2 * (p - t) for p, t in zip(predictions, targets, strict=True)]
    lesson = np.array([1.0, 2.0, 3.0])
    per_element = torch.nn.MSELoss(reduction="none")(torch.ones(3, 1, requires_grad=True), Y)
    _, message = _error(per_element.backward)
    assert rows[0] == ["`none`", str(squares), f"`backward()` fails: {message}", "—"]
    bound = f"{_bound(lesson, 'sum')[0]:.4f}"
    assert rows[1] == ["`sum`", str(sum(squares)), str(twice), bound]
    mean_gradient = [round(g / 3, 4) for g in twice]
    mean = f"{_bound(lesson, 'mean')[0]:.4f}"
    assert rows[2] == ["`mean`", str(round(sum(squares) / 3, 4)), str(mean_gradient), mean]


def test_the_stable_learning_rates() -> None:
    rows = _table(_block("def largest_stable_lr"))
    lesson = np.array([1.0, 2.0, 3.0])
    for row, x in zip(rows, [lesson, lesson - lesson.mean()], strict=True):
        (bound_sum, kappa), (bound_mean, _) = _bound(x, "sum"), _bound(x, "mean")
        assert row[1:] == [f"{bound_sum:.4f}", f"{bound_mean:.4f}", f"{kappa:.1f}"]
        assert bound_sum == pytest.approx(linreg.stable_lr(torch.tensor(x).reshape(-1, 1)))
        assert bound_mean == pytest.approx(3 * bound_sum)  # mean: N times the sum's bound
    # The prose: centring makes the bound larger and the condition number smaller.
    assert float(rows[1][1]) > float(rows[0][1])
    assert float(rows[1][3]) < float(rows[0][3])


OPTIMIZER_ROWS = [
    ("SGD", torch.optim.SGD, {"lr": 0.05}),
    ("SGD", torch.optim.SGD, {"lr": 0.01, "momentum": 0.9}),
    ("Adam", torch.optim.Adam, {"lr": 0.1}),
    ("AdamW", torch.optim.AdamW, {"lr": 0.1}),
    ("RMSprop", torch.optim.RMSprop, {"lr": 0.1}),
    ("Adagrad", torch.optim.Adagrad, {"lr": 0.5}),
    ("Rprop", torch.optim.Rprop, {"lr": 0.01}),
    ("LBFGS", torch.optim.LBFGS, {"lr": 1, "line_search_fn": "strong_wolfe"}),
]


def test_the_optimizer_table() -> None:
    rows = _table(_block("import inspect"))
    assert len(rows) == len(OPTIMIZER_ROWS)
    for row, (name, cls, options) in zip(rows, OPTIMIZER_ROWS, strict=True):
        default = inspect.signature(cls).parameters["lr"].default
        model, _, evaluations = _lesson_loop(cls, options, 100)
        with torch.no_grad():
            final = torch.nn.MSELoss(reduction="sum")(model(X), Y).item()
        setting = ", ".join(f"{key}={value!r}" for key, value in options.items())
        assert row[:3] == [f"`{name}`", f"{default:g}", f"`{setting}`"]
        assert float(row[3]) == pytest.approx(final, rel=0.02, abs=1e-12)
        assert int(row[4]) == evaluations
    # The prose: the defaults differ; momentum at lr=0.01 ends over a hundred times lower
    # than plain SGD at the same lr; AdamW decays the weights by default.
    assert len({row[1] for row in rows}) > 1
    plain = _lesson_loop(torch.optim.SGD, {"lr": 0.01}, 100)[0]
    with torch.no_grad():
        plain_loss = torch.nn.MSELoss(reduction="sum")(plain(X), Y).item()
    assert plain_loss > 100 * float(rows[1][3])
    assert inspect.signature(torch.optim.AdamW).parameters["weight_decay"].default > 0


def _error(action: object) -> tuple[str, str]:
    """The type and the message of the error `action()` raises."""
    try:
        action()  # type: ignore[operator]
    except (RuntimeError, TypeError) as error:
        return type(error).__name__, str(error)
    raise AssertionError("no error")


def test_the_messages_of_the_troubleshooting_list_are_torchs() -> None:
    text = PAGES["en"].read_text(encoding="utf-8")
    table = text[text.index("## When it goes wrong") :]
    leaf = torch.tensor(1.0, requires_grad=True)

    def update_leaf() -> None:
        nonlocal leaf
        leaf -= 1.0

    def backward_twice() -> None:
        loss = torch.ones(2, requires_grad=True).exp().sum()
        loss.backward()
        loss.backward()

    model = torch.nn.Linear(1, 1)
    messages = [
        _error(backward_twice),
        _error(update_leaf),
        _error(lambda: model(torch.tensor([[1], [2]]))),
        _error(lambda: torch.optim.LBFGS(model.parameters()).step()),  # type: ignore[call-arg]
    ]
    quoted = re.findall(r"^- \*\*`(\w+): ([^`]+)`", table, re.M)
    assert len(quoted) == 4
    for (kind, quote), (error, message) in zip(quoted, messages, strict=True):
        assert kind == error
        for part in quote.split("..."):
            assert part.strip() in message
