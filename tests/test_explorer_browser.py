"""The loss-surface explorer of tutorial 4, in headless Chromium: its controls, its numbers.

The explorer (docs/shared/assets/explorer/) draws runs that tools/explorer.py trained at
build; nothing is simulated in the browser. These tests drive it as a reader would
(mouse and keyboard) and check what it shows against torch itself: each number shown is
compared with a fresh `linreg.trajectory` run (real `torch.optim`), and the marker of the
bound with `linreg.hessian`. The site is served and shown the browser at its `site_url`
as in test_browser.py; a request to any other host is aborted and recorded.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import pytest
import torch
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from playwright.sync_api import Browser, Page, Route, sync_playwright

import linreg
from tools import explorer as data_build
from tools.browser import launch, serve

pytestmark = [pytest.mark.site, pytest.mark.browser]

PAGE = "tutorials/04-loss-surface/"
LANGUAGES = ("en", "zh")
LR = data_build.learning_rates()  # the grid the explorer's data was built on
MOMENTA = list(data_build.MOMENTA)
NUMBERS = ("w", "b", "loss", "yhat")
# axe-core: every impact counts, as in test_browser.py, but for Material's nameless
# code-block <nav>s (landmark-unique, not ours).
UPSTREAM_AXE = {"landmark-unique": '<nav class="md-code__nav">'}

# The explorer's state in one round trip.
_STATE = """() => {
  const text = id => document.getElementById(id).textContent;
  return {
    path: document.getElementById("lrx-path").getAttribute("d"),
    loss_line: document.getElementById("lrx-loss-line").getAttribute("d"),
    w: text("lrx-w"), b: text("lrx-b"), loss: text("lrx-loss"), yhat: text("lrx-yhat"),
    status: text("lrx-status"), live: text("lrx-live"), lr: text("lrx-lr-value"),
    momentum: text("lrx-momentum-value"), epoch: text("lrx-epoch-value"),
    optimizer: document.getElementById("lrx-optimizer").value,
    fraction: document.getElementById("lrx-bound").dataset.fraction,
    bound: text("lrx-bound"),
  };
}"""


class Explorer:
    """Chromium showing the built site at its `site_url`, through a local server."""

    def __init__(self, browser: Browser, base: str, local: str) -> None:
        self.browser, self.base, self.local = browser, base, local
        self.external: list[str] = []  # requests to other hosts (aborted)

    def _route(self, route: Route) -> None:
        url = route.request.url
        if not url.startswith(self.base):
            self.external.append(url)
            route.abort()
            return
        response = route.fetch(url=self.local + url[len(self.base) :], max_redirects=0)
        route.fulfill(response=response)

    @contextmanager
    def page(
        self,
        lang: str = "en",
        scheme: Literal["light", "dark"] = "light",
        javascript: bool = True,
    ) -> Iterator[tuple[Page, list[str]]]:
        """Tutorial 4 in a fresh context, its explorer ready; and its console errors."""
        context = self.browser.new_context(
            viewport={"width": 1280, "height": 900},
            color_scheme=scheme,
            java_script_enabled=javascript,
        )
        context.route("**/*", self._route)
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        try:
            page.goto(f"{self.base}{lang}/{PAGE}", wait_until="load")
            if javascript:
                # The data loads as the reader nears the explorer.
                page.locator("#lr-explorer").scroll_into_view_if_needed()
                page.wait_for_selector("#lr-explorer[data-ready='true']")
            yield page, errors
        finally:
            context.close()


@pytest.fixture(scope="module")
def explorer(site: Path) -> Iterator[Explorer]:
    sitemap = (site / "en" / "sitemap.xml").read_text("utf-8")
    home = next(u for u in re.findall(r"<loc>([^<]+)</loc>", sitemap) if u.endswith("/en/"))
    with serve(site) as local, sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            yield Explorer(browser, home.removesuffix("en/"), local)
        finally:
            browser.close()


def state(page: Page) -> dict[str, str]:
    result: dict[str, str] = page.evaluate(_STATE)
    return result


def choose(page: Page, optimizer: str = "SGD", lr: float = 0.01, **settings: object) -> None:
    """Set the controls as a reader would: select, fill ranges, click radios and boxes."""
    page.select_option("#lrx-optimizer", optimizer)
    page.fill("#lrx-lr", str(min(range(len(LR)), key=lambda i: abs(LR[i] - lr))))
    if "momentum" in settings:
        page.fill("#lrx-momentum", str(MOMENTA.index(float(settings["momentum"]))))  # type: ignore[arg-type]
    page.check(f"input[name='lrx-reduction'][value='{settings.get('reduction', 'sum')}']")
    page.set_checked("#lrx-centred", bool(settings.get("centred", False)))
    page.fill("#lrx-epoch", str(settings.get("epoch", 100)))


def lesson(centred: bool) -> tuple[torch.Tensor, torch.Tensor, tuple[float, float]]:
    """The lesson's data (x centred or not) and its initial (w, b)."""
    _, y, start = data_build.lesson()
    return data_build.inputs(centred), y, start


def shown(text: str) -> float:
    """A number as the explorer shows it: 1.75, -0.02, 1.9e-3."""
    return float(text.replace("−", "-").replace(",", ""))


def bound_fraction(centred: bool, reduction: str) -> float:
    """Where 2/λmax sits on the lr slider: log-interpolated between its learning rates."""
    x, _, _ = lesson(centred)
    bound = 2 / torch.linalg.eigvalsh(linreg.hessian(x, reduction))[-1].item()
    i = max(i for i in range(len(LR) - 1) if LR[i] <= bound)
    return (i + math.log(bound / LR[i]) / math.log(LR[i + 1] / LR[i])) / (len(LR) - 1)


def first_lr_above(centred: bool, reduction: str) -> tuple[float, float]:
    """The grid's learning rates just below and just above the bound 2/λmax."""
    x, _, _ = lesson(centred)
    bound = 2 / torch.linalg.eigvalsh(linreg.hessian(x, reduction))[-1].item()
    above = min(lr for lr in LR if lr > bound)
    return LR[LR.index(above) - 1], above


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_explorer_starts_in_the_page_language(explorer: Explorer, lang: str) -> None:
    with explorer.page(lang) as (page, errors):
        assert page.locator(".lr-explorer__nojs").count() == 0
        labels = page.locator("#lr-explorer label, #lr-explorer legend").all_inner_texts()
        values = state(page)
        source = page.locator(".lrx-source").inner_text()
    words = ("优化器", "学习率", "动量", "归约方式", "把 x 中心化", "轮数")
    if lang == "en":
        words = ("Optimizer", "Learning rate", "Momentum", "Reduction", "centre x", "Epoch")
    for word in words:
        assert any(word in label for label in labels), (word, labels)
    if lang == "zh":
        assert not any(english in " ".join(labels) for english in ("Optimizer", "Momentum"))
    # The lesson's settings: SGD, lr 0.01, sum, x as given, all 100 epochs.
    assert (values["optimizer"], values["lr"], values["epoch"]) == ("SGD", "0.01", "100")
    assert f"torch {torch.__version__.split('+')[0]}" in source
    assert errors == []


CHANGES = [
    ("optimizer", {"optimizer": "Adam"}),
    ("lr", {"lr": LR[3]}),
    ("momentum", {"optimizer": "SGD-momentum", "momentum": 0.5}),
    ("reduction", {"reduction": "mean"}),
    ("centred", {"centred": True}),
    ("epoch", {"epoch": 40}),
]


@pytest.mark.parametrize(("control", "change"), CHANGES, ids=[c for c, _ in CHANGES])
def test_each_control_changes_the_path_and_the_numbers(
    explorer: Explorer, control: str, change: dict[str, object]
) -> None:
    with explorer.page() as (page, errors):
        choose(page, epoch=60)
        before = state(page)
        choose(page, **{"epoch": 60, **change})  # type: ignore[arg-type]
        after = state(page)
    assert after["path"] != before["path"]
    assert [after[n] for n in NUMBERS] != [before[n] for n in NUMBERS]
    assert errors == []


# (optimizer, centred, reduction, epoch, hyperparameters): compared with linreg.trajectory.
RUNS = [
    ("SGD", False, "sum", 100, {"lr": 0.01}),
    ("SGD", False, "sum", 5, {"lr": 0.01}),
    ("SGD", False, "mean", 100, {"lr": LR[5], "momentum": 0.9}),
    ("Adam", True, "mean", 100, {"lr": 0.09}),
    ("RMSprop", False, "sum", 30, {"lr": LR[3]}),
]


@pytest.mark.parametrize(("optimizer", "centred", "reduction", "epoch", "hyperparameters"), RUNS)
def test_the_numbers_are_torchs(
    explorer: Explorer,
    optimizer: str,
    centred: bool,
    reduction: str,
    epoch: int,
    hyperparameters: dict[str, float],
) -> None:
    x, y, start = lesson(centred)
    points, history = linreg.trajectory(
        optimizer, x, y, start, epochs=100, reduction=reduction, **hyperparameters
    )
    w, b = points[epoch].tolist()
    loss = history.full_losses[epoch]
    name = "SGD-momentum" if hyperparameters.get("momentum") else optimizer
    with explorer.page() as (page, _):
        choose(page, name, centred=centred, reduction=reduction, epoch=epoch, **hyperparameters)
        values = state(page)
    assert shown(values["w"]) == pytest.approx(w, abs=0.01)
    assert shown(values["b"]) == pytest.approx(b, abs=0.01)
    # Stored to 0.37 %, shown to 2 significant digits: within 1 % and half the last digit.
    last_digit = 10 ** (math.floor(math.log10(abs(shown(values["loss"])))) - 1)
    assert abs(shown(values["loss"]) - loss) <= 0.01 * loss + last_digit / 2
    at = 4 - 2 if centred else 4  # centred, the model's input is x - x̄
    assert shown(values["yhat"]) == pytest.approx(w * at + b, abs=0.01)


def test_the_prediction_with_centred_x_is_at_x_4(explorer: Explorer) -> None:
    x, y, start = lesson(centred=True)
    points, _ = linreg.trajectory("Adam", x, y, start, epochs=100, reduction="mean", lr=0.09)
    w, b_centred = points[-1].tolist()
    with explorer.page() as (page, _):
        choose(page, "Adam", lr=0.09, centred=True, reduction="mean")
        yhat = shown(state(page)["yhat"])
    assert yhat == pytest.approx(w * (4 - 2) + b_centred, abs=0.01)  # x̄ = 2


SETTINGS = [(False, "sum"), (False, "mean"), (True, "sum"), (True, "mean")]


def test_the_bound_marker_is_at_2_over_lambda_max(explorer: Explorer) -> None:
    with explorer.page() as (page, _):
        fractions, labels = [], []
        for centred, reduction in SETTINGS:
            choose(page, centred=centred, reduction=reduction)
            fractions.append(float(state(page)["fraction"]))
            labels.append(state(page)["bound"])
            box = page.locator("#lrx-bound").bounding_box()
            track = page.locator("#lrx-lr").bounding_box()
            assert box
            assert track
            assert track["x"] <= box["x"]
            assert box["x"] + box["width"] <= track["x"] + track["width"]
    expected = [bound_fraction(centred, reduction) for centred, reduction in SETTINGS]
    assert fractions == pytest.approx(expected, abs=1e-3)
    assert fractions[0] != fractions[1], "the marker did not move with the reduction"
    assert labels[0] == "2/λmax = 0.060"


@pytest.mark.parametrize(("centred", "reduction"), SETTINGS)
def test_sgd_diverges_just_above_the_bound_only(
    explorer: Explorer, centred: bool, reduction: str
) -> None:
    below, above = first_lr_above(centred, reduction)
    with explorer.page() as (page, _):
        choose(page, lr=below, centred=centred, reduction=reduction)
        stable = state(page)
        choose(page, lr=above, centred=centred, reduction=reduction)
        diverged = state(page)
    assert "diverges" not in stable["status"].lower()
    assert re.fullmatch(r"Loss \S+ after 100 epochs \(\S+ at the start\)\.", stable["status"])
    assert re.match(r"Diverges: the loss passed 10⁴ at epoch \d+", diverged["status"])
    assert [diverged[n] for n in NUMBERS] == ["—"] * 4  # epoch 100: past the last stored


def test_divergence_shows_numbers_up_to_the_last_stored_epoch(explorer: Explorer) -> None:
    with explorer.page("zh") as (page, _):
        choose(page, lr=0.09)
        epoch = int(re.search(r"第 (\d+) 轮", state(page)["status"]).group(1))  # type: ignore[union-attr]
        choose(page, lr=0.09, epoch=epoch)
        last = state(page)
        choose(page, lr=0.09, epoch=epoch + 1)
        past = state(page)
    assert "发散" in last["status"]
    assert shown(last["loss"]) > 1e4
    assert past["w"] == past["loss"] == "—"


def test_every_control_works_from_the_keyboard(explorer: Explorer) -> None:
    with explorer.page() as (page, _):
        values = [state(page)]

        def press(selector: str, key: str) -> dict[str, str]:
            page.focus(selector)
            page.keyboard.press(key)
            values.append(state(page))
            return values[-1]

        assert press("#lrx-lr", "ArrowRight")["lr"] == "0.0173"
        assert press("#lrx-lr", "ArrowLeft")["lr"] == "0.01"
        assert press("#lrx-momentum", "ArrowRight")["momentum"] == "0.5"
        assert values[-1]["optimizer"] == "SGD-momentum"
        assert press("#lrx-momentum", "ArrowLeft")["optimizer"] == "SGD"
        assert press("#lrx-optimizer", "ArrowDown")["optimizer"] == "SGD-momentum"
        assert values[-1]["momentum"] == "0.9"
        press("#lrx-optimizer", "ArrowDown")  # Adam: its own defaults, no momentum shown
        assert values[-1]["momentum"] == "—"
        assert page.is_disabled("#lrx-momentum")
        press("#lrx-optimizer", "ArrowUp")
        assert values[-1]["momentum"] == "0.9"
        before = state(page)["path"]
        press("#lrx-centred", "Space")
        assert page.is_checked("#lrx-centred")
        assert values[-1]["path"] != before
        page.focus("input[name='lrx-reduction'][value='sum']")
        page.keyboard.press("ArrowRight")  # radios: the arrow moves and checks
        assert page.is_checked("input[name='lrx-reduction'][value='mean']")
        page.keyboard.press("Space")
        assert page.is_checked("input[name='lrx-reduction'][value='mean']")
        assert press("#lrx-epoch", "ArrowLeft")["epoch"] == "99"
        assert press("#lrx-epoch", "Home")["epoch"] == "0"
        press("#lrx-play", "Enter")
        assert page.locator("#lrx-play").inner_text() == "Pause"
        page.wait_for_function("+document.getElementById('lrx-epoch').value >= 5")
        page.keyboard.press("Space")
        assert page.locator("#lrx-play").inner_text() == "Play"
        paused = state(page)["epoch"]
        page.wait_for_timeout(200)
        assert state(page)["epoch"] == paused
        assert 5 <= int(paused) < 100


def test_the_live_region_announces_the_run_not_the_epochs(explorer: Explorer) -> None:
    with explorer.page() as (page, _):
        live = page.locator("#lrx-live")
        assert live.get_attribute("aria-live") == "polite"
        page.fill("#lrx-lr", "3")
        page.wait_for_function("document.getElementById('lrx-live').textContent !== ''")
        announced = live.inner_text()
        assert "0.0173" in announced
        assert state(page)["status"] in announced
        for epoch in (10, 20, 30):
            page.fill("#lrx-epoch", str(epoch))
        page.wait_for_timeout(500)
        assert live.inner_text() == announced


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_nothing_with_the_explorer(
    explorer: Explorer, lang: str, scheme: Literal["light", "dark"]
) -> None:
    with explorer.page(lang, scheme) as (page, _):
        choose(page, "SGD-momentum", lr=LR[4], momentum=0.9, epoch=50)
        page.locator("#lr-explorer").scroll_into_view_if_needed()
        violations = Axe().run(page).response["violations"]
    found = [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes'][:3]]}"
        for v in violations
        if any(UPSTREAM_AXE.get(v["id"], "\0") not in n["html"] for n in v["nodes"])
    ]
    assert found == []


def test_no_request_leaves_the_site(explorer: Explorer) -> None:
    explorer.external.clear()
    with explorer.page("zh") as (page, errors):
        choose(page, "RMSprop", lr=0.27, reduction="mean", centred=True, epoch=7)
        page.locator("#lrx-play").click()
        page.wait_for_timeout(300)
    assert explorer.external == []
    assert errors == []


def test_without_javascript_the_fallback_and_the_figures_show(explorer: Explorer) -> None:
    with explorer.page(javascript=False) as (page, _):
        fallback = page.locator(".lr-explorer__nojs")
        assert fallback.is_visible()
        assert "JavaScript" in fallback.inner_text()
        assert page.locator("#lr-explorer input, #lr-explorer select").count() == 0
        assert page.locator("article img.nb-figure").count() >= 5
