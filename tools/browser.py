"""Headless Chromium and a local server for the built site.

Shared by `tools.screenshot`, tests/test_browser.py and benchmarks/site.py, so the
three launch the same browser the same way. Chromium is Debian's (`/usr/bin/chromium`,
installed by tools/system-deps.sh); Playwright only drives it (never run
`playwright install`: it downloads a browser). The server binds 127.0.0.1 on a free
port and stops when its `with` block ends.
"""

from __future__ import annotations

import functools
import http.server
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

CHROMIUM = "/usr/bin/chromium"
# As root Chromium needs --no-sandbox; the rest keep it from calling Google's hosts
# (refused on these machines, many at a time) and from updating itself.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def launch(playwright: Playwright, *extra_args: str) -> Browser:
    """Debian's Chromium, headless, through Playwright (with `extra_args` if given)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *extra_args])


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """`http.server`'s file handler, without a log line per request."""

    def log_message(self, format: str, *args: object) -> None:
        """Say nothing."""


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """Say nothing when the browser drops a request it no longer needs."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


def start_server(
    folder: Path, port: int = 0, handler: type[QuietHandler] = QuietHandler
) -> http.server.ThreadingHTTPServer:
    """Serve `folder` on 127.0.0.1 (`port`, or a free one) in a thread; `shutdown()` stops it."""
    server = _Server(("127.0.0.1", port), functools.partial(handler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve `folder` on 127.0.0.1 (a free port) while the block runs; yield its URL."""
    server = start_server(folder)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
