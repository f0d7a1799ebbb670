"""Take a screenshot of a page of the built site in headless Chromium.

Usage: python -m tools.screenshot PAGE OUT.png [--dark] [--width 1280 --height 800]

PAGE is a path inside site/ (for example en/tutorials/02-pytorch-lesson/). The site is
served from site/ on a free local port for the screenshot; every request to another
host is aborted, so the picture shows what a learner offline would see.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tools.browser import launch, serve

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    """Take the screenshot; return 0."""
    from playwright.sync_api import Route, sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page")
    parser.add_argument("out", type=Path)
    parser.add_argument("--dark", action="store_true")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=800)
    args = parser.parse_args()
    with serve(ROOT / "site") as base, sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page(
            viewport={"width": args.width, "height": args.height},
            color_scheme="dark" if args.dark else "light",
        )

        def offline(route: Route) -> None:
            if route.request.url.startswith(base):
                route.continue_()
            else:
                route.abort()

        page.route("**/*", offline)
        page.goto(base + args.page, wait_until="networkidle")
        page.screenshot(path=str(args.out))
        browser.close()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
