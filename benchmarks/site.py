"""Benchmarks of the site: the weight of every page, and the time of a clean build.

Usage: python benchmarks/site.py [--skip-build] [--scratch] [--json out.json]

1. Clean build: `rm -rf .cache site`, then `python -m tools.build_site`, timed (every
   tutorial executed, both languages). Target: 45 s. With --scratch the clean build runs
   in a temporary copy of the sources instead, leaving this tree's site/ and .cache/
   (which other builds and test runs share) alone. --skip-build skips it and measures
   the site/ that is there.
2. Page weight, measured in Chromium: each page of both languages is loaded in a fresh
   browser context (empty cache) from a local server, and the bodies of every response
   the browser receives until the network is idle are added up: the HTML, CSS, scripts,
   fonts, images, the sitemaps of the language switcher (and the search index, were a
   page to load it). The local server does not compress, so these are uncompressed
   sizes. Target: 400 KB per page (1 KB = 1024 bytes).
3. The first search: the search index and the search worker load when the reader first
   goes to the search box (docs/shared/assets/js/search.js), not with the page. What a
   query typed on each language's home page downloads is reported, once per visit.

The exit code is 0 even when a target is missed: the table says MISSED.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tools.browser import launch, serve

ROOT = Path(__file__).resolve().parents[1]

KB = 1024
PAGE_TARGET = 400 * KB
BUILD_TARGET = 45.0
LANGUAGES = ("en", "zh")
# What a clean build needs from the tree (the rest: .venv, caches, tests, ...).
SOURCES = ["docs", "linreg", "tools", "mkdocs.yml", "mkdocs.zh.yml", "pyproject.toml"]


def progress(message: str) -> None:
    print(f"  .. {message}", file=sys.stderr, flush=True)


def clean_build(root: Path) -> dict[str, Any]:
    """Remove .cache/ and site/ under `root`, then time tools/build_site.py there."""
    shutil.rmtree(root / ".cache", ignore_errors=True)
    shutil.rmtree(root / "site", ignore_errors=True)
    load = os.getloadavg()[0]
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "tools.build_site"],
        cwd=root,  # the sources of `root`, tools included, come first on sys.path
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        print(result.stdout[-3000:], result.stderr[-3000:], sep="\n", file=sys.stderr)
    return {
        "seconds": round(seconds, 1),
        "target_seconds": BUILD_TARGET,
        "passed": result.returncode == 0 and seconds <= BUILD_TARGET,
        "returncode": result.returncode,
        "where": "scratch copy" if root != ROOT else "this tree",
        "load_average_start": round(load, 2),
        "load_average_end": round(os.getloadavg()[0], 2),
    }


def pages(site: Path) -> list[str]:
    """Every page of both languages, as site paths: en/, en/tutorials/, ..."""
    found = []
    for lang in LANGUAGES:
        for index in (site / lang).rglob("index.html"):
            found.append(f"{index.parent.relative_to(site).as_posix()}/")
    return sorted(found)


def _load(browser: Any, base: str, path: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Load one page in a fresh context; return what it downloaded, and any other host."""
    from playwright.sync_api import Error, Response, Route

    context = browser.new_context(viewport={"width": 1280, "height": 800})
    outside: list[str] = []
    responses: list[Response] = []

    def handle(route: Route) -> None:
        if route.request.url.startswith(base):
            route.continue_()
        else:  # nothing may come from another host: count it, do not fetch it
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", handle)
    context.on("response", lambda response: responses.append(response))  # pages and workers
    page = context.new_page()
    page.goto(base + path, wait_until="networkidle")
    resources = []
    for response in responses:
        try:
            size = len(response.body())
        except Error:  # a redirect has no body
            size = 0
        resources.append(
            {
                "url": response.url.removeprefix(base),
                "type": response.request.resource_type,
                "status": response.status,
                "bytes": size,
            }
        )
    context.close()
    return resources, outside


def _first_search(browser: Any, base: str, lang: str) -> dict[str, Any]:
    """What the first search on a language's home page downloads, after the page."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    responses: list[Any] = []
    page = context.new_page()
    page.goto(f"{base}{lang}/", wait_until="networkidle")
    context.on("response", lambda response: responses.append(response))
    page.locator("input.md-search__input").fill("SGD")
    page.keyboard.press("End")
    page.locator(".md-search-result__item").first.wait_for()
    page.wait_for_load_state("networkidle")
    files = {r.url.removeprefix(base): len(r.body()) for r in responses}
    context.close()
    return {"language": lang, "bytes": sum(files.values()), "files": files}


def first_search(site: Path) -> list[dict[str, Any]]:
    """The first search's download in each language."""
    from playwright.sync_api import sync_playwright

    with serve(site) as base, sync_playwright() as playwright:
        browser = launch(playwright)
        found = [_first_search(browser, base, lang) for lang in LANGUAGES]
        browser.close()
    return found


def page_weight(site: Path) -> list[dict[str, Any]]:
    """Load every page in Chromium with an empty cache; return what each one downloaded."""
    from playwright.sync_api import sync_playwright

    rows = []
    with serve(site) as base, sync_playwright() as playwright:
        browser = launch(playwright)
        for path in pages(site):
            resources, outside = _load(browser, base, path)
            total = sum(r["bytes"] for r in resources)
            rows.append(
                {
                    "page": path,
                    "requests": len(resources),
                    "html_bytes": sum(r["bytes"] for r in resources if r["url"] == path),
                    "total_bytes": total,
                    "passed": total <= PAGE_TARGET,
                    "other_hosts": outside,
                    "failed": [r["url"] for r in resources if r["status"] >= 400],
                    "resources": resources,
                }
            )
            progress(f"{path}: {total / KB:.0f} KB")
        browser.close()
    return rows


def print_report(
    info: dict[str, Any],
    rows: list[dict[str, Any]],
    build: dict | None,
    searches: list[dict[str, Any]],
) -> None:
    print(f"site benchmarks, {info['date']}")
    print(
        f"{info['machine']}, {info['cpus']} CPUs, Python {info['python']}, "
        f"load average {info['load_average_start']} at start, {info['load_average_end']} at end"
    )
    print()
    verdict = {True: "PASS", False: "MISSED"}
    heaviest = max(rows, key=lambda r: r["total_bytes"])
    total = sum(r["total_bytes"] for r in rows)
    print(f"| {'benchmark':<46} | {'measured':>12} | {'target':>10} | result |")
    print(f"|{'-' * 48}|{'-' * 14}|{'-' * 12}|--------|")
    print(
        f"| {'heaviest page (' + heaviest['page'] + ')':<46} | "
        f"{heaviest['total_bytes'] / KB:>9.1f} KB | {'≤ 400 KB':>10} | "
        f"{verdict[heaviest['passed']]:<6} |"
    )
    missed = sum(not r["passed"] for r in rows)
    print(
        f"| {'pages over 400 KB':<46} | {f'{missed} of {len(rows)}':>12} | {'0':>10} | "
        f"{verdict[missed == 0]:<6} |"
    )
    print(f"| {'all pages together':<46} | {total / KB:>9.1f} KB | {'':>10} |        |")
    if build is not None:
        print(
            f"| {'clean build (' + build['where'] + ')':<46} | {build['seconds']:>10.1f} s | "
            f"{'≤ 45 s':>10} | {verdict[build['passed']]:<6} |"
        )
    print()
    print(f"| {'page':<36} | requests | HTML KB | total KB | result |")
    print(f"|{'-' * 38}|----------|---------|----------|--------|")
    for row in rows:
        print(
            f"| {row['page']:<36} | {row['requests']:>8} | {row['html_bytes'] / KB:>7.1f} | "
            f"{row['total_bytes'] / KB:>8.1f} | {verdict[row['passed']]:<6} |"
        )
    by_type: Counter[str] = Counter()
    for row in rows:
        for resource in row["resources"]:
            by_type[resource["type"]] += resource["bytes"]
    print()
    print(
        "all pages together, by kind: "
        + ", ".join(f"{kind} {size / KB:.0f} KB" for kind, size in by_type.most_common())
    )
    sizes = {
        r["url"]: r["bytes"] for row in rows for r in row["resources"] if r["url"] != row["page"]
    }
    top = sorted(sizes.items(), key=lambda item: -item[1])[:8]
    print("largest resources: " + ", ".join(f"{url} {size / KB:.0f} KB" for url, size in top))
    for search in searches:
        files = ", ".join(f"{url} {size / KB:.0f} KB" for url, size in search["files"].items())
        print(
            f"first search ({search['language']}): {search['bytes'] / KB:.0f} KB more, "
            f"once per visit: {files}"
        )
    problems = [(r["page"], r["other_hosts"] + r["failed"]) for r in rows]
    for page, urls in problems:
        if urls:
            print(f"WARNING {page}: failed or other-host requests: {urls}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--skip-build", action="store_true", help="measure the existing site/")
    parser.add_argument(
        "--scratch",
        action="store_true",
        help="build in a temporary copy of the sources, not in this tree",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results here")
    args = parser.parse_args(argv)
    info: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_average_start": round(os.getloadavg()[0], 2),
    }
    build = None
    with tempfile.TemporaryDirectory(prefix="site-bench-") as scratch:
        root = ROOT
        if args.scratch and not args.skip_build:
            root = Path(scratch)
            for name in SOURCES:
                source = ROOT / name
                if source.is_dir():
                    shutil.copytree(
                        source, root / name, ignore=shutil.ignore_patterns("__pycache__")
                    )
                else:
                    shutil.copy2(source, root / name)
        if not args.skip_build:
            progress(f"clean build in {root} ...")
            build = clean_build(root)
            progress(f"built in {build['seconds']} s")
        site = root / "site"
        if not (site / "en" / "index.html").exists():
            print(f"no built site in {site}: run `make site` first", file=sys.stderr)
            return 1
        progress("page weight ...")
        rows = page_weight(site)
        progress("first search ...")
        searches = first_search(site)
    info["load_average_end"] = round(os.getloadavg()[0], 2)
    print_report(info, rows, build, searches)
    if args.json:
        payload = {
            **info,
            "build": build,
            "page_weight": {
                "unit": "bytes",
                "target_bytes": PAGE_TARGET,
                "total_bytes": sum(r["total_bytes"] for r in rows),
                "pages": rows,
            },
            "first_search": searches,
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
