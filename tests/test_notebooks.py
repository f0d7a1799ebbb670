"""Every tutorial executes in a real kernel, and its key numbers are the package's.

The notebooks run through the same code as the site build (`tools/notebooks.py`),
sharing its cache: a notebook is executed again whenever it, `linreg`, the matplotlib
style or the torch version changed. The numbers the pages show are checked here
against `linreg` and torch computed independently in this process. The figures the
pages show are re-encoded with a palette (`compact_png`); the tests here measure how
much smaller they get and how little their pixels change.
"""

from __future__ import annotations

import inspect
import io
import math
import re
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import torch
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


def _check_optimizers(out: dict[str, str]) -> None:
    runs = linreg.compare(list(linreg.OPTIMIZERS), *linreg.lesson_data(), epochs=100, lr=0.01)
    for name, run in runs.items():
        w, b = run.weight.item(), run.bias.item()
        row = [name, run.final_loss, w, b, 4 * w + b, run.loss_evaluations]
        assert "{:<10}{:>12.3g}{:>9.4f}{:>9.4f}{:>9.4f}{:>13}".format(*row) in out["stdout"]
    assert "same start for all: True" in out["stdout"]
    assert out["images"] == 2


def _path(
    name: str,
    settings: dict,
    x: torch.Tensor,
    y: torch.Tensor,
    epochs: int = 100,
    reduction: str = "sum",
    stop=lambda loss: loss > 1e6,
) -> tuple[torch.Tensor, list[float]]:
    """A hand-written torch loop from the lesson's start: (w, b) after each epoch, losses."""
    torch.manual_seed(0)
    model = torch.nn.Linear(1, 1)
    criterion = torch.nn.MSELoss(reduction=reduction)
    optimizer = getattr(torch.optim, name)(model.parameters(), **settings)

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        return loss

    points = [torch.cat([model.weight.detach().flatten(), model.bias.detach()])]
    losses: list[float] = []
    for _ in range(epochs):
        losses.append(optimizer.step(closure).item())
        points.append(torch.cat([model.weight.detach().flatten(), model.bias.detach()]))
        if stop(losses[-1]):
            break
    return torch.stack(points), losses


def _check_loss_surface(out: dict[str, str]) -> None:
    stdout = out["stdout"]
    x, y = linreg.lesson_data()
    minimum = torch.tensor([2.0, 0.0])
    design = torch.cat([x, torch.ones(3, 1)], dim=1).double()
    lambda_min, lambda_max = torch.linalg.eigvalsh(2 * design.T @ design).tolist()
    kappa = lambda_max / lambda_min
    bound = 2 / lambda_max
    assert f"eigenvalues: {lambda_min:.4f} and {lambda_max:.4f}" in stdout
    assert f"condition number: {kappa:.2f}" in stdout
    assert round(kappa) == 46  # the prose's κ ≈ 46
    torch.manual_seed(0)
    start = torch.nn.Linear(1, 1)
    w0, b0 = start.weight.item(), start.bias.item()
    assert f"start: w = {w0:.4f}, b = {b0:.4f}" in stdout
    assert abs(w0) < 0.01  # the alt text: "flat near y = 0.5"
    assert abs(b0 - 0.5) < 0.05
    layer = torch.nn.Linear(1, 1)
    with torch.no_grad():
        layer.weight.fill_(torch.linspace(-1, 4, 200)[50].item())
        layer.bias.fill_(torch.linspace(-1, 2.6, 200)[80].item())
        grid_point = torch.nn.MSELoss(reduction="sum")(layer(x), y).item()
    assert f"MSELoss at one grid point: {grid_point:.4f}" in stdout
    assert f"loss_grid at that point:   {grid_point:.4f}" in stdout

    # 2. SGD below, near and above the bound.
    assert f"stable bound 2/λmax = {bound:.4f}" in stdout
    for lr in [0.01, 0.9 * bound, 1.1 * bound]:
        points, losses = _path("SGD", {"lr": lr}, x, y)
        row = f"{lr:7.4f}  {abs(1 - lr * lambda_max):12.4f}  {abs(1 - lr * lambda_min):11.4f}  "
        if losses[-1] > 1e6:
            row += f"loss passed 1e6 at epoch {len(losses) - 1}"
        else:
            row += f"distance to minimum {(points[-1] - minimum).norm():.4f}"
        assert row in stdout
    assert abs(abs(1 - 0.01 * lambda_max) - 2 / 3) < 0.01  # "shrinks by a third"
    sgd_distance = (_path("SGD", {"lr": 0.01}, x, y)[0][-1] - minimum).norm().item()

    # 3. Other optimizers: settings as the prose says, torch's defaults where it says so.
    assert inspect.signature(torch.optim.Rprop).parameters["lr"].default == 0.01
    assert inspect.signature(torch.optim.LBFGS).parameters["lr"].default == 1
    others = {
        "SGD, momentum 0.9": ("SGD", {"lr": 0.01, "momentum": 0.9}, "> 100"),
        "Adam, lr = 0.1": ("Adam", {"lr": 0.1}, "> 100"),
        "Rprop, lr = 0.01": ("Rprop", {"lr": 0.01}, None),
        "LBFGS, max_iter = 1": ("LBFGS", {"lr": 1, "max_iter": 1}, "5"),
    }
    for label, (name, settings, first) in others.items():
        points, _ = _path(name, settings, x, y)
        distances = (points - minimum).norm(dim=1)
        close = (distances < 1e-3).nonzero()
        found = str(close[0, 0].item()) if len(close) else "> 100"
        assert first is None or found == first
        assert f"{found:>21}{distances[-1]:>18.2e}  {label}" in stdout
        if name in ("Adam", "Rprop"):  # the first step is diagonal: w and b move alike
            step = (points[1] - points[0]).abs()
            assert abs(step[0] - step[1]) < 1e-6

    # 4. Momentum: the rates are the roots of z² − (1 + μ − αλ)z + μ, here from numpy.
    def rate(lr: float, momentum: float, eigenvalue: float) -> float:
        return float(np.abs(np.roots([1, -(1 + momentum - lr * eigenvalue), momentum])).max())

    root = kappa**0.5
    mu_polyak = ((root - 1) / (root + 1)) ** 2
    lr_polyak = 4 / (lambda_max**0.5 + lambda_min**0.5) ** 2
    assert f"heavy ball: momentum {mu_polyak:.4f}, lr {lr_polyak:.4f}" in stdout
    distances = {}
    for label, lr, momentum in [
        ("SGD", 0.01, 0.0),
        ("SGD, momentum 0.9", 0.01, 0.9),
        ("heavy ball", lr_polyak, mu_polyak),
    ]:
        points, losses = _path("SGD", {"lr": lr, "momentum": momentum}, x, y)
        distances[label] = (points[-1] - minimum).norm().item()
        steep, flat = rate(lr, momentum, lambda_max), rate(lr, momentum, lambda_min)
        assert f"{steep:>10.4f}{flat:>10.4f}{distances[label]:>20.2e}  {label}" in stdout
    assert f"{rate(0.01, 0, lambda_max):.3f}" == "0.667"  # the prose's rates
    assert f"{rate(0.01, 0.9, lambda_max):.3f}" == f"{rate(0.01, 0.9, lambda_min):.3f}" == "0.949"
    assert distances["SGD"] / distances["SGD, momentum 0.9"] > 50  # "more than fifty times"
    heavy = _path("SGD", {"lr": lr_polyak, "momentum": mu_polyak}, x, y)[1]
    assert heavy[1] > heavy[0]  # the alt text: it first rises,
    assert heavy[70] < 1e-10  # and is at float32's floor before epoch 70
    assert f"best plain gradient descent: {(kappa - 1) / (kappa + 1):.4f} per epoch" in stdout
    assert f"heavy ball:                  {(root - 1) / (root + 1):.4f} per epoch" in stdout

    # 5. Without zero_grad: the sum of all gradients so far, by hand.
    torch.manual_seed(0)
    model = torch.nn.Linear(1, 1)
    gradient_sum = torch.zeros(2)
    orbit = []
    for _ in range(100):
        model.zero_grad()
        torch.nn.MSELoss(reduction="sum")(model(x), y).backward()
        gradient_sum += torch.cat([model.weight.grad.flatten(), model.bias.grad])
        with torch.no_grad():
            model.weight -= 0.01 * gradient_sum[0]
            model.bias -= 0.01 * gradient_sum[1]
        w_b = torch.cat([model.weight.detach().flatten(), model.bias.detach()])
        orbit.append((w_b - minimum).norm().item())
    assert "identical after every one of 100 epochs: True" in stdout
    printed = stdout.split("distance to the minimum, every 10 epochs:\n")[1].splitlines()[0]
    expected = [float(f"{d:.2f}") for d in orbit[9::10]]
    assert [float(v) for v in printed.split()] == pytest.approx(expected, abs=0.011)
    assert min(orbit[50:]) > 0.1  # it never settles
    assert f"rates with momentum 1: {rate(0.01, 1, lambda_max):.4f}" in stdout
    assert f" and {rate(0.01, 1, lambda_min):.4f}" in stdout

    # 6. Centring.
    x_c = x - 2.0
    design_c = torch.cat([x_c, torch.ones(3, 1)], dim=1).double()
    h_c = 2 * design_c.T @ design_c
    assert f"Hessian for centred x: {h_c.tolist()}" in stdout
    small, large = torch.linalg.eigvalsh(h_c).tolist()
    assert f"condition number: {kappa:.2f} -> {large / small:.2f}" in stdout
    assert f"stable bound:     {bound:.4f} -> {2 / large:.4f}" in stdout
    for lr in [0.01, 1 / large]:
        points, _ = _path("SGD", {"lr": lr}, x_c, y)
        w, b_c = points[-1].tolist()
        b = b_c - 2 * w
        distance = ((w - 2) ** 2 + b**2) ** 0.5
        assert f"lr = {lr:.4f}: w = {w:.4f}, b = {b + 0.0:.4f}, distance {distance:.1e}" in stdout
        if lr == 0.01:
            assert 8.5 < sgd_distance / distance < 9.5  # "nine times closer"
            assert f"{sgd_distance:.4f}" == "0.6301"  # "0.6301 in section 2"

    # 7. The fit after 0, 1, 5, 20 and 100 epochs of the lesson's run.
    history = _lesson()
    points, losses = _path("SGD", {"lr": 0.01}, x, y)
    assert losses == history.losses
    for epoch in [0, 1, 5, 20, 100]:
        w, b = points[epoch].tolist()
        assert f"{epoch:>5}{w:>9.4f}{b:>9.4f}" in stdout

    # 8. Around the bound.
    for factor in [0.5, 0.9, 0.99, 1.01, 1.1]:
        lr = factor * bound
        _, losses = _path("SGD", {"lr": lr}, x, y)
        row = f"{factor:>8}{lr:>8.4f}{abs(1 - lr * lambda_max):>14.4f}  "
        if losses[-1] > 1e6:
            row += f"loss passed 1e6 at epoch {len(losses) - 1}"
            assert len(losses) - 1 < 30  # "within 30 epochs"
        else:
            row += f"loss {losses[-1]:.3g}"
        if factor == 1.01:
            assert 45 < losses[-1] / losses[0] < 55  # "some fifty-fold"
        assert row in stdout

    # Exercises: 1, epochs to a loss below 1e-6 per momentum.
    needed = {}
    for i in range(10):
        momentum = 0.5 + 0.05 * i
        _, losses = _path(
            "SGD", {"lr": 0.01, "momentum": momentum}, x, y, 2000, stop=lambda v: v < 1e-6
        )
        needed[round(momentum, 2)] = len(losses)
    best = min(needed, key=needed.get)
    critical = (1 - (0.01 * lambda_min) ** 0.5) ** 2
    assert f"epochs to a loss below 1e-6: {needed}" in stdout
    assert f"fastest: momentum {best} ({needed[best]} epochs)" in stdout
    assert f"the flat direction's roots meet at momentum {critical:.4f}" in stdout
    # 2 and 3: κ and the bound for 'mean' on centred x.
    assert f"by hand: 1.5, from torch: {large / small:.4f}" in stdout
    bound_mean = 2 / (large / 3)
    assert f"by hand: 1.0, stable_lr: {bound_mean:.4f}" in stdout
    for lr in [0.9, 1.1]:
        _, losses = _path("SGD", {"lr": lr}, x_c, y, reduction="mean")
        if losses[-1] > 1e6:
            assert f"lr = {lr}: the loss passed 1e6 at epoch {len(losses) - 1}" in stdout
        else:
            assert f"lr = {lr}: loss {losses[-1]:.2e} after 100 epochs" in stdout
    # 4: the bias mapped back, within 1e-3 after 8 epochs (and b_c exact after one).
    points, _ = _path("SGD", {"lr": 1 / large}, x_c, y, epochs=20)
    b_original = points[:, 1] - 2 * points[:, 0]
    reached = int((b_original.abs() < 1e-3).nonzero()[0, 0])
    predicted = math.ceil(math.log(2000 * abs(w0 - 2)) / math.log(3))
    assert f"|b_c - 4| after one epoch: {abs(points[1, 1].item() - 4):.1e}" in stdout
    assert f"predicted: {predicted} epochs, measured: {reached} epochs" in stdout
    assert out["images"] == 6


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


FIGURES = {
    "loss": lambda runs, lang: linreg.plot_loss(runs["SGD"], title="SGD, lr = 0.01", lang=lang),
    "grid": lambda runs, lang: linreg.plot_comparison(runs, kind="grid", lang=lang),
    "overlay": lambda runs, lang: linreg.plot_comparison(runs, kind="overlay", lang=lang),
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
    # Measured: 2.0x (loss curve), 2.8x (grid), 3.6x (overlay) smaller.
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
