"""Benchmarks of tutorial 4's loss-surface explorer: its weight and its input-to-paint time.

Usage: python benchmarks/explorer.py [--presses N] [--json out.json]

Measures the built site (`make site`), served as benchmarks/site.py serves it (text
gzipped at level 6, as a static host does), in Debian's Chromium through Playwright.

1. Weight: what tutorial 4 transfers for the explorer (its script, stylesheet and data,
   everything under assets/explorer/) on a first visit read to the end, in each
   language (the data loads as the reader nears the explorer). Target: 60 KB.
   The other pages must transfer none of it (checked on every tutorial page).
2. Input to paint: the desktop profile (a 1350×940 window, no CPU or network throttling,
   as Lighthouse's desktop preset). For each control the keyboard changes it N times
   (arrow keys; Space for the checkbox; the optimizer's <select> is set by Playwright,
   which fires the same input event); the page records each `input` event's
   timestamp and the time of the first task after the next frame (a
   `requestAnimationFrame` callback, then a zero-delay message: the frame has been
   painted by then). Median and 95th percentile per control. Target: median < 16 ms.

The exit code is 0 even when a target is missed: the table says MISSED.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# benchmarks/site.py (by path: `site` is also a module of Python's own): the server, the
# browser and the byte counting that the site benchmark uses.
_spec = importlib.util.spec_from_file_location("site_benchmark", ROOT / "benchmarks" / "site.py")
assert _spec is not None
assert _spec.loader is not None
site_benchmark = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(site_benchmark)
KB, LANGUAGES, Visit = site_benchmark.KB, site_benchmark.LANGUAGES, site_benchmark.Visit
launch, serve = site_benchmark.launch, site_benchmark.serve
PAGE = "tutorials/04-loss-surface/"
WEIGHT_TARGET = 60 * KB
PAINT_TARGET_MS = 16.0
# (control, key): each press changes the control; the direction turns at the ends.
CONTROLS = (
    ("#lrx-lr", "ArrowRight"),
    ("#lrx-momentum", "ArrowRight"),
    ("#lrx-optimizer", ""),  # set by Playwright: keys on a <select> may open its list
    ('input[name="lrx-reduction"][value="sum"]', "ArrowRight"),
    ("#lrx-centred", "Space"),
    ("#lrx-epoch", "ArrowLeft"),
)
OPPOSITE = {"ArrowRight": "ArrowLeft", "ArrowLeft": "ArrowRight"}

# The controls' values (a key press at the end of a range changes nothing, and fires nothing).
STATE = """() => [...document.querySelectorAll("#lr-explorer select, #lr-explorer input")]
  .map((e) => e.type === "checkbox" || e.type === "radio" ? e.checked : e.value).join()"""
RECORDER = """() => {
  window.__paints = [];
  const root = document.getElementById("lr-explorer");
  root.addEventListener("input", (event) => {
    const began = event.timeStamp;
    requestAnimationFrame(() => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => window.__paints.push(performance.now() - began);
      channel.port2.postMessage(null);
    });
  }, true);
}"""


def weight(browser: Any, server: Any, base: str, site: Path) -> list[dict[str, Any]]:
    """The explorer's bytes on tutorial 4 (each language), and on every other tutorial."""
    rows = []
    for lang in LANGUAGES:
        for page in sorted((site / lang / "tutorials").glob("*/index.html")):
            path = f"{lang}/tutorials/{page.parent.name}/"
            visit = Visit(browser, server, base, site)
            visit.open(path)
            visit.read_to_end()  # the explorer's data loads as the reader nears it
            resources = [r for r in visit.take() if "assets/explorer/" in r["url"]]
            rows.append(
                {
                    "page": path,
                    "explorer_transferred": sum(r["transferred"] for r in resources),
                    "files": {r["url"].split("/")[-1]: r["transferred"] for r in resources},
                    "other_hosts": list(visit.outside),
                }
            )
            visit.close()
    return rows


def input_to_paint(browser: Any, base: str, lang: str, presses: int) -> dict[str, Any]:
    """Milliseconds from each control's input event to the next painted frame."""
    context = browser.new_context(viewport={"width": 1350, "height": 940})
    page = context.new_page()
    page.goto(f"{base}{lang}/{PAGE}", wait_until="networkidle")
    page.locator("#lr-explorer").scroll_into_view_if_needed()  # its data loads when near
    page.wait_for_selector('#lr-explorer[data-ready="true"]')
    page.evaluate(RECORDER)
    results: dict[str, Any] = {}
    for selector, key in CONTROLS:
        control = page.locator(selector)
        if selector == "#lrx-momentum":
            page.select_option("#lrx-optimizer", "SGD-momentum")
        control.focus()
        page.evaluate("window.__paints = []")
        for _ in range(presses):
            value = page.evaluate(STATE)
            if not key:
                options = ["SGD", "SGD-momentum", "Adam", "RMSprop"]
                now_value = control.input_value()
                control.select_option(options[(options.index(now_value) + 1) % len(options)])
                page.wait_for_timeout(60)
                continue
            page.keyboard.press(key)
            page.wait_for_timeout(60)
            now = page.evaluate(STATE)
            if now == value and key in OPPOSITE:  # at an end: turn round, and change it
                key = OPPOSITE[key]
                page.keyboard.press(key)
                page.wait_for_timeout(60)
        times = page.evaluate("window.__paints")
        results[selector] = {
            "events": len(times),
            "median_ms": round(statistics.median(times), 2) if times else None,
            "p95_ms": round(statistics.quantiles(times, n=20)[-1], 2) if len(times) > 1 else None,
        }
    context.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--presses", type=int, default=40, help="inputs per control")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results here")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    site = ROOT / "site"
    if not (site / "en" / PAGE / "index.html").exists():
        print("no built site: run `make site` first", file=sys.stderr)
        return 1
    server, base = serve(site)
    try:
        with sync_playwright() as playwright:
            browser = launch(playwright)
            weights = weight(browser, server, base, site)
            paints = {lang: input_to_paint(browser, base, lang, args.presses) for lang in LANGUAGES}
            browser.close()
    finally:
        server.shutdown()
        server.server_close()

    print("\nExplorer weight (transferred, gzip):")
    for row in weights:
        if PAGE in row["page"]:
            verdict = "PASS" if row["explorer_transferred"] <= WEIGHT_TARGET else "MISSED"
            files = ", ".join(f"{name} {size / KB:.1f} KB" for name, size in row["files"].items())
            print(
                f"  {row['page']:<32} {row['explorer_transferred'] / KB:6.1f} KB "
                f"(target {WEIGHT_TARGET // KB} KB) {verdict}: {files}"
            )
    elsewhere = [r["page"] for r in weights if PAGE not in r["page"] and r["explorer_transferred"]]
    print(f"  other tutorial pages loading it: {elsewhere or 'none'}")
    outside = sorted({url for r in weights for url in r["other_hosts"]})
    print(f"  requests to other hosts: {outside or 'none'}")
    print(f"\nInput to paint, desktop (median / p95 of {args.presses} inputs per control):")
    for lang, results in paints.items():
        for selector, row in results.items():
            median = row["median_ms"]
            verdict = "PASS" if median is not None and median < PAINT_TARGET_MS else "MISSED"
            print(
                f"  {lang} {selector:<45} {median} / {row['p95_ms']} ms "
                f"({row['events']} events) {verdict}"
            )
    if args.json:
        payload = {"weight": weights, "input_to_paint": paints}
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
