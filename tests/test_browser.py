"""The built site in a real browser: every page loads without errors, draws its figures, searches,
switches to dark mode and passes axe-core's serious and critical rules; every internal link and
anchor resolves; no page weighs over a megabyte or requests anything from another host.

A headless Chromium or Chrome, the one ``find_browser`` in dev.py finds on PATH (``python3 dev.py
setup`` installs Debian's chromium where it may), is driven by the PyPI package ``playwright``,
which never downloads a browser of its own here. The site from the session's one build (``site``
in tests/conftest.py) is served on 127.0.0.1 under the path of ``site_url``, as GitHub Pages
serves it, so that the 404 page, whose links are root-relative, is tested like any other. Requests
off that origin (a web font, say) are answered empty, so that the results do not depend on the
network, and fail the tests: the site must work offline. Screenshots and reports go to
build/browser/; external links are listed there for ``tools/check_external_links.py``, which only
the online workflow runs.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from importlib.resources import files
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest
import yaml
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

from dev import NO_BROWSER, find_browser
from mi_course.checkers.plotly import lightness
from tests.conftest import ROOT, SUMMARY
from tools import check_external_links

REQUIRE_BROWSER = os.environ.get("MI_COURSE_REQUIRE_BROWSER") == "1"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
OUT = ROOT / "build" / "browser"
SITE_PATH = urlsplit(yaml.safe_load((ROOT / "mkdocs.yml").read_text())["site_url"]).path  # "/mi-course/"
MAX_PAGE_BYTES = 1_000_000
# Loaded by every page with a figure of their kind; counted as shared, never against one page.
SHARED_BUNDLES = ("assets/javascripts/plotly.min.js", "assets/javascripts/circuitsvis.js")
SEARCH_TERM = "induction"
BROWSERS = 2  # browsers visiting the pages at once
DESKTOP_PX = 1280  # a browser window's width, unless a test asks for a phone's
FAILING_IMPACTS = ("serious", "critical")
NO_TRANSITIONS = "*, *::before, *::after { transition: none !important; animation: none !important; }"
COLOUR_RULES = ["color-contrast", "link-in-text-block"]  # what axe checks again in the dark scheme
AXE_SOURCE = files("axe_playwright_python").joinpath("axe.min.js").read_text(encoding="utf-8")
# Tags whose href/src the browser fetches to show the page (an <a href> is only followed on a click).
LOADING_TAGS = {"script", "img", "iframe", "source", "video", "audio", "embed", "track", "input"}
LOADING_RELS = {"stylesheet", "icon", "shortcut", "apple-touch-icon", "preload", "modulepreload", "manifest"}
# A page with figures takes ~20 s to load on a busy 2-core machine: Chromium draws WebGL in software.
TIMEOUT_MS = 90_000
FIGURE_TIMEOUT_MS = 30_000  # after the load event
TIMINGS: dict[str, float] = {}

FIGURES_RENDERED = """() => ({
  plotly: [document.querySelectorAll('.plotly-graph-div').length,
           [...document.querySelectorAll('.plotly-graph-div')].filter(d => d.querySelector('svg.main-svg')).length],
  circuitsvis: [document.querySelectorAll('div.mi-course-circuitsvis').length,
                [...document.querySelectorAll('div.mi-course-circuitsvis')].filter(d => d.children.length > 0).length],
})"""
ALL_FIGURES_RENDERED = f"() => {{ const f = ({FIGURES_RENDERED})(); return f.plotly[0] === f.plotly[1] && f.circuitsvis[0] === f.circuitsvis[1]; }}"
# Maths: each .arithmatex element holds KaTeX's output and none of pymdownx.arithmatex's TeX delimiters.
# Diagrams: each <img> of docs/assets/diagrams/ loaded and carries alt text.
MATHS_AND_DIAGRAMS = r"""() => ({
  maths: [document.querySelectorAll('.arithmatex').length,
          [...document.querySelectorAll('.arithmatex')].filter(
            e => e.querySelector('.katex') && !/\\[(\[]|\$\$/.test(e.textContent)).length],
  diagrams: [...document.querySelectorAll('img[src*="assets/diagrams/"]')].map(
    i => ({src: i.getAttribute('src'), loaded: i.complete && i.naturalWidth > 0, alt: (i.getAttribute('alt') || '').trim()})),
})"""
# Each drawn Plotly figure's paper and text colour, as Plotly resolved them (docs/javascripts/figure-theme.js).
FIGURE_COLOURS = """() => [...document.querySelectorAll('.js-plotly-plot')].filter(d => d._fullLayout).map(
  d => ({paper: d._fullLayout.paper_bgcolor, text: d._fullLayout.font.color}))"""
LOAD_EVENT_END = "() => { const n = performance.getEntriesByType('navigation')[0]; return n ? n.loadEventEnd : 0; }"
RUN_AXE = """async (rules) => {
  const options = rules ? {resultTypes: ['violations'], runOnly: {type: 'rule', values: rules}} : {resultTypes: ['violations']};
  const results = await axe.run(document, options);
  return results.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                       targets: v.nodes.map(n => n.target.join(' '))}));
}"""


# --- the site's files and links, read from the built HTML ------------------------------------------


@dataclass
class Link:
    tag: str
    attribute: str
    value: str
    rel: str = ""

    @property
    def loads(self) -> bool:
        """Whether the browser fetches it to show the page (a script, an image, a stylesheet...)."""
        if self.tag == "link":
            return bool(LOADING_RELS & set(self.rel.lower().split()))
        return self.tag in LOADING_TAGS and self.attribute == "src"


class PageParser(HTMLParser):
    """The ids (anchor targets) and href/src links of one HTML page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[Link] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"])
        if tag == "a" and values.get("name"):
            self.ids.add(values["name"])
        for attribute in ("href", "src"):
            if values.get(attribute) is not None:
                self.links.append(Link(tag, attribute, values[attribute].strip(), values.get("rel") or ""))


@functools.cache
def parse(page: Path) -> PageParser:
    parser = PageParser()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def html_pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def page_url(site: Path, page: Path) -> str:
    """The address path of ``page`` as served: under SITE_PATH, a folder's index.html as the folder."""
    relative = page.relative_to(site).as_posix()
    return SITE_PATH + (relative.removesuffix("index.html") if page.name == "index.html" else relative)


def resolve(site: Path, page: Path, reference: str) -> tuple[Path | None, str] | None:
    """The file of the site that ``reference`` on ``page`` points to (None when there is none) and its
    fragment; None for a reference outside the site (another host, mailto:, data:, javascript:)."""
    target = urlsplit(urljoin(page_url(site, page), reference))
    if target.scheme or target.netloc:
        return None
    path = unquote(target.path)
    if not path.startswith(SITE_PATH):
        return (None, target.fragment)
    file = site / path[len(SITE_PATH) :]
    if path.endswith("/") or file.is_dir():
        file = file / "index.html"
    return (file if file.is_file() else None, target.fragment)


def check_links(site: Path) -> tuple[list[str], set[str]]:
    """Broken internal links and missing anchors across ``site``, and every external http(s) link."""
    broken, external = [], set()
    for page in html_pages(site):
        where = page.relative_to(site).as_posix()
        for link in parse(page).links:
            if not link.value or link.value == "#":
                continue
            resolved = resolve(site, page, link.value)
            if resolved is None:
                if urlsplit(link.value).scheme in ("http", "https"):
                    external.add(link.value)
                continue
            file, fragment = resolved
            if file is None:
                broken.append(f"{where}: <{link.tag} {link.attribute}={link.value!r}> points to no file of the site")
            elif fragment and file.suffix == ".html" and unquote(fragment) not in parse(file).ids:
                broken.append(
                    f"{where}: <{link.tag} {link.attribute}={link.value!r}> names no id of {file.relative_to(site).as_posix()}"
                )
    return broken, external


def page_weights(site: Path) -> tuple[dict[str, dict], dict[str, tuple[int, int]]]:
    """Per page: its HTML bytes and the files that it alone loads; and the shared files (loaded by
    more than one page, or a shared bundle) with their bytes and how many pages load them."""
    loads: dict[str, set[str]] = {}
    for page in html_pages(site):
        files_loaded = set()
        for link in parse(page).links:
            resolved = resolve(site, page, link.value) if link.loads and link.value else None
            if resolved and resolved[0] is not None and resolved[0].suffix != ".html":
                files_loaded.add(resolved[0].relative_to(site).as_posix())
        loads[page.relative_to(site).as_posix()] = files_loaded
    users = Counter(file for files_loaded in loads.values() for file in files_loaded)
    shared = {
        file: ((site / file).stat().st_size, count)
        for file, count in users.items()
        if count > 1 or file in SHARED_BUNDLES
    }
    weights = {}
    for page, files_loaded in loads.items():
        own = {file: (site / file).stat().st_size for file in sorted(files_loaded - set(shared))}
        html_bytes = (site / page).stat().st_size
        weights[page] = {"html": html_bytes, "assets": own, "total": html_bytes + sum(own.values())}
    return weights, dict(sorted(shared.items()))


# --- the browser --------------------------------------------------------------------------------------


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the site under SITE_PATH, as GitHub Pages does; anything else is a 404."""

    def translate_path(self, path):
        path = urlsplit(path).path
        return super().translate_path(
            "/" + path[len(SITE_PATH) :] if path.startswith(SITE_PATH) else "/.outside-the-site"
        )

    def log_message(self, *args):
        pass


@contextmanager
def serve(folder: Path):
    """An HTTP server for ``folder`` on 127.0.0.1; yields its origin (``http://127.0.0.1:PORT``)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Visit:
    """What one page did in the browser; each list or None-able field is one check's finding."""

    url: str
    errors: list[str] = field(default_factory=list)  # console errors and uncaught exceptions
    figures: dict = field(default_factory=dict)  # kind -> [on the page, rendered]
    maths: list[int] = field(default_factory=lambda: [0, 0])  # [formulas on the page, drawn by KaTeX]
    diagrams: list[dict] = field(default_factory=list)  # each diagram <img>: src, loaded, alt
    load_ms: float | None = None
    search: str | None = None  # why searching failed, or None
    palette: str | None = None  # why the dark-mode toggle failed, or None
    violations: list[dict] = field(default_factory=list)  # axe-core's, every impact
    external_requests: list[str] = field(default_factory=list)
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # seconds each step of the visit took
    figure_colours: dict[str, list[dict]] = field(default_factory=dict)  # scheme -> each figure's paper and text

    def failing_violations(self) -> list[dict]:
        return [v for v in self.violations if v["impact"] in FAILING_IMPACTS]


@contextmanager
def browser_context(origin: str, width: int = DESKTOP_PX):
    """One headless Chromium and one context ``width`` px wide; requests off ``origin`` are answered empty and recorded."""
    executable = find_browser()
    if executable is None:
        if REQUIRE_BROWSER:
            pytest.fail(f"MI_COURSE_REQUIRE_BROWSER=1 but {NO_BROWSER}")
        pytest.skip(NO_BROWSER)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=LAUNCH_ARGS, headless=True)
        context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme="light")
        context.set_default_timeout(TIMEOUT_MS)
        context.external_requests = []

        def answer_empty(route):
            context.external_requests.append(route.request.url)
            route.fulfill(status=200, body="")

        context.route(lambda url: not url.startswith(origin + "/"), answer_empty)
        try:
            yield context
        finally:
            context.close()
            browser.close()


def search(page) -> str | None:
    """Type SEARCH_TERM into Material's search box; None when a result shows, else what went wrong."""
    box = page.locator("input.md-search__input")
    if box.count() == 0:
        return "no search box"
    if not box.is_visible():  # a narrow window hides the box behind a button
        page.locator('label[for="__search"]').first.click()
    box.click()
    box.press_sequentially(SEARCH_TERM)
    try:
        page.locator(".md-search-result__item").first.wait_for(state="visible", timeout=30_000)
    except PlaywrightError:
        meta = page.locator(".md-search-result__meta").first
        return f"no result for {SEARCH_TERM!r} (search says: {meta.inner_text() if meta.count() else 'nothing'})"
    page.keyboard.press("Escape")
    return None


def click_palette_toggle(page, wanted: str) -> str | None:
    """Click the palette toggle once and wait for ``body[data-md-color-scheme]`` to become ``wanted``."""
    before = page.get_attribute("body", "data-md-color-scheme")
    toggle = page.locator('form[data-md-component="palette"] label:visible')
    if toggle.count() != 1:
        return f"{toggle.count()} visible palette toggles"
    toggle.click()
    try:
        page.wait_for_function(
            f"() => document.body.getAttribute('data-md-color-scheme') === {wanted!r}", timeout=5_000
        )
    except PlaywrightError:
        return (
            f"the scheme went from {before!r} to {page.get_attribute('body', 'data-md-color-scheme')!r}, not {wanted!r}"
        )
    return None


def visit(context, url: str, screenshot: Path | None, figure_timeout_ms: int = FIGURE_TIMEOUT_MS) -> Visit:
    """Load ``url`` in a fresh tab and run every check on it."""
    start = time.perf_counter()
    result = Visit(url)
    first_external = len(context.external_requests)
    page = context.new_page()
    page.on("console", lambda message: message.type == "error" and result.errors.append(f"console: {message.text}"))
    page.on("pageerror", lambda error: result.errors.append(f"uncaught: {error}"))
    clock = [time.perf_counter()]

    def phase(name):
        clock.append(time.perf_counter())
        result.phases[name] = round(clock[-1] - clock[-2], 2)

    try:
        page.goto(url, wait_until="load")
        page.wait_for_function(f"() => ({LOAD_EVENT_END})() > 0")
        result.load_ms = page.evaluate(LOAD_EVENT_END)
        phase("load")
        try:
            page.wait_for_function(ALL_FIGURES_RENDERED, timeout=figure_timeout_ms)
        except PlaywrightError:
            pass  # the counts below tell which did not render
        result.figures = page.evaluate(FIGURES_RENDERED)
        result.figure_colours["default"] = page.evaluate(FIGURE_COLOURS)
        drawn = page.evaluate(MATHS_AND_DIAGRAMS)
        result.maths, result.diagrams = drawn["maths"], drawn["diagrams"]
        phase("figures")
        if screenshot:
            page.screenshot(path=str(screenshot))
            phase("screenshot")
        page.evaluate(AXE_SOURCE)
        result.violations = [v | {"scheme": "default"} for v in page.evaluate(RUN_AXE, None)]
        phase("axe")
        # Dark mode: the toggle must switch to slate and back; in slate, axe checks the colours again,
        # with transitions off so that it reads the final colours.
        page.add_style_tag(content=NO_TRANSITIONS)
        result.palette = click_palette_toggle(page, "slate")
        if result.palette is None:
            result.figure_colours["slate"] = page.evaluate(FIGURE_COLOURS)
            result.violations += [v | {"scheme": "slate"} for v in page.evaluate(RUN_AXE, COLOUR_RULES)]
            result.palette = click_palette_toggle(page, "default")
        phase("dark mode")
        result.search = search(page)
        phase("search")
    except PlaywrightError as error:
        result.errors.append(f"the visit itself failed: {error}")
    finally:
        page.close()
    result.external_requests = context.external_requests[first_external:]
    result.seconds = time.perf_counter() - start
    return result


@pytest.fixture(scope="module")
def visits(site) -> dict[str, Visit]:
    """Every HTML page of the built site, visited once in one browser; screenshots saved as it goes."""
    screenshots = OUT / "screenshots"
    shutil.rmtree(screenshots, ignore_errors=True)
    screenshots.mkdir(parents=True)
    pages = html_pages(site)
    results: dict[str, Visit] = {}
    start = time.perf_counter()
    with serve(site) as origin:

        def visit_all(share: list[Path]) -> None:
            # One browser per thread: Playwright's sync API may not be shared between threads.
            with browser_context(origin) as context:
                for page in share:
                    name = page.relative_to(site).as_posix()
                    shot = screenshots / (name.removesuffix(".html").replace("/", "__") + ".png")
                    results[name] = visit(context, origin + page_url(site, page), shot)

        if find_browser() is None:
            visit_all(pages)  # skips, or fails under MI_COURSE_REQUIRE_BROWSER=1, saying why
        # Two browsers, each visiting every other page: a page's visit mostly waits on its renderer.
        with ThreadPoolExecutor(BROWSERS) as pool:
            for done in [pool.submit(visit_all, pages[lane::BROWSERS]) for lane in range(BROWSERS)]:
                done.result()
    TIMINGS["browser seconds"] = time.perf_counter() - start
    return {name: results[name] for name in sorted(results)}


def failures(visits: dict[str, Visit], finding) -> dict[str, object]:
    return {name: found for name, v in visits.items() if (found := finding(v))}


# --- the whole site ---------------------------------------------------------------------------------


def test_every_page_loads_without_console_errors(site, visits):
    assert len(visits) == len(html_pages(site)) >= 15
    assert not (bad := failures(visits, lambda v: v.errors)), bad


def test_every_figure_renders(visits):
    assert not (bad := failures(visits, lambda v: {k: n for k, n in v.figures.items() if n[0] != n[1]})), bad
    drawn = Counter()
    for v in visits.values():
        drawn.update({kind: n[1] for kind, n in v.figures.items()})
    assert drawn["plotly"] >= 3 and drawn["circuitsvis"] >= 1, drawn


def test_every_figure_follows_the_colour_scheme(visits):
    """Each Plotly figure is transparent on the page, with dark text in the light scheme and light text in the dark one."""

    def off_scheme(visit: Visit) -> list[str]:
        wrong = []
        for scheme, colours in visit.figure_colours.items():
            for colour in colours:
                dark_text = lightness(colour["text"]) < 0.5
                transparent = colour["paper"].replace(" ", "") == "rgba(0,0,0,0)"
                if dark_text != (scheme == "default") or not transparent:
                    wrong.append(f"{scheme}: {colour}")
        return wrong

    assert not (bad := failures(visits, off_scheme)), bad
    assert sum(len(v.figure_colours.get("slate", [])) for v in visits.values()) >= 3, "no figure was seen in slate"


# Each drawn Plotly figure's title, and whether it lies within the figure (figure-theme.js breaks long ones).
TITLES_FIT = """() => [...document.querySelectorAll('.js-plotly-plot')].map(d => {
  const box = d.getBoundingClientRect(), title = d.querySelector('.gtitle');
  const t = title ? title.getBoundingClientRect() : box;
  return {title: title ? title.textContent : '', fits: t.left >= box.left - 1 && t.right <= box.right + 1};
})"""
# Each figure's x tick labels: how many, and how many overlap the label before them (figure-theme.js stands
# crowded ones upright).
TICKS_APART = """() => [...document.querySelectorAll('.js-plotly-plot')].map(d => {
  const boxes = [...d.querySelectorAll('.xtick text')].map(t => t.getBoundingClientRect())
    .filter(b => b.width > 0).sort((a, b) => a.left - b.left);
  const overlapping = boxes.filter((b, i) => i > 0 && b.left < boxes[i - 1].right - 1).length;
  return {title: (d.querySelector('.gtitle') || {}).textContent, labels: boxes.length, overlapping};
})"""
THEMED = "() => [...document.querySelectorAll('.js-plotly-plot')].every(d => d.dataset.miCourseTheme)"
PHONE_PX = 400


def test_figure_titles_and_tick_labels_fit_a_phone_screen(site):
    """At 400 px, a page's long figure titles are broken in two, not cut off at the figure's edge, and the
    17 position labels of its patching heatmap stand upright, every other one, rather than overlap; at
    1280 px all 17 lie flat."""
    page_file = site / "fundamentals" / "step3-activation-patching" / "index.html"
    seen = {}
    with serve(site) as origin:
        for width in (PHONE_PX, DESKTOP_PX):
            with browser_context(origin, width=width) as context:
                page = context.new_page()
                page.goto(origin + page_url(site, page_file), wait_until="load")
                page.wait_for_function(ALL_FIGURES_RENDERED, timeout=FIGURE_TIMEOUT_MS)
                page.wait_for_function(THEMED, timeout=FIGURE_TIMEOUT_MS)
                seen[width] = page.evaluate(TITLES_FIT), page.evaluate(TICKS_APART)
    titles, ticks = seen[PHONE_PX]
    assert titles and all(title["fits"] for title in titles), titles
    assert all(figure["overlapping"] == 0 for figure in ticks), ticks
    patching = [figure["labels"] for figure in ticks if figure["title"].startswith("Share of the gap")]
    wide = [figure["labels"] for figure in seen[DESKTOP_PX][1] if figure["title"].startswith("Share of the gap")]
    assert patching and 8 <= patching[0] < 17 and wide == [17], (patching, wide)


def test_every_formula_is_drawn_and_every_diagram_loads_with_alt_text(visits):
    """KaTeX drew each formula (no TeX delimiters left); each diagram <img> loaded and says what it shows."""
    assert not (bad := failures(visits, lambda v: v.maths if v.maths[0] != v.maths[1] else None)), (
        f"[formulas, drawn] per page: {bad}"
    )
    assert not (bad := failures(visits, lambda v: [d for d in v.diagrams if not d["loaded"] or not d["alt"]])), bad
    assert sum(v.maths[1] for v in visits.values()) >= 10, "fewer formulas than the pages hold: is arithmatex on?"
    assert len({d["src"].rsplit("/", 1)[-1] for v in visits.values() for d in v.diagrams}) >= 5


def test_search_finds_induction_on_every_page(visits):
    assert not (bad := failures(visits, lambda v: v.search)), bad


def test_the_dark_mode_toggle_works_on_every_page(visits):
    assert not (bad := failures(visits, lambda v: v.palette)), bad


def test_no_page_requests_anything_from_another_host(visits):
    """Fonts, scripts, styles and images all come from the site itself, so that it works offline."""
    assert not (bad := failures(visits, lambda v: v.external_requests)), bad


def test_no_serious_or_critical_accessibility_violation(visits):
    bad = failures(visits, Visit.failing_violations)
    lines = [
        f"{page}, {v['scheme']} scheme: {v['id']} ({v['impact']}: {v['help']}) at {len(v['targets'])} places: {'; '.join(v['targets'][:5])}"
        for page, found in bad.items()
        for v in found
    ]
    assert not bad, "\n".join(lines)


def test_every_internal_link_and_anchor_resolves(site):
    broken, external = check_links(site)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "external-links.txt").write_text("".join(f"{url}\n" for url in sorted(external)))
    assert external, "the site links to no outside page: the link parser is broken"
    assert not broken, "\n".join(broken)


def test_no_page_weighs_over_a_megabyte_and_the_report_is_written(site, request):
    """HTML + the files only that page loads <= 1 MB; the shared bundles and theme files are apart."""
    weights, shared = page_weights(site)
    try:
        seen = request.getfixturevalue("visits")
    except (pytest.skip.Exception, pytest.fail.Exception):
        seen = {}  # no browser: the weights are still checked, the report says what is missing
    report = page_report(weights, shared, seen, TIMINGS.get("browser seconds"))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "page-report.md").write_text(report)
    SUMMARY["browser page report (build/browser/page-report.md)"] = report.splitlines()
    heavy = {page: w["total"] for page, w in weights.items() if w["total"] > MAX_PAGE_BYTES}
    assert not heavy, heavy


def page_report(weights, shared, seen: dict[str, Visit], seconds: float | None) -> str:
    kb = lambda n: f"{n / 1000:,.1f} kB"
    lines = [
        "# Page report",
        "",
        "| page | HTML | page-specific assets | total | load (ms) | axe violations |",
        "|---|---:|---|---:|---:|---|",
    ]
    for page, w in sorted(weights.items(), key=lambda item: -item[1]["total"]):
        v = seen.get(page)
        assets = ", ".join(f"{Path(f).name} {kb(b)}" for f, b in w["assets"].items()) or "-"
        load = f"{v.load_ms:,.0f}" if v and v.load_ms else "n/a"
        axe = (
            ", ".join(f"{n} {i}" for i, n in sorted(Counter(x["impact"] for x in v.violations).items())) if v else "n/a"
        )
        lines.append(f"| {page} | {kb(w['html'])} | {assets} | {kb(w['total'])} | {load} | {axe or 'none'} |")
    lines += [
        "",
        "Shared files (loaded by several pages, or a shared figure bundle; not counted against a page):",
        "",
        "| file | size | pages |",
        "|---|---:|---:|",
    ]
    lines += [f"| {file} | {kb(size)} | {count} |" for file, (size, count) in shared.items()]
    heaviest = max(weights.items(), key=lambda item: item[1]["total"])
    lines += ["", f"Heaviest page: {heaviest[0]}, {kb(heaviest[1]['total'])} (limit {kb(MAX_PAGE_BYTES)})."]
    if seen:
        slowest = max(seen.items(), key=lambda item: item[1].load_ms or 0)
        impacts = Counter(x["impact"] for v in seen.values() for x in v.violations)
        rules = Counter(f"{x['id']} ({x['impact']})" for v in seen.values() for x in v.violations)
        external = sorted({url for v in seen.values() for url in v.external_requests})
        lines += [
            f"Slowest page: {slowest[0]}, load event ends at {slowest[1].load_ms:,.0f} ms.",
            f"Browser: {len(seen)} pages in {seconds:.1f} s." if seconds else f"Browser: {len(seen)} pages.",
            "",
            f"axe-core {AXE_VERSION}: {len(seen)} pages; violations by impact: "
            + (", ".join(f"{impact} {n}" for impact, n in sorted(impacts.items())) or "none")
            + (f"; rules: {', '.join(f'{r} x{n}' for r, n in sorted(rules.items()))}" if rules else ""),
            "Requests to other hosts, answered empty (each fails the tests): " + (", ".join(external) or "none"),
        ]
    else:
        lines += ["No browser ran: load times and axe results are missing."]
    return "\n".join(lines) + "\n"


AXE_VERSION = re.search(r"axe v([\d.]+)", AXE_SOURCE[:200]).group(1)


# --- each check can fail: synthetic pages -------------------------------------------------------------


def write(folder: Path, relative: str, text: str) -> Path:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_the_link_check_finds_a_missing_file_and_a_missing_anchor(tmp_path):
    write(
        tmp_path,
        "index.html",
        '<a href="a/">a</a> <a href="a/#there">ok</a> <a href="a/#nowhere">bad</a> '
        '<img src="missing.png"> <a href="https://example.org/x">out</a> <a href="#top" id="top">top</a>',
    )
    write(
        tmp_path,
        "a/index.html",
        f'<h2 id="there">there</h2> <a href="{SITE_PATH}index.html#top">home</a> <a href="../b.html">b</a>',
    )
    broken, external = check_links(tmp_path)
    assert external == {"https://example.org/x"}
    assert broken == [
        "a/index.html: <a href='../b.html'> points to no file of the site",
        "index.html: <a href='a/#nowhere'> names no id of a/index.html",
        "index.html: <img src='missing.png'> points to no file of the site",
    ]


def test_page_weights_count_only_the_files_a_page_alone_loads(tmp_path):
    write(tmp_path, "shared.css", "x" * 10)
    write(tmp_path, "big.png", "x" * 1000)
    write(tmp_path, "index.html", '<link rel="stylesheet" href="shared.css"><img src="big.png"><a href="a/">a</a>')
    write(tmp_path, "a/index.html", '<link rel="stylesheet" href="../shared.css">')
    weights, shared = page_weights(tmp_path)
    assert shared == {"shared.css": (10, 2)}
    assert weights["index.html"]["assets"] == {"big.png": 1000} and weights["a/index.html"]["assets"] == {}


ROBOTO = "https://fonts.googleapis.com/css?family=Roboto:300,400&display=fallback"  # Material's default font


def test_the_browser_checks_catch_errors_unrendered_figures_violations_and_other_hosts(tmp_path):
    write(
        tmp_path,
        "index.html",
        f"""<!doctype html><html><head><title>broken</title>
<link rel="stylesheet" href="{ROBOTO}"></head><body>
<main><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><div class="plotly-graph-div"></div>
<div class="mi-course-circuitsvis"></div>
<script>console.error("injected error"); throw new Error("injected exception");</script></main></body></html>""",
    )
    with serve(tmp_path) as origin, browser_context(origin) as context:
        result = visit(context, origin + SITE_PATH, None, figure_timeout_ms=2_000)
    assert any("injected error" in e for e in result.errors) and any("injected exception" in e for e in result.errors)
    assert result.figures == {"plotly": [1, 0], "circuitsvis": [1, 0]}
    assert "image-alt" in {v["id"] for v in result.failing_violations()}
    assert result.search == "no search box" and result.palette
    assert set(result.external_requests) == {ROBOTO}


def test_a_missing_browser_skips_with_how_to_install_it_but_fails_where_required(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no browser on it
    for required, outcome in ((False, pytest.skip.Exception), (True, pytest.fail.Exception)):
        monkeypatch.setattr(sys.modules[__name__], "REQUIRE_BROWSER", required)
        with pytest.raises(outcome, match="sudo apt-get install chromium"), browser_context("http://127.0.0.1:9"):
            pass


class _StatusHandler(http.server.BaseHTTPRequestHandler):
    """Answers /NNN with status NNN."""

    def do_HEAD(self):
        self.send_response(int(self.path.strip("/")))
        self.end_headers()

    do_GET = do_HEAD

    def log_message(self, *args):
        pass


def test_the_external_link_check_fails_on_a_dead_link_only(tmp_path, capsys):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _StatusHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        links = write(tmp_path, "links.txt", f"{origin}/200\n{origin}/403\n")
        assert check_external_links.main([str(links), "--pause", "0"]) == 0
        links.write_text(f"{origin}/200\n{origin}/404\n")
        assert check_external_links.main([str(links), "--pause", "0"]) == 1
        assert f"broken: {origin}/404 (404)" in capsys.readouterr().out
    finally:
        server.shutdown()
        server.server_close()


def test_a_ticked_criterion_stays_ticked_and_shows_on_the_progress_page(site):
    """Ticks live in localStorage: tick on a step's page, reload, and the progress page counts it."""
    with serve(site) as origin, browser_context(origin) as context:
        page = context.new_page()
        step_page = origin + page_url(site, site / "fundamentals" / "step1-ml-prerequisites" / "index.html")
        page.goto(step_page)
        box = page.locator('input[data-progress-key="step1:0"]')
        assert not box.is_checked()
        box.check()
        assert "1 of 2 criteria ticked" in page.locator(".progress .progress-summary").inner_text()
        page.reload()
        assert page.locator('input[data-progress-key="step1:0"]').is_checked(), "the tick did not survive a reload"
        page.goto(origin + page_url(site, site / "progress" / "index.html"))
        assert page.locator('input[data-progress-key="step1:0"]').is_checked()
        assert not page.locator('input[data-progress-key="step1:1"]').is_checked()
        assert page.locator(".progress-total").inner_text().startswith("All steps: 1 of ")
        page.locator('input[data-progress-key="step1:0"]').uncheck()
        page.goto(step_page)
        assert not page.locator('input[data-progress-key="step1:0"]').is_checked(), "unticking did not stick"


def test_hovering_a_glossary_term_shows_its_definition(site):
    with serve(site) as origin, browser_context(origin) as context:
        page = context.new_page()
        page.goto(origin + page_url(site, site / "fundamentals" / "step4-key-concepts" / "index.html"))
        term = page.locator("article abbr[title]").first
        definition = term.get_attribute("title")
        term.scroll_into_view_if_needed()
        term.hover()
        tooltip = page.locator(".md-tooltip, .md-tooltip2").filter(has_text=definition[:40])
        tooltip.first.wait_for(state="visible", timeout=5000)
