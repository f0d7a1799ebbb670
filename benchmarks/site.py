"""Benchmarks of the site: what a reader downloads, Lighthouse's scores, a clean build.

Usage: python benchmarks/site.py [--skip-build] [--scratch] [--no-lighthouse] [--json out.json]

Every page is served as a static host serves it (`GzipHandler`: the text types gzipped at
level 6, PNG and WOFF2 as they are, `Cache-Control: max-age=600` as GitHub Pages sends),
from a local server at the address the site was built for (SITE_URL, 127.0.0.1:8000 by
default; `make bench-site PORT=8123` builds and measures it on another port).

1. Transferred bytes: the pages are loaded in Chromium, which decides what to fetch and
   what to take from its cache; the bytes are counted where they leave the server: status
   line, headers and (compressed) body of each response. (Chromium's own count, CDP's
   `encodedDataLength`, which Playwright's `request.sizes()` reports, agrees for every
   request of a page, but counts only the headers of the search worker's script.) Counted
   until the network is idle: the HTML, CSS, scripts, fonts, images, the sitemaps of the
   language switcher.
   - First visit: each page of both languages in a fresh browser context (empty cache).
     Target: 160 KB. A tutorial's figures load lazily (as the reader nears them), so a
     first visit counts those Chromium fetches before the reader scrolls; then every
     lazy figure is loaded too, and the page "read to the end" is reported (no target).
   - Further page of the same visit: the language's home page first (for the home page
     itself, the tutorials index), then the page, in the same context; what the page
     transferred. Target: 90 KB.
   1 KB = 1024 bytes. The uncompressed sizes of the first visits are printed as well
   (not judged). No other host resolves; a request to one is listed as a warning.
2. The first search: the search index and worker load when the reader first goes to the
   search box (docs/shared/assets/js/search.js). What a query typed on each language's
   home page transfers is reported, once per visit (no target).
3. Lighthouse 12.2.3 (npm, pinned in benchmarks/package-lock.json: `npm ci --prefix
   benchmarks`), with Debian's Chromium, desktop and mobile, 3 runs each, medians, on each
   language's home page, the lesson tutorial and the language's heaviest page (first visit).
   Targets: performance ≥ 95 on desktop and ≥ 85 on mobile, accessibility, best practices
   and SEO 100. --no-lighthouse skips it (about 15 minutes on two busy cores).
4. Clean build: `rm -rf .cache site`, then `python -m tools.build_site`, timed (every
   tutorial executed, both languages). Target: 45 s. With --scratch the clean build runs
   in a temporary copy of the sources instead, leaving this tree's site/ and .cache/
   (which other builds and test runs share) alone. --skip-build skips it and measures
   the site/ that is there.

The exit code is 0 even when a target is missed: the table says MISSED.
"""

from __future__ import annotations

import argparse
import datetime
import email.utils
import functools
import gzip
import http.server
import io
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

from tools.browser import CHROMIUM, QuietHandler, start_server
from tools.browser import launch as launch_chromium

ROOT = Path(__file__).resolve().parents[1]

KB = 1024
FIRST_VISIT_TARGET = 160 * KB
FURTHER_PAGE_TARGET = 90 * KB
BUILD_TARGET = 45.0
LANGUAGES = ("en", "zh")
# What a clean build needs from the tree (the rest: .venv, caches, tests, ...).
SOURCES = ["docs", "linreg", "tools", "mkdocs.yml", "mkdocs.zh.yml", "pyproject.toml"]

# What GitHub Pages compresses; everything else (PNG, WOFF2, .ipynb downloads) goes as it is.
GZIP_TYPES = {".html", ".css", ".js", ".json", ".xml", ".svg", ".txt"}
CACHE_CONTROL = "max-age=600"  # GitHub Pages' header: a visit of a few pages reuses its files

LIGHTHOUSE = ROOT / "benchmarks" / "node_modules" / ".bin" / "lighthouse"
LIGHTHOUSE_RUNS = 3
LIGHTHOUSE_CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
LIGHTHOUSE_TARGETS = {
    "desktop": {"performance": 95, "accessibility": 100, "best-practices": 100, "seo": 100},
    "mobile": {"performance": 85, "accessibility": 100, "best-practices": 100, "seo": 100},
}
LIGHTHOUSE_CHROME_FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --no-first-run "
    "--disable-background-networking --disable-component-update --disable-sync"
)
LESSON = "tutorials/02-pytorch-lesson/"


def progress(message: str) -> None:
    print(f"  .. {message}", file=sys.stderr, flush=True)


@functools.lru_cache(maxsize=512)
def _gzipped(path: str, mtime: float) -> bytes:
    return gzip.compress(Path(path).read_bytes(), compresslevel=6, mtime=0)


class _CountingWriter:
    """The connection's output stream, counting the bytes written to it."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.count = 0

    def write(self, data: bytes) -> int:
        self.count += len(data)
        return int(self.raw.write(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


class GzipHandler(QuietHandler):
    """Serve files as a static host does: text gzipped (level 6), cacheable for 600 s.

    Every response is logged in `server.sent` as (path, status, bytes sent: status line,
    headers and body).
    """

    status = 0

    def setup(self) -> None:
        super().setup()
        self.wfile = _CountingWriter(self.wfile)

    def handle_one_request(self) -> None:
        self.wfile.count = 0
        super().handle_one_request()
        if self.wfile.count:
            self.server.sent.append((self.path, self.status, self.wfile.count))  # type: ignore[attr-defined]

    def send_response(self, code: int, message: str | None = None) -> None:
        self.status = code
        super().send_response(code, message)

    def send_head(self) -> Any:
        path = Path(self.translate_path(self.path))
        if path.is_dir() and self.path.split("?")[0].endswith("/"):
            path = path / "index.html"
        if not path.is_file():
            return super().send_head()  # the redirect of a folder without "/", or 404
        stat = path.stat()
        body = path.read_bytes()
        compress = path.suffix in GZIP_TYPES and "gzip" in self.headers.get("Accept-Encoding", "")
        if compress:
            body = _gzipped(str(path), stat.st_mtime)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        if compress:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Vary", "Accept-Encoding")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Last-Modified", email.utils.formatdate(stat.st_mtime, usegmt=True))
        self.send_header("Cache-Control", CACHE_CONTROL)
        self.end_headers()
        return io.BytesIO(body)


def site_address(site: Path) -> tuple[str, int]:
    """The host and port the site was built for (SITE_URL), from its canonical links."""
    page = (site / "en" / "index.html").read_text(encoding="utf-8")
    found = re.search(r'<link rel="canonical" href="(https?://[^"]*?)en/"', page)
    address = urllib.parse.urlsplit(found.group(1) if found else "")
    return address.hostname or "", address.port or 80


def serve(site: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Serve `site` with GzipHandler at its own address; return the server and its URL.

    The pages name their languages by absolute address (SITE_URL, default
    http://127.0.0.1:8000/), and Material fetches each language's sitemap from there:
    served anywhere else, those requests would go to another host.
    """
    host, port = site_address(site)
    if host not in ("127.0.0.1", "localhost"):
        raise SystemExit(f"the site was built for {host}: build it with SITE_URL on 127.0.0.1")
    try:
        server = start_server(site, port, GzipHandler)
    except OSError as err:
        raise SystemExit(
            f"port {port} is taken ({err}): build the site for another one, e.g. "
            "`make bench-site PORT=8123`"
        ) from None
    server.sent = []  # type: ignore[attr-defined]
    return server, f"http://127.0.0.1:{port}/"


def launch(playwright: Any) -> Any:
    """Debian's Chromium, headless, through Playwright; no other host resolves.

    No request is intercepted (Playwright turns the browser's cache off for a context
    that routes requests): other hosts simply fail, and the requests to them are listed.
    """
    return launch_chromium(playwright, "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1")


def clean_build(root: Path) -> dict[str, Any]:
    """Remove .cache/ and site/ under `root`, then time `python -m tools.build_site` there."""
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


class Visit:
    """One reader's visit (a browser context: one cache); what each step transferred."""

    def __init__(self, browser: Any, server: Any, base: str, site: Path) -> None:
        self.server, self.base, self.site = server, base, site
        self.outside: list[str] = []
        self.context = browser.new_context(viewport={"width": 1280, "height": 800})
        self.context.on(
            "request",
            lambda request: (
                None if request.url.startswith(base) else self.outside.append(request.url)
            ),
        )
        self.page = self.context.new_page()
        self.server.sent.clear()

    def open(self, path: str) -> None:
        self.page.goto(self.base + path, wait_until="networkidle")

    def read_to_end(self) -> None:
        """Load what a reader who reads the whole page loads too: every lazy figure, and
        what loads as the reader scrolls past it (the explorer's data)."""
        self.page.evaluate(
            """async () => {
              for (const image of document.images) image.loading = "eager";
              await Promise.all([...document.images].map(i => i.decode().catch(() => null)));
              for (let y = 0; y < document.body.scrollHeight; y += innerHeight) {
                scrollTo(0, y);
                await new Promise((done) => setTimeout(done, 50));
              }
            }"""
        )
        self.page.wait_for_load_state("networkidle")

    def take(self) -> list[dict[str, Any]]:
        """What the server sent since the last call: path, status, bytes, uncompressed size."""
        taken, self.server.sent[:] = list(self.server.sent), []
        resources = []
        for url, status, sent in taken:
            file = self.site / url.lstrip("/").split("?")[0]
            file = file / "index.html" if file.is_dir() else file
            resources.append(
                {
                    "url": url.lstrip("/"),
                    "status": status,
                    "transferred": sent,
                    "bytes": file.stat().st_size if status == 200 else 0,
                }
            )
        return resources

    def close(self) -> None:
        self.context.close()


def _row(path: str, resources: list[dict[str, Any]], outside: list[str]) -> dict[str, Any]:
    return {
        "page": path,
        "requests": len(resources),
        "transferred": sum(r["transferred"] for r in resources),
        "html_transferred": sum(r["transferred"] for r in resources if r["url"] == path),
        "uncompressed": sum(r["bytes"] for r in resources),
        "failed": [r["url"] for r in resources if r["status"] >= 400],
        "other_hosts": list(outside),
        "resources": resources,
    }


def _warm_up_page(path: str) -> str:
    """The page a reader has seen before `path`: the language's home page (or tutorials)."""
    home = path.split("/")[0] + "/"
    return home + "tutorials/" if path == home else home


def transferred(site: Path) -> dict[str, list[dict[str, Any]]]:
    """Every page's transfer on a first visit, and as a further page of a visit."""
    from playwright.sync_api import sync_playwright

    server, base = serve(site)
    first, further = [], []
    try:
        with sync_playwright() as playwright:
            browser = launch(playwright)
            for path in pages(site):
                visit = Visit(browser, server, base, site)
                visit.open(path)
                first.append(_row(path, visit.take(), visit.outside))
                visit.read_to_end()
                rest = sum(r["transferred"] for r in visit.take())
                first[-1]["read_to_end"] = first[-1]["transferred"] + rest
                visit.close()

                visit = Visit(browser, server, base, site)
                visit.open(_warm_up_page(path))
                visit.take()
                visit.open(path)
                further.append(_row(path, visit.take(), visit.outside))
                further[-1]["after"] = _warm_up_page(path)
                visit.close()
                progress(
                    f"{path}: first visit {first[-1]['transferred'] / KB:.1f} KB, "
                    f"further page {further[-1]['transferred'] / KB:.1f} KB"
                )
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return {"first_visit": first, "further_page": further}


def first_search(site: Path) -> list[dict[str, Any]]:
    """What the first search on each language's home page transfers, after the page."""
    from playwright.sync_api import sync_playwright

    server, base = serve(site)
    found = []
    try:
        with sync_playwright() as playwright:
            browser = launch(playwright)
            for lang in LANGUAGES:
                visit = Visit(browser, server, base, site)
                visit.open(f"{lang}/")
                visit.take()
                visit.page.locator("input.md-search__input").fill("SGD")
                visit.page.keyboard.press("End")
                visit.page.locator(".md-search-result__item").first.wait_for()
                visit.page.wait_for_load_state("networkidle")
                resources = visit.take()
                visit.close()
                found.append(
                    {
                        "language": lang,
                        "transferred": sum(r["transferred"] for r in resources),
                        "uncompressed": sum(r["bytes"] for r in resources),
                        "files": {r["url"]: r["transferred"] for r in resources},
                    }
                )
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return found


def _lighthouse_once(url: str, form_factor: str) -> dict[str, Any]:
    command = [
        str(LIGHTHOUSE),
        url,
        "--quiet",
        "--output=json",
        "--output-path=stdout",
        f"--only-categories={','.join(LIGHTHOUSE_CATEGORIES)}",
        f"--chrome-flags={LIGHTHOUSE_CHROME_FLAGS}",
    ]
    if form_factor == "desktop":
        command.append("--preset=desktop")
    env = dict(os.environ, CHROME_PATH=CHROMIUM)
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"lighthouse failed on {url}: {result.stderr[-2000:]}")
    report = json.loads(result.stdout)
    audits = report["audits"]
    failed = sorted(
        f"{category}:{ref['id']}"
        for category in LIGHTHOUSE_CATEGORIES
        for ref in report["categories"][category]["auditRefs"]
        if ref["weight"] > 0 and (audits[ref["id"]].get("score") or 0) < 1
        if category != "performance"
    )
    return {
        **{c: round(100 * report["categories"][c]["score"]) for c in LIGHTHOUSE_CATEGORIES},
        "tbt_ms": round(audits["total-blocking-time"]["numericValue"]),
        "lcp_ms": round(audits["largest-contentful-paint"]["numericValue"]),
        "fcp_ms": round(audits["first-contentful-paint"]["numericValue"]),
        "dom_elements": audits["dom-size"].get("numericValue"),
        "failed_audits": failed,
    }


def lighthouse(site: Path, targets: list[str]) -> list[dict[str, Any]]:
    """Lighthouse's four categories for each page and form factor: medians of 3 runs."""
    server, base = serve(site)
    rows = []
    try:
        for path in targets:
            for form_factor in ("desktop", "mobile"):
                runs = [_lighthouse_once(base + path, form_factor) for _ in range(LIGHTHOUSE_RUNS)]
                median = {
                    key: statistics.median(run[key] for run in runs)
                    for key in (*LIGHTHOUSE_CATEGORIES, "tbt_ms", "lcp_ms", "fcp_ms")
                }
                wanted = LIGHTHOUSE_TARGETS[form_factor]
                rows.append(
                    {
                        "page": path,
                        "form_factor": form_factor,
                        **median,
                        "dom_elements": runs[0]["dom_elements"],
                        "runs": runs,
                        "passed": all(median[c] >= wanted[c] for c in wanted),
                    }
                )
                progress(
                    f"lighthouse {path} {form_factor}: "
                    + " ".join(f"{c} {median[c]:g}" for c in LIGHTHOUSE_CATEGORIES)
                    + f" (TBT {median['tbt_ms']:g} ms)"
                )
    finally:
        server.shutdown()
        server.server_close()
    return rows


def lighthouse_pages(first: list[dict[str, Any]]) -> list[str]:
    """Each language's home page, the lesson tutorial, and its heaviest page (first visit)."""
    chosen = []
    for lang in LANGUAGES:
        heaviest = max(
            (r for r in first if r["page"].startswith(f"{lang}/")), key=lambda r: r["transferred"]
        )
        for path in (f"{lang}/", f"{lang}/{LESSON}", heaviest["page"]):
            if path not in chosen:
                chosen.append(path)
    return chosen


VERDICT = {True: "PASS", False: "MISSED"}


def _print_transfers(weights: dict[str, list[dict[str, Any]]]) -> None:
    first, further = weights["first_visit"], weights["further_page"]
    print(f"| {'benchmark':<50} | {'measured':>12} | {'target':>10} | result |")
    print(f"|{'-' * 52}|{'-' * 14}|{'-' * 12}|--------|")
    for name, rows, target in (
        ("first visit", first, FIRST_VISIT_TARGET),
        ("further page, cache warm", further, FURTHER_PAGE_TARGET),
    ):
        heaviest = max(rows, key=lambda r: r["transferred"])
        missed = sum(r["transferred"] > target for r in rows)
        label = f"{name}, heaviest ({heaviest['page']})"
        print(
            f"| {label:<50} | {heaviest['transferred'] / KB:>9.1f} KB | "
            f"{f'≤ {target // KB} KB':>10} | {VERDICT[missed == 0]:<6} |"
        )
        print(
            f"| {name + ', pages over the target':<50} | {f'{missed} of {len(rows)}':>12} | "
            f"{'0':>10} | {VERDICT[missed == 0]:<6} |"
        )
    whole = max(first, key=lambda r: r["read_to_end"])
    label = f"first visit read to the end, heaviest ({whole['page']})"
    print(f"| {label:<50} | {whole['read_to_end'] / KB:>9.1f} KB | {'':>10} |        |")
    print()
    print(
        "| page | first visit KB | of it HTML | requests | uncompressed KB | "
        "read to the end KB | further page KB |"
    )
    print(
        "|------|---------------:|-----------:|---------:|----------------:|"
        "-------------------:|----------------:|"
    )
    for row, row2 in zip(first, further, strict=True):
        print(
            f"| {row['page']} | {row['transferred'] / KB:.1f} | "
            f"{row['html_transferred'] / KB:.1f} | {row['requests']} | "
            f"{row['uncompressed'] / KB:.0f} | {row['read_to_end'] / KB:.1f} | "
            f"{row2['transferred'] / KB:.1f} |"
        )
    sizes: dict[str, int] = {}
    for row in first:
        for r in row["resources"]:
            if r["url"] != row["page"]:
                sizes[r["url"]] = max(sizes.get(r["url"], 0), r["transferred"])
    top = sorted(sizes.items(), key=lambda item: -item[1])[:10]
    print()
    print("largest resources: " + ", ".join(f"{url} {size / KB:.1f} KB" for url, size in top))
    for row in first + further:
        if row["other_hosts"] or row["failed"]:
            print(f"WARNING {row['page']}: failed or other-host requests: {row}")


def print_report(
    info: dict[str, Any],
    weights: dict[str, list[dict[str, Any]]],
    searches: list[dict[str, Any]],
    scores: list[dict[str, Any]] | None,
    build: dict[str, Any] | None,
) -> None:
    print(f"site benchmarks, {info['date']}")
    print(
        f"{info['machine']}, {info['cpus']} CPUs, Python {info['python']}, "
        f"load average {info['load_average_start']} at start, {info['load_average_end']} at end"
    )
    print()
    _print_transfers(weights)
    for search in searches:
        files = ", ".join(f"{url} {size / KB:.1f} KB" for url, size in search["files"].items())
        print(
            f"first search ({search['language']}): {search['transferred'] / KB:.1f} KB "
            f"transferred ({search['uncompressed'] / KB:.0f} KB uncompressed), "
            f"once per visit: {files}"
        )
    if scores:
        print()
        print(
            "Lighthouse (medians of 3): | page | form factor | performance | accessibility "
            "| best practices | SEO | TBT ms | LCP ms | DOM elements | result |"
        )
        for row in scores:
            print(
                f"| {row['page']} | {row['form_factor']} | {row['performance']:g} | "
                f"{row['accessibility']:g} | {row['best-practices']:g} | {row['seo']:g} | "
                f"{row['tbt_ms']:g} | {row['lcp_ms']:g} | {row['dom_elements']} | "
                f"{VERDICT[row['passed']]} |"
            )
        failing = sorted({a for row in scores for run in row["runs"] for a in run["failed_audits"]})
        if failing:
            print("audits that failed in some run: " + ", ".join(failing))
    if build is not None:
        print()
        print(
            f"clean build ({build['where']}): {build['seconds']:.1f} s, target ≤ 45 s: "
            f"{VERDICT[build['passed']]}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--skip-build", action="store_true", help="measure the existing site/")
    parser.add_argument(
        "--scratch",
        action="store_true",
        help="build in a temporary copy of the sources, not in this tree",
    )
    parser.add_argument("--no-lighthouse", action="store_true", help="skip Lighthouse")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results here")
    args = parser.parse_args(argv)
    info: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_average_start": round(os.getloadavg()[0], 2),
    }
    if not args.no_lighthouse and not LIGHTHOUSE.exists():
        print("no Lighthouse: run `npm ci --prefix benchmarks` first", file=sys.stderr)
        return 1
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
        progress("transferred bytes ...")
        weights = transferred(site)
        progress("first search ...")
        searches = first_search(site)
        scores = None
        if not args.no_lighthouse:
            scores = lighthouse(site, lighthouse_pages(weights["first_visit"]))
    info["load_average_end"] = round(os.getloadavg()[0], 2)
    print_report(info, weights, searches, scores, build)
    if args.json:
        payload = {
            **info,
            "unit": "bytes",
            "targets": {"first_visit": FIRST_VISIT_TARGET, "further_page": FURTHER_PAGE_TARGET},
            **weights,
            "first_search": searches,
            "lighthouse": scores,
            "build": build,
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
