"""Every tutorial executes in a real kernel, and its key numbers are the package's.

The notebooks run through the same code as the site build (`tools/notebooks.py`),
sharing its cache: a notebook is executed again whenever it, `linreg`, the matplotlib
style or the torch version changed. The numbers the pages show are checked here
against `linreg` and torch computed independently in this process. The figures the
pages show are re-encoded with a palette (`compact_png`); the tests here measure how
much smaller they get and how little their pixels change.
"""

from __future__ import annotations

import functools
import io
import itertools
import math
import re
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from PIL import Image

import linreg
from tools import notebooks

# Every test here runs a Jupyter kernel or draws figures: not in `make check`.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]

CASES = [(lang, path.name) for lang in notebooks.LANGUAGES for path in notebooks.sources(lang)]


def _run(lang: str, name: str) -> dict[str, str]:
    """Execute (or fetch from the cache) one tutorial; return its texts by kind."""
    path = notebooks.DOCS / lang / "tutorials" / name
    notebook = notebooks.page_notebook(path)
    notebooks.check_outputs(notebook, path)
    texts = {"stdout": "", "stderr": "", "error": "", "images": 0}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                texts[output.name] += output.text
            elif output.output_type == "error":
                texts["error"] += f"{output.ename}: {output.evalue}\n"
            elif "image/png" in output.get("data", {}):
                texts["images"] += 1
    return texts


def _lesson(seed: int = 0, epochs: int = 100) -> linreg.History:
    x, y = linreg.lesson_data()
    torch.manual_seed(seed)
    model = linreg.LinearModel()
    optimizer = linreg.make_optimizer("SGD", model.parameters(), lr=0.01)
    return linreg.train(model, x, y, linreg.make_criterion("sum"), optimizer, epochs)


@pytest.fixture(scope="module")
def executed_all() -> None:
    """Run the notebooks not yet in the cache two at a time (one per core)."""
    every = [path for lang in notebooks.LANGUAGES for path in notebooks.sources(lang)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(notebooks.cached_run, every))


# The checks read the English output: the Chinese twin prints the same numbers in its own
# words, which `notebooks.page_notebook` (called by `_run`) checks cell by cell.
ENGLISH = [case for case in CASES if case[0] == "en"]


@pytest.fixture(params=ENGLISH, ids=[f"{lang}-{name}" for lang, name in ENGLISH])
def tutorial(request: pytest.FixtureRequest, executed_all: None) -> tuple[str, dict[str, str]]:
    lang, name = request.param
    return name, _run(lang, name)


def test_tutorials_are_numbered_in_order_and_exist_in_both_languages() -> None:
    names = {lang: [p.name for p in notebooks.sources(lang)] for lang in notebooks.LANGUAGES}
    assert names["en"], "no tutorial found"
    assert names["zh"] == names["en"]
    assert [name[:2] for name in names["en"]] == [
        f"{n:02d}" for n in range(1, len(names["en"]) + 1)
    ]


def test_tutorial_outputs(tutorial: tuple[str, dict[str, str]]) -> None:
    name, out = tutorial
    # A number a page shows is a number: nan and inf only where a cell must fail.
    assert not re.search(r"\b(nan|inf)\b", out["stdout"]), f"{name} prints nan or inf"
    assert name[:2] in CHECKS, f"{name}: add a check of its numbers to CHECKS (contributing, 5)"
    CHECKS[name[:2]](out)


def _check_gradient_descent(out: dict[str, str]) -> None:
    assert "same as by hand: True True" in out["stdout"]
    w, b = linreg.fit_closed_form(*linreg.lesson_data())
    assert f"closed form: w = {w.item():.4f}, b = {abs(b.item()):.4f}" in out["stdout"]
    assert out["images"] == 1


def _check_lesson(out: dict[str, str]) -> None:
    history = _lesson()
    stdout = out["stdout"]
    assert "identical losses: True" in stdout
    assert "identical w and b: True True" in stdout
    assert f"w = {history.weight.item():.6f}" in stdout
    assert f"b = {history.bias.item():.6f}" in stdout
    y_pred = 4 * history.weight.item() + history.bias.item()
    assert f"y_pred at x = 4: {y_pred:.6f}" in stdout
    for epoch in (0, 50, 99):
        assert f"epoch {epoch:3d}  loss {history.losses[epoch]:.6f}" in stdout
    # The deprecated spelling: the warning shown is torch's own text.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.nn.MSELoss(size_average=False)
    assert str(caught[0].message) in out["stderr"]
    bound = linreg.stable_lr(*linreg.lesson_data()[:1], "sum")
    assert f"largest stable lr, reduction='sum':  {bound:.4f}" in stdout
    assert out["images"] == 2


class _CountingLoss(torch.nn.MSELoss):
    """The lesson's summed MSE, counting its calls: `linreg.train`'s closures included."""

    def __init__(self) -> None:
        super().__init__(reduction="sum")
        self.calls = 0

    def forward(self, y_pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return super().forward(y_pred, y)


@functools.cache
def _evaluations(name: str, epochs: int = 100, **settings: object) -> tuple[list[float], list[int]]:
    """A run's losses and, for each, the number of the loss evaluation that measured it."""
    torch.manual_seed(0)
    model = linreg.LinearModel()
    criterion = _CountingLoss()
    ends: list[int] = []  # evaluations done by the end of each epoch
    history = linreg.train(
        model,
        *linreg.lesson_data(),
        criterion,
        linreg.make_optimizer(name, model.parameters(), **settings),
        epochs,
        callback=lambda epoch, loss, model: ends.append(criterion.calls),
    )
    assert ends[-1] == history.loss_evaluations
    return history.losses, [1] + [end + 1 for end in ends[:-1]]


def _first_step(name: str, **settings: object) -> torch.Tensor:
    """How far an optimizer's first step moves w, from the page's initial weights."""
    run = linreg.compare({name: settings}, *linreg.lesson_data(), epochs=1)[name]
    torch.manual_seed(0)
    return run.weight - linreg.LinearModel().linear.weight.detach()


def _table(runs: dict[str, linreg.History]) -> str:
    rows = []
    for name, run in runs.items():
        w, b = run.weight.item(), run.bias.item()
        row = [name, run.final_loss, w, b, 4 * w + b, run.loss_evaluations]
        rows.append("{:<10}{:>12.3g}{:>9.4f}{:>9.4f}{:>9.4f}{:>13}".format(*row))
    return "\n".join(rows)


def _check_optimizers(out: dict[str, str]) -> None:
    stdout = out["stdout"]
    x, y = linreg.lesson_data()
    names = list(linreg.OPTIMIZERS)

    # Same settings: the hand-written loop's table equals linreg.compare's numbers.
    same = linreg.compare(names, x, y, epochs=100, lr=0.01)
    assert _table(same) in stdout
    final = {name: run.final_loss for name, run in same.items()}
    assert max(final["Rprop"], final["LBFGS"]) < 1e-7  # the alt text
    assert all(abs(final[name] - 0.15) < 0.01 for name in ["SGD", "ASGD"])
    assert all(0.5 < final[name] < 1.5 for name in ["RMSprop", "RAdam"])
    assert all(5.5 < final[name] < 8.5 for name in ["Adam", "AdamW", "Adamax", "NAdam"])
    assert min(final["Adagrad"], final["Adadelta"]) > 30
    lbfgs = same["LBFGS"].loss_evaluations
    assert lbfgs // 100 == 11  # "eleven times as many evaluations"
    _, at = _evaluations("LBFGS", epochs=6, lr=0.01)
    assert [after - before for before, after in itertools.pairwise(at)] == [20] * 5
    assert "LBFGS, evaluations in its first steps: [20, 20, 20, 20, 20]" in stdout
    assert f"in all: {lbfgs}\n" in stdout

    # Torch's defaults, read from optimizers built without arguments.
    parameter = [torch.zeros(1, requires_grad=True)]
    defaults = {name: cls(parameter).defaults for name, cls in linreg.OPTIMIZERS.items()}
    for name, default in defaults.items():
        assert f"{name:<9} lr={default['lr']}\n" in stdout
    assert f"AdamW's default weight_decay: {defaults['AdamW']['weight_decay']}" in stdout
    assert defaults["Adam"]["weight_decay"] == 0 < defaults["AdamW"]["weight_decay"]

    # First steps, and the rules that explain them.
    torch.manual_seed(0)
    model = linreg.LinearModel()
    torch.nn.MSELoss(reduction="sum")(model(x), y).backward()
    g = model.linear.weight.grad.item()
    assert f"gradient of w at the start: {g:+.4f}" in stdout
    assert f"{-g:.2f}" == "49.77"  # the prose: 0.01 x 49.77
    names_shown = ["SGD", "RAdam", "Adam", "Adagrad", "RMSprop", "Adadelta"]
    steps = {name: _first_step(name, lr=0.01) for name in names_shown}
    for name, step in steps.items():
        line = f"{name:<9} first step of w: {step.item():+.6f} = {(step / 0.01).item():7.3f} * lr"
        assert line in stdout
    assert torch.allclose(steps["SGD"], torch.tensor(-0.01 * g))
    assert f"{-0.01 * g:.2f}" == "0.50"
    assert torch.equal(steps["RAdam"], steps["SGD"])
    assert torch.allclose(steps["Adam"], torch.tensor(0.01))
    for name in ["Adam", "AdamW", "Adamax", "NAdam"]:  # "later steps are at most about lr"
        assert _largest_step(name, lr=0.01) < 1.1 * 0.01
    assert final["RAdam"] < 0.2 * final["Adam"]  # "ends far ahead of Adam"
    assert torch.equal(steps["Adagrad"], steps["Adam"])
    assert torch.allclose(steps["RMSprop"], torch.tensor(10 * 0.01))
    assert f"RMSprop: v1 = {0.01 * g**2:.2f}, step by hand {steps['RMSprop'].item():+.6f} True" in (
        stdout
    )
    adadelta = _first_step("Adadelta", lr=1.0).item()
    assert math.isclose(adadelta, 1e-3 / math.sqrt(0.1), rel_tol=1e-4)
    assert f"Adadelta at lr=1: step by hand {adadelta:+.6f} True" in stdout
    assert f"steps 1 to {_radam_momentum_steps()}\n" in stdout

    # ASGD: no averaging before t0, ax kept in the optimizer, a trace of weight decay.
    asgd = torch.optim.ASGD(parameter).defaults
    assert f"t0: {asgd['t0']:g}, lambd: {asgd['lambd']:g}" in stdout
    assert asgd["t0"] == 1e6
    assert asgd["lambd"] == 1e-4
    assert "ax equals the model's w: True" in stdout
    # The weight decays of the prose, seen on a step with a zero gradient: AdamW multiplies
    # the weights by 1 - lr * weight_decay, ASGD by 1 - lr * lambd.
    for name, decay in [("AdamW", defaults["AdamW"]["weight_decay"]), ("ASGD", asgd["lambd"])]:
        weight = torch.ones(1, requires_grad=True)
        optimizer = linreg.OPTIMIZERS[name]([weight], lr=0.01)
        weight.grad = torch.zeros(1)
        optimizer.step()
        assert torch.allclose(weight.detach(), torch.tensor([1 - 0.01 * decay]), rtol=0, atol=1e-9)
    difference = (same["ASGD"].weight - same["SGD"].weight).item()
    assert f"ASGD's w minus SGD's w: {difference:+.2e}" in stdout
    assert -1e-4 < difference < 0  # the decay pulls w (which grows towards 2) back a little

    # The learning-rate sweep and the best rate of each optimizer.
    rates = [0.001, 0.01, 0.1, 1.0]
    settings: dict[str, dict[str, object]] = {}
    sweep: dict[str, dict[float, float]] = {}
    for name in names[:-1]:
        sweep[name] = {}
        for lr in rates:
            try:
                sweep[name][lr] = linreg.compare({name: {"lr": lr}}, x, y)[name].final_loss
            except linreg.DivergenceError:
                sweep[name][lr] = math.inf
        best = min(sweep[name], key=sweep[name].__getitem__)
        settings[name] = {"lr": best}
        cells = [
            f"{v:>11.2g}" if math.isfinite(v) else f"{'diverges':>11}" for v in sweep[name].values()
        ]
        assert f"{name:<10}" + "".join(cells) + f"{best:>9}" in stdout
    assert settings["SGD"]["lr"] == 0.01
    assert sweep["SGD"][0.1] == math.inf
    for name in ["Adam", "AdamW", "Adamax", "NAdam"]:
        assert settings[name]["lr"] == 1.0
        assert 1.0 / defaults[name]["lr"] in (500, 1000)
    assert settings["RAdam"]["lr"] == 0.1
    assert settings["Adadelta"]["lr"] == defaults["Adadelta"]["lr"] == 1.0
    assert settings["Rprop"]["lr"] == defaults["Rprop"]["lr"] == 0.01
    assert f"{sweep['Adam'][0.1]:.2f}" == "0.25"  # exercise 3's hint

    # Sensible settings: the table, the shortcut, LBFGS with a line search.
    settings["LBFGS"] = {"lr": 1, "line_search_fn": "strong_wolfe"}
    sensible = linreg.compare(settings, x, y, epochs=100)
    assert _table(sensible) in stdout
    assert "linreg.compare gives the same losses, w, b and evaluations: True" in stdout
    wolfe = linreg.compare({"LBFGS": settings["LBFGS"]}, x, y, epochs=2)["LBFGS"]
    assert wolfe.loss_evaluations == 7 + 1  # the first step takes 7, the next one 1
    assert sensible["LBFGS"].loss_evaluations == 7 + 99
    assert wolfe.losses[1] < 1e-9  # the alt text: below 1e-9 at evaluation 8
    assert 1e-8 < final["LBFGS"] < 3e-8
    assert 1000 < lbfgs < 1200
    assert max(sensible["NAdam"].final_loss, sensible["Rprop"].final_loss) < 1e-7
    assert sensible["Adadelta"].final_loss > 10

    # Exercise 1: the first loss below 1e-6, by the evaluation that measured it.
    reached = {}
    for name, options in settings.items():
        losses, at = _evaluations(name, **options)
        below = [n for loss, n in zip(losses, at, strict=True) if loss < 1e-6]
        if below:
            reached[name] = below[0]
            assert f"{name:<8} loss < 1e-6 at evaluation {below[0]}\n" in stdout
        else:
            assert f"{name:<8} loss < 1e-6" not in stdout
    assert min(reached, key=reached.__getitem__) == "LBFGS"
    assert reached["LBFGS"] == 8
    assert "fewest: LBFGS" in stdout

    # Exercise 2: RMSprop's first step is lr / sqrt(1 - alpha).
    for alpha in [0.9, 0.999]:
        step = _first_step("RMSprop", lr=0.01, alpha=alpha).item()
        predicted = 0.01 / math.sqrt(1 - alpha)
        assert f"alpha={alpha}: predicted {predicted:+.5f}, torch {step:+.5f}" in stdout
    # the prose: about 3.16 lr and 31.6 lr
    assert [f"{1 / math.sqrt(1 - alpha):.3g}" for alpha in [0.9, 0.999]] == ["3.16", "31.6"]

    # Exercise 3: Adam at lr=0.1.
    losses = linreg.compare({"Adam": {"lr": 0.1}}, x, y, epochs=500)["Adam"].losses
    needed = next(i for i, loss in enumerate(losses) if loss < 1e-3)
    assert f"Adam, lr=0.1: loss < 1e-3 after {needed} epochs" in stdout

    # Exercise 4: AdamW without weight decay is Adam.
    pair = linreg.compare({"Adam": {}, "AdamW": {"weight_decay": 0}}, x, y, lr=0.01)
    assert pair["Adam"].losses == pair["AdamW"].losses
    assert same["AdamW"].losses != pair["Adam"].losses
    assert "AdamW (default) equals Adam: False" in stdout
    assert "AdamW (weight_decay=0) equals Adam: True" in stdout
    assert out["images"] == 2


def _largest_step(name: str, **settings: object) -> float:
    """The largest change of w or b in one step, over 100 epochs from the page's start."""
    x, y = linreg.lesson_data()
    torch.manual_seed(0)
    model = linreg.LinearModel()
    optimizer = linreg.make_optimizer(name, model.parameters(), **settings)
    largest = 0.0
    for _ in range(100):
        before = [p.detach().clone() for p in model.parameters()]
        optimizer.zero_grad()
        torch.nn.MSELoss(reduction="sum")(model(x), y).backward()
        optimizer.step()
        for p, old in zip(model.parameters(), before, strict=True):
            largest = max(largest, (p.detach() - old).abs().max().item())
    return largest


def _radam_momentum_steps() -> int:
    """How many of RAdam's first steps are plain steps of lr times the averaged gradient."""
    x, y = linreg.lesson_data()
    torch.manual_seed(0)
    model = linreg.LinearModel()
    weight = model.linear.weight
    optimizer = torch.optim.RAdam(model.parameters(), lr=0.01)
    average = torch.zeros_like(weight)
    for t in range(1, 20):
        optimizer.zero_grad()
        torch.nn.MSELoss(reduction="sum")(model(x), y).backward()
        average = 0.9 * average + 0.1 * weight.grad
        before = weight.detach().clone()
        optimizer.step()
        if not torch.allclose(weight.detach() - before, -0.01 * average / (1 - 0.9**t)):
            return t - 1
    raise AssertionError("RAdam never started adapting")


def _check_loss_surface(out: dict[str, str]) -> None:
    x, _ = linreg.lesson_data()
    design = torch.cat([x, torch.ones(3, 1)], dim=1).double()
    eigenvalues = torch.linalg.eigvalsh(2 * design.T @ design)
    kappa = (eigenvalues[-1] / eigenvalues[0]).item()
    assert f": {kappa:.1f}" in out["stdout"]


def _check_minibatches(out: dict[str, str]) -> None:
    x, y = linreg.synthetic_data([2.0, -3.4], 4.2, n=500, noise=0.01, seed=0)
    torch.manual_seed(0)
    model = linreg.LinearModel(in_features=2)
    optimizer = linreg.make_optimizer("SGD", model.parameters(), lr=0.03)
    run = linreg.train(
        model, x, y, linreg.make_criterion("mean"), optimizer, epochs=5, batch_size=32, seed=0
    )
    w1, w2 = run.weight.flatten().tolist()
    row = ["batch 32", len(run.step_losses), run.final_loss, w1, w2, run.bias.item()]
    assert "{:<12}{:>9}{:>12.3g}{:>9.4f}{:>9.4f}{:>9.4f}".format(*row) in out["stdout"]
    assert "16 batches; sizes: [32, 32, 32] ... [32, 20]" in out["stdout"]
    assert out["images"] == 2


def _check_pitfalls(out: dict[str, str]) -> None:
    errors = [line.split(":")[0] for line in out["error"].splitlines()]
    assert errors == [
        "NameError",
        "LinregError",
        "TypeError",
        "RuntimeError",
        "RuntimeError",
        "DivergenceError",
    ]
    assert "name 'criterion1' is not defined" in out["error"]
    assert "use y.reshape(-1, 1)" in out["error"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.nn.MSELoss(size_average=False, reduction="mean")
        torch.nn.MSELoss()(torch.zeros(3, 1), torch.zeros(3))
    for warning in caught:
        assert str(warning.message) in out["stderr"]
    assert "loss with (3,) targets:   48.0" in out["stdout"]
    assert "after two backward: 6.0" in out["stdout"]


CHECKS = {
    "01": _check_gradient_descent,
    "02": _check_lesson,
    "03": _check_optimizers,
    "04": _check_loss_surface,
    "05": _check_minibatches,
    "06": _check_pitfalls,
}


@pytest.mark.parametrize(
    ("source", "message"),
    [
        pytest.param("# %%\nprint('fine')\n\n# %%\n1 / 0\n", "ZeroDivisionError", id="error"),
        pytest.param(
            "# %%\nimport warnings\nwarnings.warn('careful')\n", "wrote to stderr", id="warning"
        ),
        pytest.param(
            "# %%\nimport linreg\nlinreg.plot_loss([3.0, 2.0, 1.0])\n", "no alt text", id="alt"
        ),
        pytest.param('# %% tags=["raises-exception"]\nx = 1\n', "raised nothing", id="tag"),
        pytest.param(
            "# %%\nprint('| lr=0.1 |', float('nan'), '|')\n", "printed 'nan', which", id="nan"
        ),
        pytest.param('# %%\nprint(f"loss {1e400:.2f}")\n', "printed 'inf', which", id="inf"),
    ],
)
def test_a_broken_rule_fails_the_notebook(tmp_path: Path, source: str, message: str) -> None:
    path = tmp_path / "01-broken.py"
    path.write_text(source, encoding="utf-8")
    with pytest.raises(notebooks.NotebookError, match=message):
        notebooks.run_notebook(path)


def test_the_cache_key_changes_when_linreg_changes(tmp_path: Path, monkeypatch) -> None:
    source = notebooks.sources("en")[0]
    before = notebooks.fingerprint(source)
    fake_root = tmp_path / "root"
    (fake_root / "linreg").mkdir(parents=True)
    for module in (ROOT / "linreg").glob("*.py"):
        (fake_root / "linreg" / module.name).write_bytes(module.read_bytes())
    monkeypatch.setattr(notebooks, "ROOT", fake_root)
    assert notebooks.fingerprint(source) == before
    train = fake_root / "linreg" / "train.py"
    train.write_text(train.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    assert notebooks.fingerprint(source) != before


def test_each_language_shows_the_figures_its_own_code_drew(executed_all: None) -> None:
    pages = {
        lang: notebooks.to_markdown(
            notebooks.page_notebook(notebooks.DOCS / lang / "tutorials" / "02-pytorch-lesson.py"),
            "t",
        )
        for lang in notebooks.LANGUAGES
    }
    assert "# 用 PyTorch" in pages["zh"].markdown  # the Chinese prose
    en, zh = pages["en"].images, pages["zh"].images
    assert en.keys() == zh.keys()
    assert en  # the page has figures
    assert all(en[name] != zh[name] for name in en)  # labels differ, so the pixels do
    assert {Image.open(io.BytesIO(png)).mode for png in [*en.values(), *zh.values()]} == {"P"}


def _twins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, en: str, zh: str) -> Path:
    """A tutorial pair in a docs folder of its own; returns the English source."""
    for lang, text in (("en", en), ("zh", zh)):
        folder = tmp_path / lang / "tutorials"
        folder.mkdir(parents=True)
        (folder / "01-pair.py").write_text(text, encoding="utf-8")
    monkeypatch.setattr(notebooks, "DOCS", tmp_path)
    monkeypatch.setattr(notebooks, "CACHE", tmp_path / "cache")
    return tmp_path / "en" / "tutorials" / "01-pair.py"


def test_twins_that_differ_in_words_only_make_a_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    english = '# %%\ntotal = 2 + 2  # four\nprint("total:", total)\n'
    chinese = '# %%\ntotal = 2 + 2  # 四\nprint("合计：", total)\n'
    page = notebooks.page_notebook(_twins(tmp_path, monkeypatch, english, chinese))
    assert page.cells[0].outputs[0].text == "total: 4\n"


@pytest.mark.parametrize(
    ("chinese", "message"),
    [
        pytest.param(
            '# %%\ntotal = 2 + 3  # 四\nprint("合计：", total)\n',
            r"code cell 1 differs in more than comments and strings: "
            r"'total = 2 \+ 2  # four' against 'total = 2 \+ 3  # 四'",
            id="code",
        ),
        pytest.param(
            '# %%\ntotal = 2 + 2  # 四\nprint("第 2 次合计：", total)\n',
            r"code cell 1 printed different numbers: 4 against 2",
            id="numbers",
        ),
    ],
)
def test_twins_that_differ_otherwise_fail_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chinese: str, message: str
) -> None:
    english = '# %%\ntotal = 2 + 2  # four\nprint("total:", total)\n'
    with pytest.raises(notebooks.NotebookError, match=message):
        notebooks.page_notebook(_twins(tmp_path, monkeypatch, english, chinese))


def _per_evaluation(runs: dict[str, linreg.History], lang: str) -> Figure:
    """The runs against the loss evaluation that measured each loss, as tutorial 3 draws."""
    at = {name: list(range(1, len(run.losses) + 1)) for name, run in runs.items()}
    at["LBFGS"] = _evaluations("LBFGS", lr=0.01)[1]  # the others evaluate once per epoch
    xlabel = {"en": "loss evaluations", "zh": "损失计算次数"}[lang]
    return linreg.plot_comparison(
        runs, kind="overlay", x_values=at, xlog=True, xlabel=xlabel, lang=lang
    )


FIGURES = {
    "loss": lambda runs, lang: linreg.plot_loss(runs["SGD"], title="SGD, lr = 0.01", lang=lang),
    "grid": lambda runs, lang: linreg.plot_comparison(runs, kind="grid", lang=lang),
    "overlay": lambda runs, lang: linreg.plot_comparison(runs, kind="overlay", lang=lang),
    "evaluations": _per_evaluation,
}


@pytest.fixture(scope="module")
def optimizer_runs() -> dict[str, linreg.History]:
    """The runs the optimizers tutorial plots."""
    x, y = linreg.lesson_data()
    return linreg.compare(
        list(linreg.OPTIMIZERS), x, y, epochs=100, lr=0.01, reduction="sum", seed=0
    )


def _draw(figure: str, lang: str, runs: dict[str, linreg.History]) -> bytes:
    """A tutorial's figure as the kernel draws it: the site's style, labels in `lang`."""
    with matplotlib.rc_context(fname=str(notebooks.MATPLOTLIBRC)):
        return FIGURES[figure](runs, lang)._repr_png_()


def _pixels(png: bytes, mode: str = "RGB") -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert(mode), dtype=np.float64)


@pytest.mark.parametrize("lang", notebooks.LANGUAGES)
@pytest.mark.parametrize("figure", FIGURES)
def test_compact_png_is_smaller_and_looks_the_same(
    figure: str,
    lang: str,
    optimizer_runs: dict[str, linreg.History],
) -> None:
    original = _draw(figure, lang, optimizer_runs)
    compact = notebooks.compact_png(original)
    # Measured: 2.0x (loss curve), 2.8x (grid), 3.6x (overlay), 3.4x (per evaluation) smaller.
    assert len(compact) < 0.6 * len(original)
    assert compact == notebooks.compact_png(original)  # deterministic
    before, after = Image.open(io.BytesIO(original)), Image.open(io.BytesIO(compact))
    assert (before.mode, after.mode) == ("RGBA", "P")
    assert after.size == before.size
    assert after.info.get("dpi") == before.info.get("dpi")
    assert set(after.info) <= {"dpi"}  # no other metadata (a date would break determinism)
    rgba = _pixels(compact, "RGBA")
    assert rgba.shape == _pixels(original, "RGBA").shape
    assert (rgba[..., 3] == 255).all()  # opaque, as matplotlib drew it
    a, b = _pixels(original), _pixels(compact)
    white = (a == 255).all(axis=-1)
    assert (b[white] == 255).all()  # the white background stays pure white
    error = np.abs(a - b)
    psnr = 10 * math.log10(255**2 / (error**2).mean())
    # Measured on these figures: per-channel MAE <= 0.1, PSNR >= 52 dB, largest error
    # 14 levels. Median cut passes the first two but not the last: on the overlay it
    # errs by up to 46 levels (a thin curve drawn in a neighbouring curve's colour).
    assert error.mean(axis=(0, 1)).max() < 0.25
    assert psnr > 48
    assert error.max() <= 24


def test_compact_png_keeps_a_transparent_figure_as_drawn() -> None:
    figure = linreg.plot_loss([3.0, 2.0, 1.0])
    figure.patch.set_alpha(0.0)
    png = figure._repr_png_()
    assert _pixels(png, "RGBA")[..., 3].min() == 0
    assert notebooks.compact_png(png) is png


def test_compact_png_keeps_the_original_when_the_palette_is_not_smaller() -> None:
    buffer = io.BytesIO()
    Image.new("RGBA", (1, 1), "white").save(buffer, format="PNG")
    png = buffer.getvalue()
    assert notebooks.compact_png(png) is png
