"""Plots: what is drawn equals the data, files are reproducible and all-or-nothing."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import torch
from matplotlib.figure import Figure

import linreg
from linreg.plot import plot_comparison, plot_fit, plot_loss, save_figure

MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF-"}


@pytest.fixture(scope="module")
def runs() -> dict[str, linreg.History]:
    """Real training runs: SGD's losses fall slowly, Adam's and Rprop's differently."""
    return linreg.compare(["SGD", "Adam", "Rprop"], *linreg.lesson_data(), epochs=25)


def trained_model() -> linreg.LinearModel:
    x, y = linreg.lesson_data()
    torch.manual_seed(1)
    model = linreg.LinearModel()
    optimizer = linreg.make_optimizer("SGD", model.parameters(), lr=0.01)
    linreg.train(model, x, y, linreg.make_criterion("sum"), optimizer, epochs=20)
    return model


def visible_axes(fig: Figure) -> list:
    return [ax for ax in fig.axes if ax.get_visible()]


def legend_texts(fig: Figure) -> list[str]:
    """The entries of the figure's legend, whether it sits in an axes or on the figure."""
    legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes)]
    return [text.get_text() for legend in legends if legend for text in legend.get_texts()]


def assert_valid(path: Path, fmt: str) -> None:
    data = path.read_bytes()
    if fmt == "svg":
        assert ET.fromstring(data).tag == "{http://www.w3.org/2000/svg}svg"
    else:
        assert data.startswith(MAGIC[fmt])


# --------------------------------------------------------------------------- plot_loss


def test_plot_loss_draws_the_losses(runs: dict[str, linreg.History]) -> None:
    history = runs["SGD"]
    for run in (history, history.losses, tuple(history.losses)):
        fig = plot_loss(run)
        assert isinstance(fig, Figure)
        (ax,) = fig.axes
        (line,) = ax.lines
        assert list(line.get_ydata()) == history.losses
        assert list(line.get_xdata()) == list(range(len(history.losses)))
        assert ax.get_yscale() == "linear"
        assert ax.get_xlabel() == "epoch"
        assert ax.get_ylabel() == "loss"
        assert ax.get_title() == ""


def test_plot_loss_log_scale(runs: dict[str, linreg.History]) -> None:
    ax = plot_loss(runs["Adam"], log=True).axes[0]
    assert ax.get_yscale() == "log"
    assert list(ax.lines[0].get_ydata()) == runs["Adam"].losses


def test_plot_loss_labels_and_title() -> None:
    fig = plot_loss([3.0, 2.0, 1.5], xlabel="轮（epoch）", ylabel="损失", title="SGD 学习率 0.01")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "轮（epoch）"
    assert ax.get_ylabel() == "损失"
    assert ax.get_title() == "SGD 学习率 0.01"


@pytest.mark.parametrize("empty", [[], (), linreg.History()])
def test_plot_loss_without_losses(empty: object) -> None:
    with pytest.raises(linreg.LinregError, match="no losses"):
        plot_loss(empty)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- plot_comparison


def test_grid_has_one_visible_axes_per_run(runs: dict[str, linreg.History]) -> None:
    fig = plot_comparison(runs)
    assert isinstance(fig, Figure)
    axes = visible_axes(fig)
    assert len(axes) == len(runs)
    assert [ax.get_title() for ax in axes] == list(runs)
    for ax, run in zip(axes, runs.values(), strict=True):
        (line,) = ax.lines
        assert list(line.get_ydata()) == run.losses
        assert ax.get_yscale() == "linear"


def test_grid_hides_the_unused_cells(runs: dict[str, linreg.History]) -> None:
    five = {f"{name}{i}": run for i in range(2) for name, run in runs.items()}
    five.pop("Rprop1")
    fig = plot_comparison(five, columns=2)
    assert len(visible_axes(fig)) == 5
    assert len(fig.axes) == 6  # 3 rows of 2, the last cell hidden
    fig = plot_comparison(five, columns=10)  # never more columns than runs
    assert len(fig.axes) == 5


def test_overlay_draws_every_run_on_one_log_axes(runs: dict[str, linreg.History]) -> None:
    fig = plot_comparison(runs, kind="overlay")
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert ax.get_yscale() == "log"
    assert [line.get_label() for line in ax.lines] == list(runs)
    for line, run in zip(ax.lines, runs.values(), strict=True):
        assert list(line.get_ydata()) == run.losses  # positive losses are drawn unchanged
    assert legend_texts(fig) == list(runs)


def test_log_can_be_chosen_for_either_kind(runs: dict[str, linreg.History]) -> None:
    assert plot_comparison(runs, kind="overlay", log=False).axes[0].get_yscale() == "linear"
    grid = plot_comparison(runs, kind="grid", log=True)
    assert {ax.get_yscale() for ax in visible_axes(grid)} == {"log"}


def test_overlay_of_zero_losses_stays_linear() -> None:
    ax = plot_comparison({"exact": [0.0, 0.0, 0.0]}, kind="overlay").axes[0]
    assert ax.get_yscale() == "linear"
    assert list(ax.lines[0].get_ydata()) == [0.0, 0.0, 0.0]


def test_comparison_labels(runs: dict[str, linreg.History]) -> None:
    for kind in ("grid", "overlay"):
        fig = plot_comparison(runs, kind=kind, xlabel="轮（epoch）", ylabel="损失")
        for ax in visible_axes(fig):
            assert ax.get_xlabel() == "轮（epoch）"
            assert ax.get_ylabel() == "损失"


def test_comparison_accepts_plain_lists() -> None:
    fig = plot_comparison({"a": [4.0, 1.0], "b": (9.0, 3.0, 1.0)})
    assert [list(ax.lines[0].get_ydata()) for ax in visible_axes(fig)] == [
        [4.0, 1.0],
        [9.0, 3.0, 1.0],
    ]


def test_comparison_errors(runs: dict[str, linreg.History]) -> None:
    with pytest.raises(linreg.LinregError, match="no runs"):
        plot_comparison({})
    with pytest.raises(linreg.LinregError, match="'Adam'"):
        plot_comparison({"SGD": [1.0], "Adam": []})
    with pytest.raises(linreg.LinregError, match="'bars'"):
        plot_comparison(runs, kind="bars")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- plot_fit


def test_plot_fit_line_passes_through_the_predictions() -> None:
    x, y = linreg.lesson_data()
    model = trained_model()
    fig = plot_fit(x, y, model, xlabel="x 值", ylabel="y 值", title="拟合")
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    (line,) = ax.lines
    xs = torch.tensor(line.get_xdata(), dtype=torch.float32).reshape(-1, 1)
    expected = linreg.predict(model, xs).flatten().tolist()
    assert list(line.get_ydata()) == pytest.approx(expected, rel=1e-6, abs=1e-6)
    assert min(line.get_xdata()) < float(x.min())  # the line extends past the data
    assert max(line.get_xdata()) > float(x.max())
    (points,) = ax.collections
    assert points.get_offsets().tolist() == torch.cat([x, y], dim=1).tolist()
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("x 值", "y 值", "拟合")


def test_plot_fit_with_a_single_point() -> None:
    x, y = torch.tensor([[2.0]]), torch.tensor([[3.0]])
    line = plot_fit(x, y, trained_model()).axes[0].lines[0]
    assert min(line.get_xdata()) < 2.0 < max(line.get_xdata())


def test_plot_fit_errors() -> None:
    x2, y2 = linreg.synthetic_data([2.0, -3.4], 4.2, n=10)
    model2 = linreg.LinearModel(2, 1)
    with pytest.raises(linreg.LinregError, match="one feature"):
        plot_fit(x2, y2, model2)
    x, y = linreg.lesson_data()
    with pytest.raises(linreg.LinregError, match=r"reshape\(-1, 1\)"):
        plot_fit(x, y.flatten(), trained_model())


# --------------------------------------------------------------------------- save_figure


def build(kind: str) -> Figure:
    """A figure from fixed inputs; two calls build two separate, equal figures."""
    if kind == "loss":
        return plot_loss([44.4, 0.5, 0.45, 0.39], title="SGD")
    if kind == "grid":
        return plot_comparison({"SGD": [3.0, 2.0, 1.0], "Adam": [3.0, 1.0, 0.1]})
    return plot_comparison({"SGD": [3.0, 2.0, 1.0], "Adam": [3.0, 1.0, 0.1]}, kind="overlay")


@pytest.mark.parametrize(
    ("kind", "fmt"),
    [
        ("loss", "png"),
        ("loss", "svg"),
        ("loss", "pdf"),
        ("grid", "png"),
        ("grid", "svg"),
        ("overlay", "svg"),
        ("overlay", "pdf"),
    ],
)
def test_save_figure_is_byte_identical(tmp_path: Path, fmt: str, kind: str) -> None:
    fig = build(kind)
    first = save_figure(fig, tmp_path / f"first.{fmt}")
    assert first == tmp_path / f"first.{fmt}"
    save_figure(fig, str(tmp_path / f"again.{fmt}"))  # a str path works too
    save_figure(build(kind), tmp_path / f"rebuilt.{fmt}")
    assert_valid(first, fmt)
    data = first.read_bytes()
    assert data == (tmp_path / f"again.{fmt}").read_bytes()
    assert data == (tmp_path / f"rebuilt.{fmt}").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"{name}.{fmt}" for name in ("first", "again", "rebuilt")
    )


def test_different_figures_give_different_files(tmp_path: Path) -> None:
    save_figure(plot_loss([3.0, 2.0, 1.0]), tmp_path / "a.png")
    save_figure(plot_loss([3.0, 2.0, 0.5]), tmp_path / "b.png")
    assert (tmp_path / "a.png").read_bytes() != (tmp_path / "b.png").read_bytes()


def test_save_figure_replaces_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "loss.svg"
    target.write_text("old", encoding="utf-8")
    save_figure(build("loss"), target)
    assert_valid(target, "svg")
    assert [p.name for p in tmp_path.iterdir()] == ["loss.svg"]


def test_save_figure_suffix_in_capitals(tmp_path: Path) -> None:
    save_figure(build("loss"), tmp_path / "LOSS.PNG")
    assert_valid(tmp_path / "LOSS.PNG", "png")


@pytest.mark.parametrize("name", ["loss.jpg", "loss", "loss.png.bak", "loss.eps"])
def test_save_figure_unknown_suffix(tmp_path: Path, name: str) -> None:
    with pytest.raises(linreg.LinregError, match=r"\.png, \.svg or \.pdf"):
        save_figure(build("loss"), tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_save_figure_missing_folder(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "loss.png"
    with pytest.raises(linreg.LinregError, match="does not exist"):
        save_figure(build("loss"), target)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("error", [RuntimeError("disk full"), KeyboardInterrupt()])
def test_a_failing_savefig_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: BaseException
) -> None:
    def broken_savefig(self: Figure, fname: object, **kwargs: object) -> None:
        assert hasattr(fname, "write")  # a file object, into the temporary file
        fname.write(b"\x89PNG half a figure")  # type: ignore[union-attr]
        fname.flush()  # type: ignore[union-attr]
        assert len(list(tmp_path.iterdir())) >= 1  # the bytes really reached the disk
        raise error

    fig = build("loss")
    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    with pytest.raises(type(error)):
        save_figure(fig, tmp_path / "loss.png")
    assert list(tmp_path.iterdir()) == []

    previous = tmp_path / "kept.pdf"
    previous.write_bytes(b"an earlier figure")
    with pytest.raises(type(error)):
        save_figure(fig, previous)
    assert previous.read_bytes() == b"an earlier figure"
    assert list(tmp_path.iterdir()) == [previous]


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o002])
def test_saved_file_has_the_usual_permissions(tmp_path: Path, umask: int) -> None:
    previous = os.umask(umask)
    try:
        plain = tmp_path / "plain.txt"
        plain.write_text("made by open()", encoding="utf-8")
        saved = save_figure(build("loss"), tmp_path / "loss.png")
    finally:
        os.umask(previous)
    mode = stat.S_IMODE(saved.stat().st_mode)
    assert mode == 0o666 & ~umask
    assert mode == stat.S_IMODE(plain.stat().st_mode)  # as any new file
    assert mode != 0o600


# --------------------------------------------------------------------------- no pyplot


@pytest.mark.slow  # fresh Python processes
def test_pyplot_is_never_imported(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import json, sys
        import linreg
        before = "matplotlib" in sys.modules
        x, y = linreg.lesson_data()
        runs = linreg.compare(["SGD", "Adam"], x, y, epochs=3)
        model = linreg.LinearModel()
        figures = [
            linreg.plot_loss(runs["SGD"]),
            linreg.plot_comparison(runs),
            linreg.plot_comparison(runs, kind="overlay"),
            linreg.plot_fit(x, y, model),
        ]
        for i, (fig, fmt) in enumerate(zip(figures, ["png", "svg", "pdf", "png"])):
            linreg.save_figure(fig, f"fig{i}.{fmt}")
        print(json.dumps({
            "before": before,
            "matplotlib": "matplotlib" in sys.modules,
            "pyplot": "matplotlib.pyplot" in sys.modules,
        }))
        """
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert json.loads(done.stdout) == {"before": False, "matplotlib": True, "pyplot": False}
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "fig0.png",
        "fig1.svg",
        "fig2.pdf",
        "fig3.png",
    ]


def test_xlog_draws_the_ith_value_at_i_plus_one_on_a_log_axis() -> None:
    runs = {"long": [4.0, 3.0, 2.0, 1.0], "short": [4.0, 2.0]}
    fig = linreg.plot_comparison(runs, kind="overlay", xlog=True)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    assert [list(line.get_xdata()) for line in ax.lines] == [[1, 2, 3, 4], [1, 2]]
    single = linreg.plot_loss([3.0, 2.0, 1.0], xlog=True).axes[0]
    assert single.get_xscale() == "log"
    assert list(single.lines[0].get_xdata()) == [1, 2, 3]
    assert linreg.plot_loss([3.0, 2.0]).axes[0].get_xscale() == "linear"


@pytest.mark.parametrize("kind", ["grid", "overlay"])
def test_x_values_place_each_loss(kind: str) -> None:
    # LBFGS measures its second loss at evaluation 8: x_values say where each loss goes
    runs = {"SGD": [4.0, 2.0, 1.0], "LBFGS": [4.0, 1e-9, 1e-9]}
    at = {"SGD": [1, 2, 3], "LBFGS": (1, 8, 9)}
    fig = plot_comparison(runs, kind=kind, x_values=at, xlog=True, xlabel="evaluations")
    lines = [line for ax in fig.axes for line in ax.lines]
    assert [list(line.get_xdata()) for line in lines] == [[1, 2, 3], [1, 8, 9]]
    assert [list(line.get_ydata()) for line in lines] == list(map(list, runs.values()))
    assert {ax.get_xlabel() for ax in visible_axes(fig)} == {"evaluations"}
    assert {ax.get_xscale() for ax in visible_axes(fig)} == {"log"}


def test_x_values_on_a_linear_axis_may_start_at_zero(runs: dict[str, linreg.History]) -> None:
    at = {name: [2 * i for i in range(len(run.losses))] for name, run in runs.items()}
    fig = plot_comparison(runs, kind="overlay", x_values=at, xlabel="half-epochs")
    assert [list(line.get_xdata()) for line in fig.axes[0].lines] == list(at.values())


@pytest.mark.parametrize(
    ("x_values", "xlabel", "xlog", "message"),
    [
        ({"a": [1, 2]}, None, False, r"x_values need an xlabel"),
        ({"b": [1, 2]}, "n", False, r"x_values has no entry for the run 'a'"),
        ({"a": [1, 2, 3]}, "n", False, r"x_values\['a'\] has 3 value\(s\) for 2 loss\(es\)"),
        ({"a": [0, 1]}, "n", True, r"x_values\['a'\] must be > 0 on a log x-axis"),
    ],
)
def test_x_values_errors(
    x_values: dict[str, list[int]], xlabel: str | None, xlog: bool, message: str
) -> None:
    with pytest.raises(linreg.LinregError, match=message):
        plot_comparison({"a": [2.0, 1.0]}, x_values=x_values, xlabel=xlabel, xlog=xlog)


# --------------------------------------------------------------------------- languages


def _texts(fig: Figure) -> set[str]:
    texts = set()
    for ax in fig.axes:
        texts |= {ax.get_xlabel(), ax.get_ylabel()}
        legend = ax.get_legend()
        if legend is not None:
            texts |= {t.get_text() for t in legend.get_texts()}
    return texts - {""}


def test_lang_picks_the_default_labels(runs: dict[str, linreg.History]) -> None:
    x, y = linreg.lesson_data()
    model = linreg.LinearModel()
    figures = {
        lang: [
            plot_loss(runs["SGD"], lang=lang),
            plot_loss(runs["SGD"], per="update", lang=lang),
            plot_comparison(runs, lang=lang),
            plot_fit(x, y, model, lang=lang),
        ]
        for lang in ("en", "zh")
    }
    english = set().union(*map(_texts, figures["en"]))
    chinese = set().union(*map(_texts, figures["zh"]))
    assert {"epoch", "update (step)", "loss", "data", "fitted line"} <= english
    assert {"轮（epoch）", "更新次数（step）", "损失", "数据", "拟合直线"} <= chinese
    assert english & chinese == {"x", "y"}  # plot_fit's own axis labels, given as arguments


def test_labels_given_win_over_the_language(runs: dict[str, linreg.History]) -> None:
    fig = plot_loss(runs["SGD"], xlabel="第几轮", ylabel="误差", lang="en")
    assert _texts(fig) == {"第几轮", "误差"}


@pytest.mark.parametrize("plot", [plot_loss, plot_comparison])
def test_unknown_lang_is_refused(runs: dict[str, linreg.History], plot: object) -> None:
    run = runs["SGD"] if plot is plot_loss else runs
    with pytest.raises(linreg.LinregError, match=r"unknown lang='fr': choose 'en' or 'zh'"):
        plot(run, lang="fr")  # type: ignore[operator]
