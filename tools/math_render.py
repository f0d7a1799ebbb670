r"""Typeset the site's math at build time with KaTeX, so pages ship no math JavaScript.

pymdownx.arithmatex (generic mode) leaves each formula in the HTML as
`<span class="arithmatex">\(...\)</span>` or `<div class="arithmatex">\[...\]</div>`.
`typeset(html)` replaces the TeX inside by KaTeX's HTML and MathML (the MathML is what
screen readers read), keeping the `arithmatex` wrapper. The pages then need only
KaTeX's stylesheet and the fonts the formulas use; the browser loads no script for them.

KaTeX runs in Node.js (tools/katex/render.js with the vendored katex.min.js): one
process per build, one JSON line per formula. A formula KaTeX cannot parse fails the
build with KaTeX's message.

`subset_fonts` then cuts KaTeX's fonts down to the characters the formulas show (the
two fonts every page with math loads weigh 42 KB whole, about 9 KB cut). A character
any formula shows is kept in every font, so the cut cannot miss one. Cut fonts are
cached under .cache/katex-fonts/, keyed on the font, the characters and fontTools.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path

RENDERER = Path(__file__).resolve().parent / "katex" / "render.js"
FONT_CACHE = Path(__file__).resolve().parents[1] / ".cache" / "katex-fonts"
TAG = re.compile(r"<[^>]*>")
MATH = re.compile(
    r'<span class="arithmatex">\\\((?P<inline>.*?)\\\)</span>'
    r'|<div class="arithmatex">\\\[(?P<display>.*?)\\\]</div>',
    re.DOTALL,
)


# In the search index: TeX as arithmatex wrote it, and the code it must not touch.
SEARCH_MATH = re.compile(r"\\\((?P<inline>.*?)\\\)|\\\[(?P<display>.*?)\\\]", re.DOTALL)
CODE = re.compile(r"(<(?:pre|code)\b.*?</(?:pre|code)>)", re.DOTALL)
ANNOTATION = re.compile(r"<annotation\b.*?</annotation>", re.DOTALL)


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
        self._cache: dict[tuple[str, bool, str], str] = {}
        self.characters: set[str] = set()  # what the formulas show, for subset_fonts

    def render(self, tex: str, *, display: bool, output: str = "htmlAndMathml") -> str:
        """KaTeX's HTML (or only MathML) for one formula; MathError if KaTeX rejects it."""
        key = (tex, display, output)
        with self._lock:
            if key not in self._cache:
                stdin, stdout = self._process.stdin, self._process.stdout
                assert stdin is not None
                assert stdout is not None
                request = {"tex": tex, "display": display, "output": output}
                stdin.write(json.dumps(request) + "\n")
                stdin.flush()
                reply = json.loads(stdout.readline() or '{"error": "KaTeX stopped"}')
                if "error" in reply:
                    raise MathError(f"{reply['error']} (in the formula {tex!r})")
                self._cache[key] = reply["html"]
                # The text KaTeX lays out in its fonts; the MathML part is for screen readers.
                shown = reply["html"].partition('class="katex-html"')[2]
                self.characters.update(html.unescape(TAG.sub("", shown)))
            return self._cache[key]

    def typeset(self, page: str) -> tuple[str, int]:
        """Replace every arithmatex formula in `page`; return the page and the count."""

        def replace(match: re.Match[str]) -> str:
            display = match["display"] is not None
            tex = html.unescape(match["display"] if display else match["inline"])
            tag = "div" if display else "span"
            return f'<{tag} class="arithmatex">{self.render(tex, display=display)}</{tag}>'

        return MATH.subn(replace, page)

    def typeset_search_text(self, text: str) -> str:
        """The search index's HTML `text` with MathML for the TeX (outside code).

        The search results show a section's text as HTML: with the formulas as MathML,
        which browsers lay out without a stylesheet or font of ours, a result shows
        the formula rather than its TeX source.
        """
        parts = CODE.split(text)
        for i in range(0, len(parts), 2):  # the odd parts are code, left as they are
            parts[i] = SEARCH_MATH.sub(self._mathml, parts[i])
        return "".join(parts)

    def _mathml(self, match: re.Match[str]) -> str:
        display = match["display"] is not None
        tex = html.unescape(match["display"] if display else match["inline"])
        rendered = self.render(tex.strip(), display=display, output="mathml")
        math = re.search(r"<math\b.*</math>", rendered, re.DOTALL)
        assert math is not None, rendered
        return ANNOTATION.sub("", math.group())  # the TeX source: not shown, not searched

    def close(self) -> None:
        """End the KaTeX process."""
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.wait(timeout=10)
        if self._process.stdout is not None:
            self._process.stdout.close()


def subset_fonts(folder: Path, characters: set[str]) -> dict[str, tuple[int, int]]:
    """Cut every .woff2 font in `folder` down to `characters`; return {name: (before, after)}."""
    import fontTools
    from fontTools import subset

    text = "".join(sorted(characters | {" ", "\u00a0"}))
    sizes = {}
    for path in sorted(folder.glob("*.woff2")):
        original = path.read_bytes()
        key = hashlib.sha256(original + text.encode() + fontTools.version.encode()).hexdigest()
        cached = FONT_CACHE / f"{path.stem}-{key[:16]}.woff2"
        if not cached.exists():
            options = subset.Options()
            options.flavor = "woff2"
            options.layout_features = ["*"]  # keep kerning and the like for what remains
            options.name_IDs = ["*"]
            options.notdef_outline = True
            font = subset.load_font(io.BytesIO(original), options)
            subsetter = subset.Subsetter(options)
            subsetter.populate(text=text)
            subsetter.subset(font)
            buffer = io.BytesIO()
            subset.save_font(font, buffer, options)
            FONT_CACHE.mkdir(parents=True, exist_ok=True)
            temporary = cached.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_bytes(buffer.getvalue())
            temporary.replace(cached)  # the other language's build may write it too
        path.write_bytes(cached.read_bytes())
        sizes[path.name] = (len(original), path.stat().st_size)
    return sizes
