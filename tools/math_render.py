"""Typeset the site's math at build time with KaTeX, so pages ship no math JavaScript.

pymdownx.arithmatex (generic mode) leaves each formula in the HTML as
`<span class="arithmatex">\\(...\\)</span>` or `<div class="arithmatex">\\[...\\]</div>`.
`typeset(html)` replaces the TeX inside by KaTeX's HTML and MathML (the MathML is what
screen readers read), keeping the `arithmatex` wrapper. The pages then need only
KaTeX's stylesheet and the fonts the formulas use; the browser loads no script for them.

KaTeX runs in Node.js (tools/katex/render.js with the vendored katex.min.js): one
process per build, one JSON line per formula. A formula KaTeX cannot parse fails the
build with KaTeX's message.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import threading
from pathlib import Path

RENDERER = Path(__file__).resolve().parent / "katex" / "render.js"
MATH = re.compile(
    r'<span class="arithmatex">\\\((?P<inline>.*?)\\\)</span>'
    r'|<div class="arithmatex">\\\[(?P<display>.*?)\\\]</div>',
    re.DOTALL,
)


class MathError(Exception):
    """A formula KaTeX rejects, or no Node.js to run KaTeX."""


class Katex:
    """A KaTeX process that renders formulas one at a time (and remembers them)."""

    def __init__(self) -> None:
        node = shutil.which("node") or shutil.which("nodejs")
        if node is None:
            raise MathError("Node.js is needed to typeset the math: install Debian's nodejs")
        self._process = subprocess.Popen(
            [node, str(RENDERER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, bool], str] = {}

    def render(self, tex: str, *, display: bool) -> str:
        """KaTeX's HTML for one formula; MathError if KaTeX rejects it."""
        key = (tex, display)
        with self._lock:
            if key not in self._cache:
                stdin, stdout = self._process.stdin, self._process.stdout
                assert stdin is not None and stdout is not None
                stdin.write(json.dumps({"tex": tex, "display": display}) + "\n")
                stdin.flush()
                reply = json.loads(stdout.readline() or '{"error": "KaTeX stopped"}')
                if "error" in reply:
                    raise MathError(f"{reply['error']} (in the formula {tex!r})")
                self._cache[key] = reply["html"]
            return self._cache[key]

    def typeset(self, page: str) -> tuple[str, int]:
        """Replace every arithmatex formula in `page`; return the page and the count."""

        def replace(match: re.Match[str]) -> str:
            display = match["display"] is not None
            tex = html.unescape(match["display"] if display else match["inline"])
            tag = "div" if display else "span"
            return f'<{tag} class="arithmatex">{self.render(tex, display=display)}</{tag}>'

        return MATH.subn(replace, page)

    def close(self) -> None:
        """End the KaTeX process."""
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.wait(timeout=10)
