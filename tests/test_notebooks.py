"""Every tutorial executes in a real kernel, and its key numbers are the package's.

The notebooks run through the same code as the site build (`tools/notebooks.py`),
sharing its cache: a notebook is executed again whenever it, `linreg`, the matplotlib
style or the torch version changed. The numbers the pages show are checked here
against `linreg` and torch computed independently in this process. The figures the
pages show are re-encoded with a palette (`compact_png`); the tests here measure how
much smaller they get and how little their pixels change.
"""

from __future__ import annotations

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


def _check_loss_surface(out: dict[str, str]) -> None:
    x, _ = linreg.lesson_data()
    design = torch.cat([x, torch.ones(3, 1)], dim=1).double()
    eigenvalues = torch.linalg.eigvalsh(2 * design.T @ design)
    kappa = (eigenvalues[-1] / eigenvalues[0]).item()
    assert f": {kappa:.1f}" in out["stdout"]


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
