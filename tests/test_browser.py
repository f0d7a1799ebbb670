"""The built site in headless Chromium: every page of both languages, as a reader sees it.

Static checks of the built HTML (links and anchors, alt text, typeset math, the
notebook files) live in test_site.py and are not repeated here; these tests load the
pages in Debian's Chromium (through Playwright, launched by tools/browser.py) and check
what only a browser shows: console errors, failed requests, images that load, axe-core's
accessibility rules in both palettes, the language switcher, search, the copy button,
downloaded notebooks that run, and screenshots (written to build/screenshots/: the top
of the page and its first figure, light and dark). Each page is loaded once per palette
and what the tests need is collected then. About 3 minutes on two busy cores, most of
it axe-core's color-contrast rule (9 s for the API reference alone).

How the site is served. `site_url` is fixed at build time (SITE_URL, default
http://127.0.0.1:8000/), and Material's language switcher only keeps the reader on the
same page when the page's address matches it, port included. Binding port 8000 would
make these tests fail whenever something else uses it (for example `make serve`), so
the site is served on a free port (tools.browser.serve), and the browser is shown it at its
`site_url`: every request to that address is forwarded by a route handler to the local
server; every request to any other host is aborted and recorded, and the tests assert
that there was none.
"""

from __future__ import annotations

import contextlib
import html
import io
import os
import re
import struct
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import nbformat
import pytest
from axe_playwright_python.sync_playwright import Axe
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from PIL import Image
from playwright.sync_api import (
    APIRequestContext,
    Browser,
    BrowserContext,
    Page,
    Playwright,
    Request,
    Route,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError

from tools.browser import launch, serve
from tools.notebooks import sources

pytestmark = [pytest.mark.site, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "build" / "screenshots"

LANGUAGES = ("en", "zh")
VIEWPORT = {"width": 1280, "height": 800}
# Every impact level axe-core reports counts, down to "minor".
SERIOUS = ("minor", "moderate", "serious", "critical")
# Not ours: Material's bundle puts each code block's copy button in a <nav> without a
# name, so a page with two code blocks has two alike (landmark-unique, moderate).
# No upstream issue yet (Material is in maintenance until 2027).
UPSTREAM_AXE = {"landmark-unique": '<nav class="md-code__nav">'}
RAW_MATH = ("\\(", "\\)", "\\[", "\\]", "$$")


def _page_paths(lang: str) -> list[str]:
    """The site paths of a language's pages, from the sources (the site may not be built yet).

    Every page is a folder with an index.html: `index.md` -> `en/`, `torch/sgd.md` ->
    `en/torch/sgd/`, `tutorials/01-gradient-descent.py` -> `en/tutorials/01-gradient-descent/`.
    `test_every_built_page_is_visited` checks that this is the list of pages the build made.
    """
    docs = ROOT / "docs" / lang
    sources = [*docs.rglob("*.md"), *(docs / "tutorials").glob("[0-9][0-9]-*.py")]
    paths = []
    for source in sources:
        parts = source.relative_to(docs).with_suffix("").parts
        if parts[-1] == "index":
            parts = parts[:-1]
        paths.append("/".join((lang, *parts)) + "/")
    return sorted(paths)


PAGES = [path for lang in LANGUAGES for path in _page_paths(lang)]
TUTORIALS = [p for p in PAGES if re.fullmatch(r"(en|zh)/tutorials/\d\d-[^/]+/", p)]
SWITCHER_PAGES = [p for p in PAGES if p.startswith(("en/tutorials/", "en/torch/"))]
# Screenshots (light and dark) of these pages go to build/screenshots/NAME-SCHEME.png.
SCREENSHOT_PAGES = {
    "en-home": "en/",
    "zh-home": "zh/",
    "en-lesson": "en/tutorials/02-pytorch-lesson/",
    "zh-lesson": "zh/tutorials/02-pytorch-lesson/",
}
DARK_PAGES = list(SCREENSHOT_PAGES.values())  # axe-core in the dark palette too
SEARCHES = [
    ("zh", "损失函数"),
    ("zh", "学习率"),
    ("zh", "小批量"),
    ("en", "loss"),
    ("en", "minibatch"),
    ("en", "zero_grad"),  # in code: optimizer.zero_grad()
]
# The downloaded notebooks that are executed here (the others are only validated;
# tests/test_notebooks.py executes every tutorial from its source).
EXECUTED = ["en/tutorials/02-pytorch-lesson/", "zh/tutorials/06-pitfalls/"]

# What the tests read from a loaded page, in one round trip.
_COLLECT = """() => ({
  lang: document.documentElement.lang,
  scheme: document.body.getAttribute("data-md-color-scheme"),
  hasArticle: document.querySelector("article.md-content__inner") !== null,
  images: [...document.images].map(i => ({src: i.currentSrc || i.src, width: i.naturalWidth})),
})"""

# Load every image now (lazy ones too), then wait for them and for the fonts.
_SETTLE = """async () => {
  for (const image of document.images) image.loading = "eager";
  await Promise.all([...document.images].map(image => image.decode().catch(() => null)));
  await document.fonts.ready;
}"""
# Wait for the theme's transitions (the tabs fade in one after another) to end.
_STILL = "() => Promise.all(document.getAnimations().map(a => a.finished.catch(() => null)))"


@dataclass
class Log:
    """What one browser context did on the network and in the console."""

    external: list[str] = field(default_factory=list)  # requests to other hosts (aborted)
    failed: list[str] = field(default_factory=list)  # requestfailed, or a status >= 400
    console: list[str] = field(default_factory=list)  # console errors and uncaught exceptions

    def watch(self, page: Page) -> None:
        page.on(
            "console",
            lambda message: (
                self.console.append(f"{message.text} ({message.location.get('url')})")
                if message.type == "error"
                else None
            ),
        )
        page.on("pageerror", lambda error: self.console.append(f"uncaught: {error}"))
        page.on("requestfailed", self._request_failed)
        page.on(
            "response",
            lambda response: (
                self.failed.append(f"{response.url}: HTTP {response.status}")
                if response.status >= 400
                else None
            ),
        )

    def _request_failed(self, request: Request) -> None:
        # Chromium reports a request it cancels itself (the page is left while the favicon
        # loads, say) as net::ERR_ABORTED. Site requests are never aborted by the route
        # handler, which records the local server's own failures.
        if request.failure != "net::ERR_ABORTED":
            self.failed.append(f"{request.url}: {request.failure}")


@dataclass
class Visit:
    """One page as loaded in the browser."""

    path: str
    scheme: str
    log: Log
    data: dict  # what _COLLECT returned
    violations: list[dict]  # axe-core's violations, every impact
    screenshots: list[Path]  # for the pages of SCREENSHOT_PAGES


class SiteBrowser:
    """Chromium, the served site, and the pages visited so far."""

    def __init__(self, playwright: Playwright, site: Path, local: str) -> None:
        self.base = _site_url(site)
        self.local = local  # where tools.browser.serve serves the site
        self.browser: Browser = launch(playwright)
        self.request: APIRequestContext = playwright.request.new_context()
        self.axe = Axe()
        self._visits: dict[tuple[str, str], Visit] = {}
        self._fetched: dict[str, tuple[int, str, bytes]] = {}
        self.searches: dict[tuple[str, str], list[str]] = {}  # see _search

    def close(self) -> None:
        self.request.dispose()
        self.browser.close()

    def local_url(self, url: str) -> str:
        """The address on the local server of a URL of the site."""
        assert url.startswith(self.base), url
        return self.local + url[len(self.base) :]

    def _route(self, log: Log) -> Callable[[Route], None]:
        def handle(route: Route) -> None:
            url = route.request.url
            if not url.startswith(self.base):
                log.external.append(url)
                route.abort()
                return
            try:
                response = route.fetch(url=self.local_url(url), max_redirects=0)
            except PlaywrightError as error:  # the local server did not answer
                log.failed.append(f"{url}: {error.message.splitlines()[0]}")
                return
            headers = dict(response.headers)
            location = headers.get("location", "")
            if location.startswith("/"):  # http.server redirects to "/path/"
                headers["location"] = self.base + location[1:]
            # If the browser cancelled the request meanwhile (it left the page), never mind.
            with contextlib.suppress(PlaywrightError):
                route.fulfill(response=response, headers=headers)

        return handle

    @contextmanager
    def context(self, scheme: str = "light", **options: object) -> Iterator[tuple[Page, Log]]:
        """A fresh browser context showing the site, its first page and its log."""
        settings = {"viewport": VIEWPORT, "color_scheme": scheme, **options}
        context: BrowserContext = self.browser.new_context(**settings)
        log = Log()
        context.route("**/*", self._route(log))
        page = context.new_page()
        log.watch(page)
        try:
            yield page, log
        finally:
            context.close()

    def open(self, page: Page, path: str) -> None:
        """Load a page of the site and wait until it is complete and still."""
        page.goto(self.base + path, wait_until="load")
        page.evaluate(_SETTLE)
        page.wait_for_load_state("networkidle")
        page.evaluate(_STILL)

    def visit(self, path: str, scheme: str = "light") -> Visit:
        """Load a page (once per palette), collect its facts, run axe-core."""
        key = (path, scheme)
        if key not in self._visits:
            with self.context(scheme) as (page, log):
                self.open(page, path)
                data = page.evaluate(_COLLECT)
                violations = self.axe.run(page).response["violations"]
                shots = self._screenshots(page, path, scheme)
            self._visits[key] = Visit(path, scheme, log, data, violations, shots)
        return self._visits[key]

    def _screenshots(self, page: Page, path: str, scheme: str) -> list[Path]:
        """Screenshots of the pages of SCREENSHOT_PAGES: the top, and the first figure."""
        names = [name for name, shown in SCREENSHOT_PAGES.items() if shown == path]
        if not names:
            return []
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shots = [SCREENSHOTS / f"{names[0]}-{scheme}.png"]
        page.screenshot(path=shots[0])
        figure = page.locator("img.nb-figure").first
        if figure.count():  # the first figure, with the text around it
            figure.evaluate("image => image.scrollIntoView({block: 'center'})")
            page.evaluate("() => new Promise(resolve => setTimeout(resolve, 100))")
            page.evaluate(_STILL)  # the header's tabs hide on scrolling down
            shots.append(SCREENSHOTS / f"{names[0]}-{scheme}-figure.png")
            page.screenshot(path=shots[-1])
        return shots

    def fetch(self, url: str) -> tuple[int, str, bytes]:
        """Status, content type and body of a URL of the site, fetched once."""
        url = url.split("#")[0]
        if url not in self._fetched:
            response = self.request.get(self.local_url(url), max_redirects=0)
            self._fetched[url] = (
                response.status,
                response.headers["content-type"],
                response.body(),
            )
        return self._fetched[url]


def _site_url(site: Path) -> str:
    """The address the site was built for (SITE_URL), from the English sitemap."""
    locations = {
        lang: re.findall(r"<loc>([^<]+)</loc>", (site / lang / "sitemap.xml").read_text("utf-8"))
        for lang in LANGUAGES
    }
    homes = [url for url in locations["en"] if url.endswith("/en/")]
    assert len(homes) == 1, f"no home page in site/en/sitemap.xml: {locations['en'][:3]}"
    base = homes[0][: -len("en/")]
    assert f"{base}zh/" in locations["zh"], "the two languages were built for different SITE_URLs"
    return base


@pytest.fixture(scope="module")
def browser(site: Path) -> Iterator[SiteBrowser]:
    """Chromium and the served site, for this module (then the browser is closed)."""
    with serve(site) as local, sync_playwright() as playwright:
        site_browser = SiteBrowser(playwright, site, local)
        try:
            yield site_browser
        finally:
            site_browser.close()


def _serious(violations: list[dict]) -> list[str]:
    """axe-core's violations (of the impacts in SERIOUS), one line per rule, a few nodes each."""
    lines = []
    for violation in violations:
        upstream = UPSTREAM_AXE.get(violation["id"])
        found = [n for n in violation["nodes"] if not upstream or upstream not in n["html"]]
        if violation["impact"] in SERIOUS and found:
            nodes = "; ".join(
                f"{node['target']} {node['failureSummary'].splitlines()[-1].strip()}"
                for node in found[:3]
            )
            count = len(found)
            lines.append(f"{violation['id']} ({violation['impact']}, {count} nodes): {nodes}")
    return lines


def test_every_built_page_is_visited(site: Path) -> None:
    built = sorted(
        f"{path.parent.relative_to(site).as_posix()}/"
        for lang in LANGUAGES
        for path in (site / lang).rglob("index.html")
    )
    assert built == PAGES
    tutorials = [f"{lang}/tutorials/{s.stem}/" for lang in LANGUAGES for s in sources(lang)]
    assert tutorials == TUTORIALS


@pytest.mark.parametrize("path", PAGES)
def test_page_loads_cleanly(browser: SiteBrowser, path: str) -> None:
    visit = browser.visit(path)
    assert visit.log.external == [], "requests to other hosts"
    assert visit.log.failed == [], "failed requests"
    assert visit.log.console == [], "console errors"
    assert visit.data["lang"] == path.split("/")[0]
    assert visit.data["scheme"] == "default"
    assert visit.data["hasArticle"]


@pytest.mark.parametrize("path", PAGES)
def test_images_load(browser: SiteBrowser, path: str) -> None:
    # Their alt texts are checked in the HTML (test_site.py).
    for image in browser.visit(path).data["images"]:
        assert image["width"] > 0, f"{image['src']} did not load"


@pytest.mark.parametrize("path", PAGES)
def test_no_serious_accessibility_violations(browser: SiteBrowser, path: str) -> None:
    visit = browser.visit(path)
    assert _serious(visit.violations) == []


@pytest.mark.parametrize("path", DARK_PAGES)
def test_dark_palette_is_accessible(browser: SiteBrowser, path: str) -> None:
    visit = browser.visit(path, scheme="dark")
    assert visit.data["scheme"] == "slate", "the dark palette did not follow the system"
    assert visit.log.failed == visit.log.external == visit.log.console == []
    assert _serious(visit.violations) == []


def _choose_language(page: Page, lang: str) -> None:
    page.locator(".md-header__option .md-select").hover()
    page.locator(f'.md-select__link[hreflang="{lang}"]').click()


@pytest.mark.parametrize("path", SWITCHER_PAGES)
def test_language_switcher_keeps_the_page(browser: SiteBrowser, path: str) -> None:
    chinese = "zh/" + path.removeprefix("en/")
    with browser.context() as (page, log):
        page.goto(browser.base + path, wait_until="networkidle")  # the sitemaps are loaded
        _choose_language(page, "zh")
        page.wait_for_url(browser.base + chinese, wait_until="networkidle")
        assert page.evaluate("document.documentElement.lang") == "zh"
        _choose_language(page, "en")
        page.wait_for_url(browser.base + path)
        assert page.evaluate("document.documentElement.lang") == "en"
    assert log.external == log.failed == log.console == []


# A section deep in a page, in each kind of page: the switch lands on it.
DEEP_ANCHORS = [
    "en/tutorials/02-pytorch-lesson/#4-the-training-loop",
    "en/torch/mseloss/#input-and-target-shapes",
    "en/reference/train/#linreg.train.train",
]


@pytest.mark.parametrize("address", DEEP_ANCHORS)
def test_language_switcher_keeps_the_section(browser: SiteBrowser, address: str) -> None:
    path, _, anchor = address.partition("#")
    with browser.context() as (page, log):
        page.goto(browser.base + address, wait_until="networkidle")
        _choose_language(page, "zh")
        page.wait_for_url(f"{browser.base}zh/{path.removeprefix('en/')}#{anchor}")
        page.wait_for_load_state("networkidle")
        page.evaluate(_STILL)
        # The section is where the reader was: its heading at the top of the window.
        top = page.locator(f"[id='{anchor}']").evaluate("e => e.getBoundingClientRect().top")
        heading = page.locator(f"[id='{anchor}']").inner_text()
    assert log.external == log.failed == log.console == []
    assert 0 <= top < 200, f"the section is {top:.0f} px from the top of the window"
    assert heading.strip()


def _article_text(browser: SiteBrowser, path: str) -> str:
    """The text of a page's article (its content, without the navigation around it)."""
    _, _, body = browser.fetch(browser.base + path)
    article = re.search(r"<article\b.*?</article>", body.decode("utf-8"), re.S)
    assert article, path
    return html.unescape(re.sub(r"<[^>]+>", "", article.group(0)))


# Where the search's separator (mkdocs.yml) starts a term: after white space, a hyphen,
# code punctuation or a dot (not a decimal point), and inside camelCase (MSE|Loss).
_TERM_START = r"""(?:^|[\s\-,:!=\[\]()"`/]|\.(?!\d)|(?<=[A-Za-z0-9])(?=[A-Z][a-z]))"""


def _has_word(text: str, lang: str, word: str) -> bool:
    # English words match at the start of a search term, as the search's prefix match
    # does (loss, losses, MSELoss); a term loses its leading punctuation.
    pattern = word if lang == "zh" else rf"{_TERM_START}\W*(?i:{re.escape(word)})"
    return re.search(pattern, text) is not None


def _search(browser: SiteBrowser, lang: str, query: str) -> list[str]:
    """Type a query on the language's home page; return the pages found, best first."""
    if (lang, query) not in browser.searches:
        browser.searches[lang, query] = _type_search(browser, lang, query)
    return browser.searches[lang, query]


# The theme adds results when the list is scrolled to its end, and only when it was not at
# its end before: scroll to the top and let a frame pass first, as a reader's scrolling would.
_SCROLL_TO_THE_END = """async e => {
  e.scrollTo(0, 0);
  await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
  e.scrollTo(0, e.scrollHeight);
}"""


def _type_search(browser: SiteBrowser, lang: str, query: str) -> list[str]:
    with browser.context() as (page, log):
        page.goto(browser.base + f"{lang}/", wait_until="networkidle")
        page.locator("input.md-search__input").fill(query)
        page.keyboard.press("End")  # the theme reads the box on keyup
        items = page.locator(".md-search-result__item")
        items.first.wait_for()
        meta = page.locator(".md-search-result__meta").inner_text()
        count = int(re.search(r"\d+", meta).group())  # "12 matching documents"
        while items.count() < count:  # the theme shows 10 results, then 4 more per scroll
            shown = items.count()
            page.locator(".md-search__scrollwrap").evaluate(_SCROLL_TO_THE_END)
            page.wait_for_function(
                f"document.querySelectorAll('.md-search-result__item').length > {shown}"
            )
        links = page.eval_on_selector_all(  # an item is a page (its sections inside)
            ".md-search-result__item", "els => els.map(e => e.querySelector('a').href)"
        )
        marks = page.eval_on_selector_all(
            ".md-search-result__item", "els => els.map(e => e.querySelectorAll('mark').length)"
        )
    assert log.external == log.failed == log.console == []
    assert len(links) == count, meta
    assert all(marks), f"results without a highlighted match: {marks}"
    base_path = urlsplit(browser.base).path
    found = [urlsplit(url).path.removeprefix(base_path) for url in links]
    assert all(url.startswith(browser.base) for url in links), links
    return found


@pytest.mark.parametrize(("lang", "query"), SEARCHES)
def test_search_finds_every_page_with_the_word(browser: SiteBrowser, lang: str, query: str) -> None:
    found = _search(browser, lang, query)
    assert found, "no result"
    outside = [path for path in found if not (path.startswith(f"{lang}/") and path in PAGES)]
    assert outside == [], "results that are not pages of this language"
    pages = [path for path in PAGES if path.startswith(f"{lang}/")]
    with_word = [p for p in pages if _has_word(_article_text(browser, p), lang, query)]
    assert len(with_word) >= 3, "too few pages have the word to test the search"
    assert set(with_word) - set(found) == set(), "pages with the word that were not found"


# The theme's worker cuts a Chinese query into every indexed word inside it (损失函数 into
# 损失函数, 损失 and 函数) and matches any of them; docs/shared/assets/js/search.js keeps only
# the results that contain the query as written. Without it, pages with only 损失 were found.
@pytest.mark.parametrize(("lang", "query"), SEARCHES)
def test_search_finds_only_pages_with_the_word(browser: SiteBrowser, lang: str, query: str) -> None:
    found = _search(browser, lang, query)
    without = [p for p in found if not _has_word(_article_text(browser, p), lang, query)]
    assert without == [], f"results without {query!r}"


def test_copy_button_copies_the_code(browser: SiteBrowser) -> None:
    origin = browser.base.rstrip("/")
    origin = f"{urlsplit(origin).scheme}://{urlsplit(origin).netloc}"
    with browser.context() as (page, log):
        page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=origin)
        page.goto(browser.base + "en/tutorials/02-pytorch-lesson/", wait_until="networkidle")
        block = page.locator("article pre").first
        code = block.locator("code").inner_text()
        block.hover()
        block.locator("button.md-code__button[data-md-type='copy']").click()
        page.wait_for_function("navigator.clipboard.readText().then(text => text.length > 0)")
        copied = page.evaluate("navigator.clipboard.readText()")
    assert log.external == log.failed == log.console == []
    assert "import torch" in code
    assert copied.rstrip("\n") == code.rstrip("\n")


# `content.lazy` (mkdocs.yml): the theme sets a code block up (its copy button, whether
# it scrolls) when the block first comes into view, not every block at load, which was
# most of the long tutorials' blocking time on mobile. Every block is focusable until then.
def test_code_blocks_are_set_up_as_they_come_into_view(browser: SiteBrowser) -> None:
    copy = "button.md-code__button[data-md-type='copy']"
    with browser.context() as (page, log):
        page.goto(browser.base + "en/tutorials/04-loss-surface/", wait_until="networkidle")
        blocks = page.locator("article pre:not(details pre)")
        first, last = blocks.first, blocks.last
        assert first.locator(copy).count() == 1
        assert last.locator(copy).count() == 0
        assert last.locator("code").get_attribute("tabindex") == "0"
        last.scroll_into_view_if_needed()
        last.locator(copy).wait_for(state="attached", timeout=5000)
    assert log.external == log.failed == log.console == []


# On a phone the theme broke code in table cells anywhere (line_sear|ch_fn='st|rong_wolf|e'):
# extra.css lets it wrap only at its spaces, and a wide table scrolls sideways.
@pytest.mark.parametrize("lang", LANGUAGES)
def test_table_code_wraps_only_at_spaces_on_a_phone(browser: SiteBrowser, lang: str) -> None:
    with browser.context(viewport={"width": 390, "height": 844}) as (page, log):
        page.goto(browser.base + f"{lang}/tutorials/summary/", wait_until="networkidle")
        # Each word of each code in a table cell, with the number of lines it spans.
        lines = page.evaluate(
            r"""[...document.querySelectorAll("article td code")].flatMap(code => {
              const words = [], walker = document.createTreeWalker(code, NodeFilter.SHOW_TEXT);
              for (let text; (text = walker.nextNode()); )
                for (const word of text.data.matchAll(/\S+/g)) {
                  const range = document.createRange();
                  range.setStart(text, word.index);
                  range.setEnd(text, word.index + word[0].length);
                  words.push([word[0], range.getClientRects().length]);
                }
              return words;
            })"""
        )
    assert len(lines) > 20
    assert [word for word, rects in lines if rects != 1] == []
    assert log.external == log.failed == log.console == []


@dataclass
class Download:
    """A tutorial's notebook, downloaded through its button and executed."""

    saved: Path
    log: Log
    executed: nbformat.NotebookNode | None = None
    error: str = ""


def _execute(download: Download) -> None:
    notebook = nbformat.read(download.saved, as_version=4)
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    client = NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(download.saved.parent)}},  # the kernel's cwd
    )
    try:
        client.execute(env=env)
    except CellExecutionError as error:  # a cell raised, and it was not tagged to
        download.error = str(error)
    download.executed = notebook


@pytest.fixture(scope="module")
def downloads(browser: SiteBrowser, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The EXECUTED notebooks, fetched from their download buttons, then run two at a time.

    (Every notebook file is validated against its source in test_site.py.)

    The file is fetched from the button's address rather than through Chromium's
    download manager, which cancelled downloads at random on a busy machine.
    """
    found = {}
    for path in EXECUTED:
        folder = tmp_path_factory.mktemp("notebook")
        with browser.context() as (page, log):
            page.goto(browser.base + path, wait_until="networkidle")
            button = page.locator("a.md-button[download]")
            assert button.count() == 1
            url = urljoin(page.url, button.get_attribute("href") or "")
            status, _, body = browser.fetch(url)
            assert status == 200, url
            saved = folder / url.rsplit("/", 1)[-1]
            saved.write_bytes(body)
        found[path] = Download(saved, log)
    with ThreadPoolExecutor(max_workers=2) as pool:  # one kernel per core
        list(pool.map(_execute, found.values()))
    return found


@pytest.mark.slow
@pytest.mark.parametrize("path", EXECUTED)
def test_downloaded_notebook_runs(downloads: dict[str, Download], path: str) -> None:
    download = downloads[path]
    assert download.log.external == download.log.failed == download.log.console == []
    assert download.saved.name == path.rstrip("/").split("/")[-1] + ".ipynb"
    nbformat.validate(nbformat.read(download.saved, as_version=4))
    assert download.error == ""
    assert download.executed is not None
    code = [c for c in download.executed.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), "a cell did not run"
    errors = [
        o.ename
        for c in code
        if "raises-exception" not in c.metadata.get("tags", [])
        for o in c.outputs
        if o.output_type == "error"
    ]
    assert errors == []


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("name", list(SCREENSHOT_PAGES))
def test_screenshot(browser: SiteBrowser, name: str, scheme: str) -> None:
    shots = browser.visit(SCREENSHOT_PAGES[name], scheme).screenshots
    assert shots[0] == SCREENSHOTS / f"{name}-{scheme}.png"
    if "lesson" in name:
        assert len(shots) == 2, "the lesson shows no figure"
    for shot in shots:
        assert _png_size(shot) == (VIEWPORT["width"], VIEWPORT["height"])
        assert shot.stat().st_size > 20_000, f"{shot} is nearly empty"
        image = Image.open(io.BytesIO(shot.read_bytes())).convert("RGB")
        colours = image.getcolors(maxcolors=1 << 16)
        assert colours is None or len(colours) > 200, f"{shot} has {len(colours)} colours"
        # The page background, sampled at the right edge of the content: light or dark.
        grey = image.convert("L").crop((1040, 300, 1280, 800))
        mean = sum(grey.histogram()[i] * i for i in range(256)) / (grey.width * grey.height)
        assert (mean > 180) if scheme == "light" else (mean < 90), f"{shot}: mean grey {mean:.0f}"


def _requests_for_search(requests: list[str]) -> list[str]:
    return [u for u in requests if re.search(r"/search/search_index\.json|/workers/search\.", u)]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_search_index_loads_when_the_search_is_used(browser: SiteBrowser, lang: str) -> None:
    # docs/shared/assets/js/search.js: no page load pays for the search index.
    with browser.context() as (page, log):
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        browser.open(page, f"{lang}/tutorials/")
        at_load = _requests_for_search(requests)
        page.locator("input.md-search__input").fill("SGD")
        page.keyboard.press("End")
        page.locator(".md-search-result__item").first.wait_for()
        found = page.locator(".md-search-result__item").count()
    assert log.external == log.failed == log.console == []
    assert at_load == []
    assert len(_requests_for_search(requests)) == 2  # the index and the worker
    assert found >= 3


_SHOWN_FORMULAS = """[...document.querySelectorAll(".md-search-result math")]
  .filter(math => math.getBoundingClientRect().width > 0).length"""


@pytest.mark.parametrize(("lang", "query"), [("en", "loss"), ("zh", "损失函数")])
def test_search_results_show_formulas_not_tex(browser: SiteBrowser, lang: str, query: str) -> None:
    with browser.context() as (page, log):
        browser.open(page, f"{lang}/")
        page.locator("input.md-search__input").fill(query)
        page.keyboard.press("End")
        page.locator(".md-search-result__item").first.wait_for()
        results = page.locator(".md-search-result")
        # Formulas laid out by the browser as MathML (some sit in blocks the theme hides).
        page.wait_for_function(f"{_SHOWN_FORMULAS} > 0")
        formulas = page.evaluate(_SHOWN_FORMULAS)
        text = results.inner_text()
    assert log.external == log.failed == log.console == []
    assert formulas > 0
    assert [d for d in RAW_MATH if d in text] == []


@pytest.mark.parametrize("key", ["s", "/"])
def test_search_keys_load_the_index(browser: SiteBrowser, key: str) -> None:
    with browser.context() as (page, log):
        browser.open(page, "en/torch/")
        with page.expect_response(re.compile(r"/search/search_index\.json$")) as index:
            page.keyboard.press(key)  # the theme's shortcut opens the search
        assert index.value.status == 200
        page.keyboard.type("momentum")
        page.locator(".md-search-result__item").first.wait_for()
    assert log.external == log.failed == log.console == []


def test_page_opened_from_a_search_result_highlights_the_query(browser: SiteBrowser) -> None:
    with browser.context() as (page, log):
        browser.open(page, "zh/tutorials/02-pytorch-lesson/?h=学习率")
        page.locator("mark[data-md-highlight]").first.wait_for()
        marked = page.eval_on_selector_all(
            "mark[data-md-highlight]", "marks => marks.map(m => m.textContent)"
        )
    assert log.external == log.failed == log.console == []
    assert "学习率" in marked


@pytest.mark.parametrize("path", TUTORIALS)
def test_solutions_open_and_close(browser: SiteBrowser, path: str) -> None:
    with browser.context() as (page, log):
        browser.open(page, path)
        solutions = page.locator("article details.success")
        assert solutions.count() >= 3
        for index in range(solutions.count()):
            solution = solutions.nth(index)
            code = solution.locator("pre").first
            assert not code.is_visible(), "a solution is open before the reader opens it"
            solution.locator("summary").click()
            code.wait_for(state="visible")
            assert solution.evaluate("details => details.open")
            solution.locator("summary").click()
            code.wait_for(state="hidden")
            assert not solution.evaluate("details => details.open")
        # The keyboard opens one too: Tab to its summary, then Enter.
        first = solutions.first.locator("summary")
        first.focus()
        page.keyboard.press("Enter")
        solutions.first.locator("pre").first.wait_for(state="visible")
    assert log.external == log.failed == log.console == []
