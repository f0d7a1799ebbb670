"""Drop the CSS rules that can match nothing on the built site.

Material's stylesheet (134 KB) styles every feature the theme has: blogs, versions,
tags, cookie consent, content tabs, and 19 colour palettes. This site uses a few of
them. After the build, `purge_site` rewrites each stylesheet of the theme and of
KaTeX, keeping every rule that could match some page:

- a selector needs every class it names outside `:not(...)`; `:is()`, `:where()`,
  `:has()` need one of their alternatives. A selector whose classes never occur is
  dropped, and so is a rule left with no selector. Everything else (@font-face,
  @keyframes, custom properties, element and attribute selectors) is kept as it is.
- the classes that occur are the ones in the `class` attributes of the built HTML and
  search index, and every word in the site's JavaScript (the theme adds classes with
  string literals; a class built from a template literal such as `tabbed-control--${e}`
  counts as any class with that prefix), so a class the scripts add is kept too.
- `[data-md-color-primary=...]` and `[data-md-color-accent=...]` need a colour that
  appears in the HTML (the palette toggle copies those attributes from the page).

The test suite shows that the purge changes nothing a reader sees: tests/test_browser.py
screenshots pages, light and dark, with the search open, once with the purged and once
with the original stylesheets, and compares the pixels.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

CLASS_ATTRIBUTE = re.compile(r"""\bclass=(?:"([^"]*)"|'([^']*)')""")
COLOR_ATTRIBUTE = re.compile(r"""\bdata-md-color-(primary|accent)=["']?([\w-]+)""")
WORD = re.compile(r"[\w-]+")
TEMPLATE_PREFIX = re.compile(r"([\w-]+)\$\{")
# Inside a selector: a class name (escapes allowed), a pseudo-class, a palette colour.
CLASS_NAME = re.compile(r"(?:[\w-]|\\.)+")
PSEUDO = re.compile(r"::?([\w-]+)")
COLOR_SELECTOR = re.compile(r"""\s*data-md-color-(primary|accent)\s*=\s*["']?([\w-]+)["']?\s*""")
NEEDS_ONE_OF = {"is", "where", "matches", "-webkit-any", "-moz-any", "has"}
# At-rules whose block holds rules (purged inside); other blocks are kept as they are.
GROUPING = {"media", "supports", "layer", "container", "document", "-moz-document"}
UNPURGED = {"assets/css/extra.css"}  # our own stylesheet: small, and written by hand


@dataclass
class Used:
    """What the built site can match: its classes, class prefixes and palette colours."""

    classes: set[str] = field(default_factory=set)
    prefixes: set[str] = field(default_factory=set)
    colors: dict[str, set[str]] = field(default_factory=lambda: {"primary": set(), "accent": set()})

    def has_class(self, name: str) -> bool:
        """Whether some page or script may carry the class `name`."""
        return name in self.classes or any(name.startswith(p) for p in self.prefixes)

    @classmethod
    def from_site(cls, site: Path) -> Used:
        """Collect classes and colours from the HTML and search index, words from the JS."""
        used = cls()
        for path in site.rglob("*"):
            if path.suffix in {".html", ".json"}:
                text = path.read_text(encoding="utf-8")
                if path.suffix == ".json":
                    text = text.replace('\\"', '"')  # the search index escapes its HTML
                for match in CLASS_ATTRIBUTE.finditer(text):
                    used.classes.update((match[1] or match[2] or "").split())
                for kind, value in COLOR_ATTRIBUTE.findall(text):
                    used.colors[kind].add(value)
            elif path.suffix == ".js":
                text = path.read_text(encoding="utf-8")
                used.classes.update(WORD.findall(text))
                used.prefixes.update(TEMPLATE_PREFIX.findall(text))
        return used


def _skip_string(css: str, i: int) -> int:
    """Index just past the string that starts at css[i]."""
    quote, i = css[i], i + 1
    while i < len(css) and css[i] != quote:
        i += 2 if css[i] == "\\" else 1
    return i + 1


def _skip_comment(css: str, i: int) -> int:
    end = css.find("*/", i + 2)
    return len(css) if end < 0 else end + 2


def _closing(css: str, i: int, opening: str, closing: str) -> int:
    """Index of the bracket that closes the one at css[i]."""
    depth = 0
    while i < len(css):
        c = css[i]
        if c in "\"'":
            i = _skip_string(css, i)
            continue
        if css.startswith("/*", i):
            i = _skip_comment(css, i)
            continue
        if c == "\\":
            i += 2
            continue
        if c == opening:
            depth += 1
        elif c == closing:
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError(f"unbalanced {opening!r} at offset {i}")


def _statements(css: str) -> Iterable[tuple[str, str | None]]:
    """(prelude, block) for each rule; block None for a statement like @charset."""
    i = start = 0
    prelude: list[str] = []
    while i < len(css):
        c = css[i]
        if c in "\"'":
            i = _skip_string(css, i)
        elif css.startswith("/*", i):
            prelude.append(css[start:i])  # comments go, the source-map one included
            i = start = _skip_comment(css, i)
        elif c == "{":
            end = _closing(css, i, "{", "}")
            yield "".join([*prelude, css[start:i]]).strip(), css[i + 1 : end]
            prelude, i = [], end + 1
            start = i
        elif c == ";":
            yield "".join([*prelude, css[start : i + 1]]).strip(), None
            prelude, i = [], i + 1
            start = i
        else:
            i += 1
    if "".join([*prelude, css[start:]]).strip():
        raise ValueError("CSS ends inside a rule")


def _split(text: str) -> list[str]:
    """Split a selector list at its top-level commas."""
    parts, depth, i, start = [], 0, 0, 0
    while i < len(text):
        c = text[i]
        if c in "\"'":
            i = _skip_string(text, i)
            continue
        if c == "\\":
            i += 2
            continue
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif c == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def can_match(selector: str, used: Used) -> bool:
    """False only if `selector` needs a class or palette colour that never occurs."""
    i = 0
    while i < len(selector):
        c = selector[i]
        if c in "\"'":
            i = _skip_string(selector, i)
        elif c == "\\":
            i += 2
        elif c == "[":
            end = _closing(selector, i, "[", "]")
            color = COLOR_SELECTOR.fullmatch(selector[i + 1 : end])
            if color and color[2] not in used.colors[color[1]]:
                return False
            i = end + 1
        elif c == ".":
            match = CLASS_NAME.match(selector, i + 1)
            if match is None:
                return True  # not a class we can read: keep the rule
            name = match.group()
            if "\\" not in name and not used.has_class(name):
                return False
            i = match.end()
        elif c == ":":
            match = PSEUDO.match(selector, i)
            if match is None:
                return True
            i = match.end()
            if i < len(selector) and selector[i] == "(":
                end = _closing(selector, i, "(", ")")
                if match[1] in NEEDS_ONE_OF and not any(
                    can_match(alternative, used) for alternative in _split(selector[i + 1 : end])
                ):
                    return False
                i = end + 1
        else:
            i += 1
    return True


def purge(css: str, used: Used) -> str:
    """The rules of `css` that can match, in their order, minified as they came."""
    out = []
    for prelude, block in _statements(css):
        if block is None:
            out.append(prelude)
        elif prelude.startswith("@"):
            name = re.match(r"@([\w-]+)", prelude)
            if name and name[1].lower() in GROUPING:
                inner = purge(block, used)
                if inner:
                    out.append(f"{prelude}{{{inner}}}")
            else:
                out.append(f"{prelude}{{{block}}}")
        else:
            selectors = [s for s in _split(prelude) if can_match(s, used)]
            if selectors:
                out.append(f"{','.join(selectors)}{{{block}}}")
    return "".join(out)


def purge_site(site: Path) -> dict[str, tuple[int, int]]:
    """Purge every stylesheet under `site` but ours; return {path: (before, after)} bytes."""
    used = Used.from_site(site)
    sizes = {}
    for path in sorted(site.rglob("*.css")):
        name = path.relative_to(site).as_posix()
        if name in UNPURGED:
            continue
        css = path.read_text(encoding="utf-8")
        purged = purge(css, used)
        path.write_text(purged, encoding="utf-8")
        sizes[name] = (len(css.encode()), len(purged.encode()))
    return sizes
