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
    stdout = out["stdout"]

    def shown(pattern: str) -> list[float]:
        """The numbers a line of the page printed, read by the groups of `pattern`."""
        match = re.search(pattern, stdout)
        assert match, f"not printed: {pattern}"
        return [float(group) for group in match.groups()]

    def close(printed: float, value: float, decimals: int) -> bool:
        """`printed` is `value` rounded to `decimals` (float32 on the page, float64 here)."""
        return abs(printed - value) <= 0.5 * 10**-decimals + 1e-6

    # The oracle: the same descent in matrix form and float64, θ ← θ − lr·(Hθ − 2Xᵀy).
    x, y = linreg.lesson_data()
    design = torch.cat([x, torch.ones(3, 1)], dim=1).double()  # (3, 2)
    target = y.double().flatten()

    def gradient(theta: torch.Tensor) -> torch.Tensor:
        return 2 * design.T @ (design @ theta - target)

    def loss(theta: torch.Tensor) -> float:
        return ((design @ theta - target) ** 2).sum().item()

    start = torch.tensor([0.5, 0.0], dtype=torch.float64)
    grad = gradient(start)
    assert f"loss = {loss(start):.4f}" in stdout
    assert f"dL/dw = {grad[0]:.4f}, dL/db = {grad[1]:.4f}" in stdout
    assert "same as by hand: True True" in stdout
    assert f"loss: {loss(start):.4f} -> {loss(start - 0.01 * grad):.4f}" in stdout

    path = [start]
    for _ in range(100):
        path.append(path[-1] - 0.01 * gradient(path[-1]))
    w, b = path[-1].tolist()
    printed_w, printed_b = shown(r"after 100 epochs: w = (\S+), b = (\S+),")
    assert close(printed_w, w, 4)
    assert close(printed_b, b, 4)
    biases = [theta[1].item() for theta in path[1:]]
    peak = max(range(100), key=biases.__getitem__)
    epoch, largest = shown(r"b was largest after (\d+) epochs: (\S+)")
    assert epoch == peak + 1
    assert close(largest, biases[peak], 4)
    assert out["images"] == 1

    # The closed form, three ways; b printed as computed, its rounding error visible.
    design32 = design.float()
    theta32 = torch.linalg.solve(design32.T @ design32, design32.T @ y)
    assert str(design32.T @ design32) in stdout
    assert f"normal equations: w = {theta32[0].item():.4f}, b = {theta32[1].item():.1e}" in stdout
    assert "cov / var: w = 2.0000, b = 0.0e+00" in stdout  # centred x: exact arithmetic
    w_star, b_star = linreg.fit_closed_form(x, y)
    assert f"linreg:    w = {w_star.item():.4f}, b = {b_star.item():.1e}" in stdout
    assert "all agree: True True" in stdout
    # The prose: float32 misses 0 by a few times 1e-7, float64 by about 1e-15.
    assert 1e-7 < abs(theta32[1].item()) < 1e-6
    assert abs(b_star.item()) < 1e-14

    # The distances, and the prose about them: 0.118 (6 %), 0.268, b peaked at 0.505
    # after 10 epochs and has come down about halfway.
    distance_w, distance_b = abs(w - w_star.item()), abs(b - b_star.item())
    assert close(shown(r"distance in w: (\S+)")[0], distance_w, 4)
    assert close(shown(r"distance in b: (\S+)")[0], distance_b, 4)
    assert (round(distance_w, 3), round(distance_b, 3)) == (0.118, 0.268)
    assert round(100 * distance_w / 2) == 6
    assert (peak + 1, round(biases[peak], 3)) == (10, 0.505)
    assert 0.4 < (biases[peak] - b) / biases[peak] < 0.6

    # Exercise 1: the gradient at (1, 1) is (-16, -6).
    grad_1 = gradient(torch.tensor([1.0, 1.0], dtype=torch.float64)).tolist()
    assert grad_1 == [-16.0, -6.0]
    assert f"autograd at (1, 1): dL/dw = {grad_1[0]}, dL/db = {grad_1[1]}" in stdout
    # Exercise 2: one step at lr = 0.02 reaches (1.34, 0.36), loss 3.636 (prose).
    step_2 = start - 0.02 * grad
    assert f"w = {step_2[0]:.4f}, b = {step_2[1]:.4f}" in stdout
    assert f"loss after one step with lr = 0.02: {loss(step_2):.4f}" in stdout
    assert [round(v, 4) for v in step_2.tolist()] == [1.34, 0.36]
    assert [round(v, 4) for v in (design @ step_2 - target).tolist()] == [-0.3, -0.96, -1.62]
    assert round(loss(step_2), 4) == 3.636
    assert round(loss(start - 0.01 * grad), 3) == 14.094
    # Exercise 3: the best b for the trained w is 4 - 2w, with loss 2(w - 2)^2: less than the
    # trained pair's, and most of it.
    b_best = y.mean().item() - w * x.mean().item()
    best, trained = shown(r"loss: (\S+) with it, (\S+) as trained")
    assert close(shown(r"best b for w = \S+: (\S+) \(training")[0], b_best, 4)
    assert close(best, 2 * (w - 2) ** 2, 6)
    assert close(trained, loss(path[-1]), 6)
    assert 0.5 * trained < best < trained
    # Exercise 4: the mean's gradient is the sum's divided by 3; the step is a third.
    assert f"mean: dL/dw = {grad[0] / 3:.4f}, dL/db = {grad[1] / 3:.4f}" in stdout
    step_4 = start - 0.01 * grad / 3
    assert f"first step with lr = 0.01: w = {step_4[0]:.4f}, b = {step_4[1]:.4f}" in stdout
    assert [round(v, 4) for v in step_4.tolist()] == [0.64, 0.06]


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
    assert out["images"] == 2  # the loss (plain matplotlib) and the zero_grad comparison

    def listed(values: list[float]) -> str:
        return str([round(v, 4) for v in values])

    # The Hessian, from numpy: eigenvalues, eigenvectors (w part > 0) and κ ≈ 46.
    x, y = linreg.lesson_data()
    design = np.hstack([x.double().numpy(), np.ones((3, 1))])  # (3, 2)
    hessian = 2 * design.T @ design
    eigenvalues, eigenvectors = np.linalg.eigh(hessian)
    eigenvectors = eigenvectors * np.sign(eigenvectors[0])
    flat, steep = eigenvectors[:, 0], eigenvectors[:, 1]
    kappa = eigenvalues[1] / eigenvalues[0]
    assert f"eigenvalues of H:        {listed(eigenvalues.tolist())}" in stdout
    assert f"flat direction (w, b):   {listed(flat.tolist())}" in stdout
    assert f"steep direction (w, b):  {listed(steep.tolist())}" in stdout
    assert f"condition number κ:      {kappa:.1f}" in stdout
    assert round(kappa) == 46  # the prose: 46 times steeper
    shrink = 1 - 0.01 * eigenvalues
    assert f"shrink factor per epoch: {listed(shrink.tolist())}" in stdout
    assert [f"{v:.4f}" for v in shrink] == ["0.9928", "0.6672"]
    assert 0.4 < shrink[0] ** 100 < 0.6  # "about half of it is left"
    # A step of 0.1 from the minimum raises the loss by λ·0.1²/2 (quadratic, minimum 0);
    # the rotation (1, -2) about the centroid moves the predictions by 0.1·(x - 2).
    rotation = np.array([1.0, -2.0]) / 5**0.5
    for name, direction in [
        ("steep eigenvector", steep),
        ("flat eigenvector ", flat),
        ("(1, -2) / sqrt(5)", rotation),
    ]:
        rise = direction @ hessian @ direction * 0.1**2 / 2
        assert f"{name}: the loss rises by {rise:.4f}" in stdout
    assert f"predictions change by: {listed((0.1 * (x.flatten() - 2)).tolist())}" in stdout
    assert f"{flat[1] / flat[0]:.2f}" == "-2.27"  # the prose: 2.27 times as much
    assert (x.mean().item(), y.mean().item()) == (2.0, 4.0)  # the centroid the line turns about

    # The error left after 100 epochs, predicted by (I - lr·H)^100, and the run's.
    torch.manual_seed(0)
    start = torch.cat([p.detach().flatten() for p in linreg.LinearModel().parameters()])
    assert f"{start[1].item():.4f}" == "0.5364"
    assert abs(history.bias.item()) > start[1].item()
    w_star, b_star = linreg.fit_closed_form(x, y)
    theta_star = np.array([w_star.item(), b_star.item()])
    power = np.linalg.matrix_power(np.eye(2) - 0.01 * hessian, 100)
    predicted = power @ (start.double().numpy() - theta_star)
    error = np.array([history.weight.item(), history.bias.item()]) - theta_star
    assert f"predicted error after 100 epochs: {listed(predicted.tolist())}" in stdout
    assert f"actual error after 100 epochs:    {listed(error.tolist())}" in stdout
    assert "prediction is right: True" in stdout
    assert f"b error / w error: {error[1] / error[0]:.2f}" in stdout
    assert f"flat eigenvector, b / w: {flat[1] / flat[0]:.2f}" in stdout
    tutorial_1 = theta_star + power @ (np.array([0.5, 0.0]) - theta_star)
    assert f"tutorial 1, predicted (w, b): {listed(tutorial_1.tolist())}" in stdout
    assert (round(tutorial_1[1], 2), round(history.bias.item(), 2)) == (0.27, 0.58)

    x_data = linreg.lesson_data()[0]
    bound, bound_mean = linreg.stable_lr(x_data, "sum"), linreg.stable_lr(x_data, "mean")
    assert f"largest stable lr, reduction='sum':  {bound:.4f}" in stdout
    assert abs(bound - 2 / eigenvalues[1]) < 1e-12
    assert f"largest stable lr, reduction='mean': {bound_mean:.4f}" in stdout
    assert f"flat-direction factor at that lr:    {1 - 2 / kappa:.4f}" in stdout

    # Exercise 1: 'mean' at lr 0.03 takes the steps of 'sum' at 0.01.
    torch.manual_seed(0)
    model = linreg.LinearModel()
    optimizer = linreg.make_optimizer("SGD", model.parameters(), lr=0.03)
    mean = linreg.train(model, x, y, linreg.make_criterion("mean"), optimizer, epochs=100)
    assert torch.allclose(mean.weight, history.weight)
    assert torch.allclose(mean.bias, history.bias)
    assert "lr for 'mean': 0.03\nsame w and b: True" in stdout
    assert f"final loss: {history.final_loss:.4f} (sum), {mean.final_loss:.4f} (mean)" in stdout
    assert abs(history.final_loss / mean.final_loss - 3) < 1e-4  # "differ by the factor 3"
    # Exercise 2: the bound for 'mean' from the Hessian divided by N = 3.
    assert f"2 / lambda_max(H / 3) = {2 / np.linalg.eigvalsh(hessian / 3)[-1]:.4f}" in stdout
    assert f"linreg.stable_lr:       {bound_mean:.4f}" in stdout
    assert (round(bound_mean, 2), round(bound, 2)) == (0.18, 0.06)
    # Exercise 3: |b| < 0.01 after 661 epochs, from the float64 recurrence: over six times 100.
    theta, epochs = start.double().numpy(), 0
    while abs(theta[1]) >= 0.01:
        theta = theta - 0.01 * (hessian @ theta - 2 * design.T @ y.double().numpy().flatten())
        epochs += 1
    assert f"predicted: {epochs} epochs, counted: {epochs} epochs" in stdout
    assert 600 < epochs < 700
    # Exercise 4: 2 % below and above the bound for 'mean'.
    finals = {}
    for factor in (0.98, 1.02):
        torch.manual_seed(0)
        model = linreg.LinearModel()
        optimizer = linreg.make_optimizer("SGD", model.parameters(), lr=factor * bound_mean)
        run = linreg.train(model, x, y, linreg.make_criterion("mean"), optimizer, epochs=100)
        finals[factor] = run.final_loss
        assert (
            f"lr = {factor} x bound = {factor * bound_mean:.4f}: "
            f"loss {run.losses[0]:.4f} -> {run.final_loss:.4g} in 100 epochs"
        ) in stdout
    assert finals[0.98] < run.losses[0]
    assert finals[1.02] > 2000 * run.losses[0]
    assert 45 < 1.04**100 < 55  # the prose: about 50-fold


def _check_optimizers(out: dict[str, str]) -> None:
    import itertools

    def first_step(name: str, **settings: object) -> torch.Tensor:
        """How far an optimizer's first step moves w, from the page's initial weights."""
        run = linreg.compare({name: settings}, *linreg.lesson_data(), epochs=1)[name]
        torch.manual_seed(0)
        return run.weight - linreg.LinearModel().linear.weight.detach()

    def table(runs: dict[str, linreg.History]) -> str:
        rows = []
        for name, run in runs.items():
            w, b = run.weight.item(), run.bias.item()
            row = [name, run.final_loss, w, b, 4 * w + b, run.loss_evaluations]
            rows.append("{:<10}{:>12.3g}{:>9.4f}{:>9.4f}{:>9.4f}{:>13}".format(*row))
        return "\n".join(rows)

    def largest_step(name: str, **settings: object) -> float:
        """The largest change of w or b in one step, over 100 epochs from the page's start."""
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

    def radam_momentum_steps() -> int:
        """How many of RAdam's first steps are plain steps of lr times the averaged gradient."""
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

    stdout = out["stdout"]
    x, y = linreg.lesson_data()
    names = list(linreg.OPTIMIZERS)

    # Same settings: the hand-written loop's table equals linreg.compare's numbers.
    same = linreg.compare(names, x, y, epochs=100, lr=0.01)
    assert table(same) in stdout
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
    # The constants the prose and the page's rules use are torch's defaults.
    assert defaults["RMSprop"]["alpha"] == 0.99
    assert (defaults["Adadelta"]["rho"], defaults["Adadelta"]["eps"]) == (0.9, 1e-6)
    assert defaults["RAdam"]["betas"] == (0.9, 0.999)
    assert defaults["Rprop"]["etas"] == (0.5, 1.2)
    assert defaults["LBFGS"]["max_iter"] == 20

    # First steps, and the rules that explain them.
    torch.manual_seed(0)
    model = linreg.LinearModel()
    torch.nn.MSELoss(reduction="sum")(model(x), y).backward()
    g = model.linear.weight.grad.item()
    assert f"gradient of w at the start: {g:+.4f}" in stdout
    assert f"{-g:.2f}" == "49.77"  # the prose: 0.01 x 49.77
    names_shown = ["SGD", "RAdam", "Adam", "Adagrad", "RMSprop", "Adadelta"]
    steps = {name: first_step(name, lr=0.01) for name in names_shown}
    for name, step in steps.items():
        line = f"{name:<9} first step of w: {step.item():+.6f} = {(step / 0.01).item():7.3f} * lr"
        assert line in stdout
    assert torch.allclose(steps["SGD"], torch.tensor(-0.01 * g))
    assert f"{-0.01 * g:.2f}" == "0.50"
    assert torch.equal(steps["RAdam"], steps["SGD"])
    assert torch.allclose(steps["Adam"], torch.tensor(0.01))
    for name in ["Adam", "AdamW", "Adamax", "NAdam"]:  # "later steps are at most about lr"
        assert largest_step(name, lr=0.01) < 1.1 * 0.01
    assert final["RAdam"] < 0.2 * final["Adam"]  # "ends far ahead of Adam"
    assert torch.equal(steps["Adagrad"], steps["Adam"])
    assert torch.allclose(steps["RMSprop"], torch.tensor(10 * 0.01))
    assert f"RMSprop: v1 = {0.01 * g**2:.2f}, step by hand {steps['RMSprop'].item():+.6f} True" in (
        stdout
    )
    adadelta = first_step("Adadelta", lr=1.0).item()
    assert math.isclose(adadelta, 1e-3 / math.sqrt(0.1), rel_tol=1e-4)
    assert f"Adadelta at lr=1: step by hand {adadelta:+.6f} True" in stdout
    assert f"steps 1 to {radam_momentum_steps()}\n" in stdout

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
    assert f"{sweep['Adam'][0.1]:.2f}" == "0.24"  # exercise 3's hint

    # Sensible settings: the table, the shortcut, LBFGS with a line search.
    settings["LBFGS"] = {"lr": 1, "line_search_fn": "strong_wolfe"}
    sensible = linreg.compare(settings, x, y, epochs=100)
    assert table(sensible) in stdout
    assert "linreg.compare gives the same losses, w, b and evaluations: True" in stdout
    wolfe = linreg.compare({"LBFGS": settings["LBFGS"]}, x, y, epochs=2)["LBFGS"]
    assert wolfe.loss_evaluations == 7 + 1  # the first step takes 7, the next one 1
    assert sensible["LBFGS"].loss_evaluations == 7 + 99
    assert wolfe.losses[1] < 1e-9  # the alt text: below 1e-9 at evaluation 8
    assert 1e-8 < final["LBFGS"] < 3e-8
    assert 1000 < lbfgs < 1200
    assert max(sensible["NAdam"].final_loss, sensible["Rprop"].final_loss) < 1e-7
    assert sensible["Adadelta"].final_loss > 10
    adam = sensible["Adam"].losses  # "the Adam family at lr=1 oscillates"
    assert sum(after > before for before, after in itertools.pairwise(adam)) > 10

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
        step = first_step("RMSprop", lr=0.01, alpha=alpha).item()
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

    # Exercise 5: SGD with momentum gains, and swings more as the momentum grows.
    plain = final["SGD"]
    finals, rises = {}, {}
    for momentum in [0.5, 0.8, 0.9, 0.95]:
        run = linreg.compare({"SGD": {"lr": 0.01, "momentum": momentum}}, x, y)["SGD"]
        finals[momentum] = run.final_loss
        assert f"momentum={momentum}: final loss {run.final_loss:.3g}\n" in stdout
        rises[momentum] = sum(after > before for before, after in itertools.pairwise(run.losses))
    assert f"without momentum: {plain:.3g}\n" in stdout
    assert plain / finals[0.9] > 100  # also what the summary page says, citing tutorial 3
    assert finals[0.8] < finals[0.9]  # "0.8 lower still"
    assert finals[0.95] > plain  # "0.95 ends higher than without"
    assert 0 < rises[0.8] < rises[0.95]  # "overshoots and swings back and forth"
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
    """A hand-written torch loop from the lesson's start: (w, b) and the loss at each point.

    The points are the start and the parameters after each epoch; the losses are those
    the loop computed before each update, then the loss at the last point.
    """
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
    with torch.no_grad():
        losses.append(criterion(model(x), y).item())  # at the last point: losses[t] at points[t]
    return torch.stack(points), losses


def _passed(losses: list[float], cap: float = 1e6) -> int | None:
    """The epoch whose loss first exceeded `cap`, if one did."""
    return next((epoch for epoch, loss in enumerate(losses) if loss > cap), None)


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
        if _passed(losses) is not None:
            row += f"loss passed 1e6 at epoch {_passed(losses)}"
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
    assert losses == [*history.losses, history.full_losses[-1]]
    for epoch in [0, 1, 5, 20, 100]:
        w, b = points[epoch].tolist()
        assert f"{epoch:>5}{w:>9.4f}{b:>9.4f}" in stdout

    # 8. Around the bound.
    for factor in [0.5, 0.9, 0.99, 1.01, 1.1]:
        lr = factor * bound
        _, losses = _path("SGD", {"lr": lr}, x, y)
        row = f"{factor:>8}{lr:>8.4f}{abs(1 - lr * lambda_max):>14.4f}  "
        if _passed(losses) is not None:
            row += f"loss passed 1e6 at epoch {_passed(losses)}"
            assert _passed(losses) < 30  # "within 30 epochs"
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
        needed[round(momentum, 2)] = len(losses) - 1  # the last is the loss at the end
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
        if _passed(losses) is not None:
            assert f"lr = {lr}: the loss passed 1e6 at epoch {_passed(losses)}" in stdout
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


def _minibatch_start(lr: float = 0.03) -> tuple[torch.nn.Module, torch.optim.Optimizer]:
    """The tutorial's `start()`: weights from seed 0 (global RNG left alone), plain SGD."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = linreg.LinearModel(in_features=2)
    return model, torch.optim.SGD(model.parameters(), lr=lr)


def _minibatch_run(batch_size: int | None, lr: float = 0.03, epochs: int = 5) -> linreg.History:
    """The tutorial's runs: SGD on the mean squared error, batches shuffled from seed 0."""
    model, optimizer = _minibatch_start(lr)
    x, y = linreg.synthetic_data([2.0, -3.4], 4.2, n=500, noise=0.01, seed=0)
    criterion = torch.nn.MSELoss()
    return linreg.train(
        model, x, y, criterion, optimizer, epochs, batch_size, seed=0, full_loss_every="update"
    )


def _check_minibatches(out: dict[str, str]) -> None:
    stdout = out["stdout"]
    x, y = linreg.synthetic_data([2.0, -3.4], 4.2, n=500, noise=0.01, seed=0)
    n = len(x)

    # The closed form in float64, the best loss any run can reach.
    design = torch.cat([x, torch.ones(n, 1)], dim=1).double()
    coef = torch.linalg.lstsq(design, y.double()).solution.flatten().tolist()
    best = float(
        ((design @ torch.tensor(coef, dtype=torch.float64) - y.double().flatten()) ** 2).mean()
    )
    w1, w2, b = (round(v, 4) for v in coef)
    assert f"closed form: w = [{w1}, {w2}]  b = {b}  loss = {best:.3g}" in stdout

    sizes = [min(32, n - start) for start in range(0, n, 32)]
    assert len(sizes) == math.ceil(n / 32) == 16
    assert f"16 batches; sizes: {sizes[:3]} ... {sizes[-2:]}" in stdout
    assert "epoch 5: full-data loss" in stdout  # loop (a): a shuffle of the global RNG

    # (b) and linreg.train: the same loop, bit for bit.
    batch_32 = _minibatch_run(32)
    assert f"80 updates, full-data loss {batch_32.final_loss:.4g}" in stdout
    assert "same batch losses: True" in stdout
    assert "same w and b: True True" in stdout
    # (c): RandomSampler draws one unused permutation at the end of every epoch.
    generator = torch.Generator().manual_seed(0)
    perms = [torch.randperm(n, generator=generator).tolist() for _ in range(3)]
    sampler = torch.utils.data.RandomSampler(range(n), generator=torch.Generator().manual_seed(0))
    first, second = list(sampler), list(sampler)
    assert (first == perms[0], second == perms[1], second == perms[2]) == (True, False, True)
    assert "first epoch the same: True" in stdout
    assert "all five the same: False" in stdout
    assert "sampler's epoch 1 is permutation 1: True" in stdout
    assert "its epoch 2 is permutation 2: False ; permutation 3: True" in stdout

    # The three runs; the final loss is the loss on all the data after the last update.
    settings = {"full batch": None, "batch 32": 32, "batch 1": 1}
    runs = {name: _minibatch_run(size) for name, size in settings.items()}
    for name, run in runs.items():
        model, _ = _minibatch_start()
        with torch.no_grad():
            model.linear.weight.copy_(run.weight)
            model.linear.bias.copy_(run.bias)
            assert run.final_loss == torch.nn.MSELoss()(model(x), y).item()
        w1, w2 = run.weight.flatten().tolist()
        row = [name, len(run.step_losses), run.final_loss, w1, w2, run.bias.item()]
        assert "{:<12}{:>9}{:>12.3g}{:>9.4f}{:>9.4f}{:>9.4f}".format(*row) in stdout
    initial = runs["full batch"].full_losses[0]
    assert len({run.full_losses[0] for run in runs.values()}) == 1
    assert f"initial loss (all runs): {initial:.3g}" in stdout
    assert f"best possible loss (closed form): {best:.3g}" in stdout
    full, b32, b1 = runs.values()
    # "16 or 500 times as many updates"; "the runs differ 500-fold in length"
    assert [len(run.step_losses) for run in runs.values()] == [5, 80, 2500]
    assert 0.4 < full.final_loss / initial < 0.6  # "only halved the initial loss"
    assert (b32.weight - torch.tensor([[2.0, -3.4]])).abs().max() < 0.05  # "close"
    assert b1.final_loss < 1.5 * best  # "near the best possible loss"
    # "at about the same rate per update at first": updates 1 to 5 within a factor 1.5;
    # "full batch is at best a little ahead" (within 2 %, and ahead from update 2 on)
    for k in range(1, 6):
        values = [run.full_losses[k] for run in runs.values()]
        assert max(values) < 1.5 * min(values)
        assert full.full_losses[k] < 1.02 * min(values)
        assert k == 1 or full.full_losses[k] == min(values)
    assert b1.full_losses[n] < 1.5 * best  # batch 1 "reached the bottom in its first epoch"
    for name, run in [("batch 32", b32), ("batch 1", b1)]:
        last_epoch = run.full_losses[-len(run.step_losses) // 5 :]
        low, high = min(last_epoch), max(last_epoch)
        line = f"{name}, last epoch: full-data loss from {low:.3g} to {high:.3g}"
        assert line in stdout
    # batch 32 "still descending", ending at the bottom of its range; batch 1 "up to 40 %"
    assert b32.final_loss == min(b32.full_losses[-16:])
    assert b32.full_losses[-16] == max(b32.full_losses[-16:])
    assert round((max(b1.full_losses[-500:]) / best - 1) * 10) == 4

    _check_gradient_noise(out["stdout"], x, y)

    # Exercises 1 to 3.
    assert f"updates per epoch: {math.ceil(n / 32)} ; drop_last=True: {n // 32}" in stdout
    assert f"updates: {5 * (n // 32)} ; samples left out per epoch: {[n % 32] * 5}" in stdout
    model, optimizer = _minibatch_start()
    generator = torch.Generator().manual_seed(0)
    for _epoch in range(5):
        order = torch.randperm(n, generator=generator)
        for start in range(0, n - n % 32, 32):
            index = order[start : start + 32]
            loss = torch.nn.MSELoss()(model(x.index_select(0, index)), y.index_select(0, index))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        assert f"full-data loss: {torch.nn.MSELoss()(model(x), y).item():.4g}" in stdout
    assert "sum / mean, per parameter: ['32.0000', '32.0000', '32.0000']" in stdout

    # Exercise 4: one epoch for each learning rate and batch size.
    below: dict[int, list[float]] = {1: [], 32: []}
    for size in below:
        for lr in [0.3, 0.03, 0.003]:
            loss = _minibatch_run(size, lr, epochs=1).final_loss
            assert f"batch {size:>2}, lr={lr:<6} final loss {loss:.3g}" in stdout
            if loss < 0.001:
                below[size].append(lr)
    assert f"below 0.001 at batch 1: {below[1]} ; at batch 32: {below[32]}" in stdout
    assert below == {1: [0.03], 32: [0.3]}
    # lr=0.3 is "fine for the exact gradient", "well below the stable bound of full batch"
    assert linreg.stable_lr(x, "mean") > 2 * 0.3
    assert out["images"] == 2


def _check_gradient_noise(stdout: str, x: torch.Tensor, y: torch.Tensor) -> None:
    """The spread of minibatch gradients, from per-sample gradients written out."""
    model, _ = _minibatch_start()
    w = model.linear.weight.detach().double()
    b = model.linear.bias.detach().double()
    residual = x.double() @ w.T + b - y.double()  # (N, 1)
    per_sample = 2 * residual * torch.cat([x.double(), torch.ones(len(x), 1)], dim=1)  # (N, 3)
    full = per_sample.mean(dim=0)
    variance = (per_sample - full).pow(2).sum(dim=1).mean()  # sigma^2 of one sample
    n = len(x)
    rows = {
        int(m[1]): [float(v) for v in m.groups()[1:]]
        for m in re.finditer(r"^\s+(1|32|500)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$", stdout, re.M)
    }
    assert list(rows) == [1, 32, 500]
    generator = torch.Generator().manual_seed(0)
    for size, (mean_off, spread, scaled) in rows.items():
        index = [torch.randperm(n, generator=generator)[:size] for _ in range(200)]
        draws = torch.stack([per_sample[i].mean(dim=0) for i in index])
        expected_off = float((draws.mean(dim=0) - full).norm() / full.norm())
        expected = float((draws - full).norm(dim=1).pow(2).mean().sqrt() / full.norm())
        assert mean_off == pytest.approx(expected_off, abs=0.0015)
        assert spread == pytest.approx(expected, abs=0.0015)
        assert scaled == pytest.approx(expected * size**0.5, abs=0.006)
        # the variance of a batch drawn without replacement: sigma^2 / B * (N - B) / (N - 1)
        theory = float(variance / size * (n - size) / (n - 1)) / float(full.norm()) ** 2
        if size < n:
            assert expected**2 == pytest.approx(theory, rel=0.25)
    assert 1.7 < rows[1][1] < 2  # "almost twice the gradient itself"
    assert 0.28 < rows[32][1] < 0.38  # "about a third of it"
    assert abs(rows[1][2] - 1.8) < 0.1  # "spread·√B stays near 1.8"
    assert abs(rows[32][2] - 1.8) < 0.1
    assert rows[500] == [0.0, 0.0, 0.0]


def _check_pitfalls(out: dict[str, str]) -> None:
    import inspect

    def _torch_error(action) -> str:
        """The message torch raises for `action`, as the page shows it."""
        try:
            action()
        except RuntimeError as error:
            return str(error)
        raise AssertionError("no error")

    def _printed(pattern: str, stdout: str) -> list[float]:
        """The numbers of the one printed line that matches `pattern`."""
        (match,) = re.finditer(pattern, stdout)
        return [float(value) for value in match.groups()]

    stdout = out["stdout"]
    x, y = linreg.lesson_data()
    errors = [line.split(":")[0] for line in out["error"].splitlines()]
    assert errors == [
        "NameError",
        "LinregError",
        "RuntimeError",
        "RuntimeError",
        "TypeError",
        "RuntimeError",
        "RuntimeError",
        "DivergenceError",
    ]
    # The intro's count is the number of pitfalls.
    source = (notebooks.DOCS / "en" / "tutorials" / "06-pitfalls.py").read_text(encoding="utf-8")
    assert len(re.findall(r"^# ## \d+\. ", source, re.M)) == 11
    assert "# Eleven mistakes" in source
    assert "name 'criterion1' is not defined" in out["error"]
    assert "use y.reshape(-1, 1)" in out["error"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.nn.MSELoss(size_average=False, reduction="mean")
        torch.nn.MSELoss()(torch.zeros(3, 1), torch.zeros(3))
    for warning in caught:
        assert str(warning.message) in out["stderr"]

    # 3. Perfect predictions against flat targets: every pair, (3, 3).
    y_flat = y.flatten()
    assert f"loss with (3,) targets:   {((y - y_flat) ** 2).sum().item()}" in stdout
    # The broadcast loss is N·Σ(ŷ_i − ȳ)² + N·Σ(y_j − ȳ)²: least squares against ȳ.
    mean = y_flat.mean()
    w, b = linreg.fit_closed_form(x, torch.full_like(y, mean.item()))
    assert _printed(r"learned: w = (\S+), b = (\S+)\n", stdout) == pytest.approx(
        [w.item(), b.item()], abs=1e-4
    )
    assert f"mean of the targets: {mean.item():.4f}" in stdout
    spread = ((y_flat - mean) ** 2).sum().item()
    assert (spread, 3 * spread) == (8.0, 24.0)  # the prose: 8, counted three times
    assert f"loss it cannot get below: {3 * spread:.4f}" in stdout

    assert "after two backward: 6.0" in stdout

    # 5. The in-place update, refused; the same descent under no_grad, as SGD does it.
    def update_leaf() -> None:
        w = torch.tensor(1.0, requires_grad=True)
        with torch.no_grad():
            g = torch.tensor(1.0)
        w -= g

    assert _torch_error(update_leaf) in out["error"]
    model = linreg.LinearModel()
    with torch.no_grad():
        model.linear.weight.fill_(1.0)
        model.linear.bias.fill_(0.0)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    run = linreg.train(model, x, y, torch.nn.MSELoss(reduction="sum"), optimizer, 1000)
    assert _printed(r"\nw = (\S+), b = (\S+)\n", stdout) == pytest.approx(
        [run.weight.item(), run.bias.item()], abs=2e-4
    )

    # 6. backward twice: torch's message; with retain_graph, the same loss and step each time.
    def backward_twice() -> None:
        loss = (torch.ones(2, requires_grad=True).exp()).sum()
        loss.backward()
        loss.backward()

    assert _torch_error(backward_twice) in out["error"]
    first = _lesson(epochs=1)
    torch.manual_seed(0)
    model = linreg.LinearModel()
    loss = torch.nn.MSELoss(reduction="sum")(model(x), y)
    (grad,) = torch.autograd.grad(loss, model.linear.weight)
    w0 = model.linear.weight.item()
    for epoch in range(3):
        w_after = w0 - (epoch + 1) * 0.01 * grad.item()
        line = f"epoch {epoch}  loss {first.losses[0]:.4f}  w after the step {w_after:.4f}"
        assert line in stdout
    assert "epoch 1  loss" in stdout  # the failing loop printed its second epoch first

    # 7. Nodes and saved tensors of one graph, counted another way than the page's walk.
    torch.manual_seed(0)
    model = linreg.LinearModel()
    packed = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: packed.append(t) or t, lambda t: t):
        loss = torch.nn.MSELoss(reduction="sum")(model(x), y)
    names = []
    node = loss.grad_fn
    frontier = [node]
    while frontier:
        node = frontier.pop()
        if node is not None and type(node).__name__ not in names:
            names.append(type(node).__name__)
            frontier.extend(parent for parent, _ in node.next_functions)
    new_per_epoch = len(names) - 1  # AccumulateGrad, once per leaf, is shared
    assert new_per_epoch == 3  # the prose: three new nodes per epoch, two shared leaves
    leaves = len(list(model.parameters()))
    assert leaves == 2
    rows = [(10, 3 * 10 + 2, 0, "loss"), (100, 3 * 100 + 2, 0, "loss")]
    rows += [(100, 0, 0, "loss.item()"), (100, 302, 100 * len(packed), "loss, no backward")]
    for epochs, nodes, saved, what in rows:
        assert f"{epochs:>6}{nodes:>12}{saved:>15}  {what}" in stdout

    # 8. LBFGS: step() returns the loss before the step.
    assert inspect.signature(torch.optim.LBFGS).parameters["max_iter"].default == 20
    torch.manual_seed(0)
    model = linreg.LinearModel()
    optimizer = torch.optim.LBFGS(model.parameters())
    lbfgs = linreg.train(model, x, y, torch.nn.MSELoss(reduction="sum"), optimizer, 1)
    with torch.no_grad():
        after = torch.nn.MSELoss(reduction="sum")(model(x), y).item()
    assert f"step 0: step() returned {lbfgs.losses[0]:.6f}, loss after the step {after:.6f}" in (
        stdout
    )
    assert lbfgs.losses[0] == first.losses[0]

    # 10. .data hides the change from autograd; prediction of a model trained 1000 epochs.
    assert "gradient after changing .data: tensor([0., 0.])" in stdout
    a = torch.tensor([1.0, 2.0])
    assert (a.sigmoid() * (1 - a.sigmoid())).min().item() > 0  # the right gradient
    trained = _lesson(epochs=1000)
    prediction = 4 * trained.weight.item() + trained.bias.item()
    assert f"tensor([[{prediction:.4f}]]) False {prediction:.4f}" in stdout

    # 11. Above the bound: the loss grows every epoch until linreg stops it.
    bound = linreg.stable_lr(x, "sum")
    torch.manual_seed(0)
    model = linreg.LinearModel()
    optimizer = torch.optim.SGD(model.parameters(), lr=1.2 * bound)
    with pytest.raises(linreg.DivergenceError) as diverged:
        linreg.train(model, x, y, torch.nn.MSELoss(reduction="sum"), optimizer, 1000)
    for epoch, value in enumerate(diverged.value.history.losses[:8]):
        assert f"epoch {epoch}  loss {value:12.2f}" in stdout
    assert str(diverged.value) in out["error"]

    # Exercises.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the (3, 1) against (3,) warning, expected here
        mse = torch.nn.MSELoss()(torch.tensor([[1.0], [2.0], [3.0]]), torch.tensor([1.0, 2.0, 3.0]))
    assert f"by hand: {mse.item():.4f}   broadcast in torch: {mse.item():.4f}" in stdout
    lesson = _lesson()
    start, end = lesson.losses[0], lesson.losses[-1]
    assert f"buggy: loss {start:.4f} -> {start:.4f}, parameters moved: False" in stdout
    assert f"fixed: loss {start:.4f} -> {end:.4f}, parameters moved: True" in stdout
    x4 = torch.tensor([[1.0], [2.0], [3.0], [4.0]])
    y4_mean = (3 * x4 + 1).mean()
    w4, b4 = linreg.fit_closed_form(x4, torch.full_like(x4, y4_mean.item()))
    learned = _printed(r"learned: w = (\S+), b = (\S+);  mean of y: (\S+)\n", stdout)
    assert learned == pytest.approx([w4.item(), b4.item(), y4_mean.item()], abs=1e-4)
    expected = [round(v, 6) for v in [lesson.weight.item(), lesson.bias.item()]]
    assert f"by hand (w, b): {expected}" in stdout
    assert f"SGD     (w, b): {expected}" in stdout
    assert "allclose: True" in stdout


def _ddp_data(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Tutorial 7's data, as its script makes it: y = 2x + 1 + noise."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, generator=generator)
    return x, 2 * x + 1 + 0.1 * torch.randn(n, 1, generator=generator)


def _shuffle(n: int, epoch: int) -> list[int]:
    """DistributedSampler's order of epoch `epoch` (seed 0): randperm seeded with 0 + epoch."""
    return torch.randperm(n, generator=torch.Generator().manual_seed(epoch)).tolist()


def _ddp_steps(
    data: tuple[torch.Tensor, torch.Tensor],
    orders: list[list[int]],
    world_size: int,
    batch_size: int,
    lr: float = 0.1,
    reduction: str = "mean",
    divide: bool = True,
) -> list[list[float]]:
    """(w, b) after every step of DDP, its arithmetic done here in one process.

    Epoch e's order is padded (or cut) to a multiple of `world_size` by the caller; rank r
    takes every W-th sample from r, batches of `batch_size`. The ranks' gradients are
    divided by W (DDP's default hook; not with `divide=False`, a SUM hook) and added in
    rank order, as gloo's all-reduce adds them.
    """
    x, y = data
    torch.manual_seed(0)
    model = torch.nn.Linear(1, 1)
    criterion = torch.nn.MSELoss(reduction=reduction)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    steps = []
    for order in orders:
        shards = [order[r::world_size] for r in range(world_size)]
        for i in range(0, len(shards[0]), batch_size):
            total = None
            for shard in shards:
                batch = shard[i : i + batch_size]
                loss = criterion(model(x[batch]), y[batch])
                grads = torch.autograd.grad(loss, list(model.parameters()))
                grads = [g / world_size if divide else g for g in grads]
                if total is not None:
                    grads = [t + g for t, g in zip(total, grads, strict=True)]
                total = grads
            for parameter, grad in zip(model.parameters(), total, strict=True):
                parameter.grad = grad
            optimizer.step()
            steps.append([model.weight.item(), model.bias.item()])
    return steps


def _float_distance(first: list[list[float]], second: list[list[float]]) -> list[int]:
    """The largest distance in float32 values (ulp), for w and for b."""
    a, b = torch.tensor(first), torch.tensor(second)
    assert torch.equal(a.sign(), b.sign())
    apart = (a.view(torch.int32).long() - b.view(torch.int32).long()).abs()
    return apart.max(dim=0).values.tolist()


def _check_data_parallel(out: dict[str, str]) -> None:
    stdout = out["stdout"]
    data, world_size, epochs = _ddp_data(64), 2, 5
    orders = [_shuffle(64, e) for e in range(epochs)]
    # The launch: rank 0's lines are DDP's steps, recomputed here bit for bit.
    ddp = _ddp_steps(data, orders, world_size, 8)
    assert len(ddp) == 20  # "the same 20 steps"
    for epoch in range(epochs):
        w, b = ddp[4 * epoch + 3]
        assert f"epoch {epoch + 1}: w = {w:.4f}, b = {b:.4f}\n" in stdout
    assert "world size: 2 ; saved: ['model.pt']" in stdout
    # The shards: rank r takes every second sample of the shuffle from r.
    assert f"epoch 1, all 64 shuffled: {orders[0][:8]} ..." in stdout
    for rank in range(2):
        assert f"rank {rank} (32 samples): {orders[0][rank::2][:4]} ..." in stdout
    assert "every sample exactly once: True" in stdout

    # One process, batches of 16: within 1 ulp at every step (the prose), 4 allowed.
    x, y = data
    torch.manual_seed(0)
    model = torch.nn.Linear(1, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    single = []
    for order in orders:
        for i in range(0, 64, 16):
            batch = order[i : i + 16]
            optimizer.zero_grad()
            torch.nn.functional.mse_loss(model(x[batch]), y[batch]).backward()
            optimizer.step()
            single.append([model.weight.item(), model.bias.item()])
    apart = _float_distance(ddp, single)
    assert max(apart) == 1  # "agree to within one ulp"; not bit for bit
    assert f"20 steps; bit for bit equal: {ddp == single}" in stdout
    assert ddp != single
    assert f"largest difference (w, b) in ulp: {apart}" in stdout
    differing = sum(1 for a, b in zip(ddp, single, strict=True) if a != b)
    assert f"steps that differ at all: {differing}" in stdout
    assert f"2 processes: w = {ddp[-1][0]:.6f}, b = {ddp[-1][1]:.6f}" in stdout
    assert f"1 process: w = {single[-1][0]:.6f}, b = {single[-1][1]:.6f}" in stdout
    eps = torch.finfo(torch.float32).eps
    assert round(eps, 8) == 1.2e-7  # "about 1.2e-7"
    assert 4 * eps < 5e-7  # 4 ulp: "a relative error of at most 5e-7"
    assert "all-reduce by hand, bit for bit equal to DDP: True" in stdout

    # reduction="sum": half the step; lr × W or a SUM hook restores it.
    torch.manual_seed(0)
    start = torch.nn.Linear(1, 1)
    w0, b0 = start.weight.item(), start.bias.item()
    sum_single = _ddp_steps(data, orders, 1, 16, lr=0.005, reduction="sum")
    sum_ddp = _ddp_steps(data, orders, 2, 8, lr=0.005, reduction="sum")
    (w1, b1), (w2, b2) = sum_single[0], sum_ddp[0]
    assert f"first step, 1 process:   dw = {w1 - w0:.4f}, db = {b1 - b0:.4f}" in stdout
    assert f"first step, 2 processes: dw = {w2 - w0:.4f}, db = {b2 - b0:.4f}" in stdout
    ratios = ((w2 - w0) / (w1 - w0), (b2 - b0) / (b1 - b0))
    assert f"2 processes / 1 process: {ratios[0]:.3f}, {ratios[1]:.3f}" in stdout
    assert [f"{r:.3f}" for r in ratios] == ["0.500", "0.500"]
    lr_times_w = _ddp_steps(data, orders, 2, 8, lr=0.01, reduction="sum")
    hooked = _ddp_steps(data, orders, 2, 8, lr=0.005, reduction="sum", divide=False)
    for label, steps in [("lr x W = 0.01", lr_times_w), ("lr = 0.005, sum hook", hooked)]:
        apart = _float_distance(steps, sum_single)
        assert max(apart) <= 4
        assert f"{label}: (w, b) within {apart} ulp of 1 process" in stdout

    # 63 samples: the first of each shuffle is used twice; drop_last leaves out the last.
    uneven = _ddp_data(63)
    shuffles = [_shuffle(63, e) for e in range(epochs)]
    for epoch, order in enumerate(shuffles):
        twice = f"epoch {epoch + 1}: 64 samples, [{order[0]}] twice; "
        assert f"{twice}first of the shuffle: {order[0]}" in stdout
    padded = _ddp_steps(uneven, [o + o[:1] for o in shuffles], 2, 8)
    dropped = _ddp_steps(uneven, [o[:62] for o in shuffles], 2, 8)
    assert len(shuffles[0][:62][0::2]) == 31  # "each rank gets 31"
    once = _ddp_steps(uneven, shuffles, 1, 16)
    for label, steps in [
        ("2 processes, 63 samples:    ", padded),
        ("1 process, 63 samples:      ", once),
        ("1 process, padded to 64:    ", padded),
        ("2 processes, drop_last:     ", dropped),
        ("1 process, last one dropped:", dropped),
    ]:
        # DDP is the padded (or cut) run up to a few ulp: the same to 4 decimals.
        assert f"{label} w = {steps[-1][0]:.4f}, b = {steps[-1][1]:.4f}" in stdout
    assert round(abs(padded[-1][0] - once[-1][0]), 3) == 0.001  # "about 0.001 away"
    for label in ["2 processes vs padded", "drop_last vs last one dropped"]:
        found = re.search(rf"{label}: \(w, b\) within \[(\d+), (\d+)\] ulp", stdout)
        assert found
        assert max(int(v) for v in found.groups()) <= 4

    # set_epoch: five orders with it, one without.
    with_epoch = [o[0::2][:4] for o in orders[:3]]
    assert f"with set_epoch:    {with_epoch} ; distinct orders in 5 epochs: 5" in stdout
    without = [orders[0][0::2][:4]] * 3
    assert f"without set_epoch: {without} ; distinct orders in 5 epochs: 1" in stdout
    repeated = _ddp_steps(data, [orders[0]] * epochs, 1, 16)
    found = re.search(r"repeating epoch 1: \(w, b\) within \[(\d+), (\d+)\] ulp", stdout)
    assert found
    assert max(int(v) for v in found.groups()) <= 4
    assert _float_distance(_ddp_steps(data, [orders[0]] * epochs, 2, 8), repeated) == [
        int(v) for v in found.groups()
    ]

    # Threads: torchrun sets one per process; the kernel has one per core.
    assert "Setting OMP_NUM_THREADS environment variable for each process to be 1" in stdout
    assert "per rank (OMP_NUM_THREADS, torch threads): [['1', 1], ['1', 1]]" in stdout
    assert f"in this kernel, torch threads: {torch.get_num_threads()}" in stdout
    assert out["images"] == 1  # the timing figure (its numbers vary: not checked)

    # Exercises: shards by hand; four ranks by hand; the sum trap at W = 4; counting.
    padded_10 = [*range(10), 0, 1]
    shards = [padded_10[r::4] for r in range(4)]
    assert f"drop_last=False: shards {shards}; twice [0, 1]; left out []" in stdout
    shards = [list(range(8))[r::4] for r in range(4)]
    assert f"drop_last=True: shards {shards}; twice []; left out [8, 9]" in stdout
    four = _ddp_steps(data, orders, 4, 4)
    assert f"4 ranks by hand: 20 steps, w = {four[-1][0]:.6f}, b = {four[-1][1]:.6f}" in stdout
    apart = _float_distance(four, single)
    assert max(apart) <= 4
    assert f"against one process, batches of 16: (w, b) within {apart} ulp" in stdout
    four_sum = _ddp_steps(data, orders, 4, 4, lr=0.02, reduction="sum")
    apart = _float_distance(four_sum, sum_single)
    assert max(apart) <= 4
    assert f"lr = 0.02: against one process, (w, b) within {apart} ulp" in stdout
    n = 2**13
    assert (n, n // 64, n // 1024) == (8192, 128, 8)  # the prose: 128 all-reduces, only 8
    for batch_size in [64, 1024]:
        line = f"batch {batch_size}: {n // batch_size} all-reduces per epoch, {n // 2} samples"
        assert line in stdout


CHECKS = {
    "01": _check_gradient_descent,
    "02": _check_lesson,
    "03": _check_optimizers,
    "04": _check_loss_surface,
    "05": _check_minibatches,
    "06": _check_pitfalls,
    "07": _check_data_parallel,
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


class _CountingLoss(torch.nn.MSELoss):
    """The lesson's summed MSE, counting its calls: `linreg.train`'s closures included."""

    def __init__(self) -> None:
        super().__init__(reduction="sum")
        self.calls = 0

    def forward(self, y_pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if torch.is_grad_enabled():  # not the loss on all the data, recorded under no_grad
            self.calls += 1
        return super().forward(y_pred, y)


def _evaluations(name: str, epochs: int = 100, **settings: object) -> tuple[list[float], list[int]]:
    """A run's losses and, for each, the number of the loss evaluation that measured it.

    Tutorial 3's x-axis; `_check_optimizers` uses it too.
    """
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


def _per_evaluation(runs: dict[str, linreg.History], lang: str) -> matplotlib.figure.Figure:
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
