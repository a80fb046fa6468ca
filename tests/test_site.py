"""The strict site build: snippets expanded, notebook pages run and linked, figures' scripts served once.

The fixture ``site`` (tests/conftest.py) builds the site once for the whole session.
"""

import html
import json
import re
from pathlib import Path

import pytest
import yaml

from site_tools import runs
from site_tools.pages import markdown_pages, notebook_pages

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
MKDOCS = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
NOTEBOOKS = notebook_pages(ROOT)
PLOTTING_PAGE = Path("fundamentals/step3-plotting/index.html")
MAX_PAGE_BYTES = 1_000_000
# Each bundle's place on the site and a string that only the bundle holds.
BUNDLES = {
    "assets/javascripts/plotly.min.js": b"* plotly.js v",
    "assets/javascripts/circuitsvis.js": b"var CircuitsVis=",
}
CDNS = ("unpkg.com", "cdn.plot.ly", "jsdelivr.net")
SCRIPT_SRC = re.compile(r'<script src="([^"]+)"></script>')


def html_pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def page_of(notebook: Path) -> Path:
    return notebook.relative_to(DOCS).with_suffix("") / "index.html"


def test_site_builds_strict_with_every_snippet_expanded(site):
    step1 = (site / "fundamentals" / "step1-ml-prerequisites" / "index.html").read_text()
    assert "8&lt;" not in step1, "an include line was left unexpanded"
    assert "class MLP(nn.Module):" in html.unescape(re.sub(r"<[^>]+>", "", step1))
    command = "python3 dev.py test docs/fundamentals/step1-ml-prerequisites.md"
    assert (
        f'snippet-source" title="Tested by {command}">Source: '
        '<a href="https://github.com/mi-course/mi-course/blob/main/snippets/step1/mnist_mlp.py"' in step1
    )
    box = step1.split('<details class="page-verified">', 1)[1].split("</details>", 1)[0]
    assert f"<code>{command}</code>" in box, "the page's test is in its 'How this page is verified' box"
    assert "tested by" not in re.sub(r"<[^>]*>", "", step1), "no test command in the reading flow"


def test_no_page_shows_a_path_of_the_build_machine(site):
    """What a build machine's kernel printed about itself (a warning naming its virtualenv) is not the course."""
    markers = (str(ROOT), "site-packages")
    shown = {
        page.relative_to(site).as_posix(): found
        for page in html_pages(site)
        if (found := [marker for marker in markers if marker in page.read_text(encoding="utf-8")])
    }
    assert not shown, shown


def test_no_page_is_over_a_megabyte(site):
    sizes = {str(page.relative_to(site)): page.stat().st_size for page in html_pages(site)}
    assert sizes and max(sizes.values()) <= MAX_PAGE_BYTES, sorted(sizes.items(), key=lambda item: -item[1])[:3]


def test_figure_bundles_are_served_once_and_never_inlined_or_fetched_from_a_cdn(site):
    for site_path, signature in BUNDLES.items():
        holders = [
            path.relative_to(site).as_posix()
            for path in site.rglob("*")
            if path.is_file() and signature in path.read_bytes()
        ]
        assert holders == [site_path], f"{signature!r} should be in {site_path} alone, found in {holders}"
    for page in html_pages(site):
        text = page.read_text()
        assert not [cdn for cdn in CDNS if cdn in text], f"{page.relative_to(site)} references a CDN"


def test_the_plotting_page_draws_its_figures_with_the_scripts_in_its_head(site):
    page = (site / PLOTTING_PAGE).read_text()
    head, body = page.split("</head>", 1)
    assert SCRIPT_SRC.findall(head)[:2] == [
        "../../assets/javascripts/plotly.min.js",
        "../../assets/javascripts/circuitsvis.js",
    ]
    assert body.count('class="plotly-graph-div"') == body.count("Plotly.newPlot(") == 3
    assert 'class="mi-course-circuitsvis"' in body and "CircuitsVis.render(" in body
    index = (site / "index.html").read_text()
    assert "plotly.min.js" not in index and "circuitsvis.js" not in index, "a page without figures loads no bundle"


def test_a_markdown_page_draws_the_figure_of_every_snippet_that_shows_one(site):
    """Each included snippet that calls show() (but needs no network) gets the figures its test run recorded."""
    checked = 0
    for page in markdown_pages(ROOT):
        for snippet in page.snippets:
            if not snippet.draws_figure or snippet.needs_network:
                continue
            run = runs.current(ROOT, runs.ALONE, snippet.name, snippet.script)
            assert run is not None and run.figures, runs.missing(
                f"snippets/{snippet.name}", runs.ALONE, f"python3 dev.py test {page.path.relative_to(ROOT)}"
            )
            built = (site / page.path.relative_to(DOCS).with_suffix("") / "index.html").read_text()
            code_end = built.index(f"snippets/{snippet.name}</code>")
            figure = built.find('<div class="snippet-figure">', code_end)
            drawn = built[figure : figure + 2000]
            kind = (
                "plotly.min.js"
                if 'class="plotly-graph-div"' in drawn
                else "circuitsvis.js"
                if 'class="mi-course-circuitsvis"' in drawn
                else None
            )
            assert figure > 0 and kind, f"no figure under {snippet.name}"
            assert run.figures[0][:200] in built[figure : figure + 2000 + len(run.figures[0])], (
                "not the recorded figure"
            )
            assert f"../../assets/javascripts/{kind}" in built.split("</head>")[0]
            checked += 1
    assert checked >= 4  # phase change, superposition, the concrete problem's per-character loss, and the SAE's latents


def test_every_script_a_page_loads_resolves_to_a_file_of_the_site(site):
    bundles_loaded = 0
    for page in html_pages(site):
        if page.name == "404.html":
            continue  # served at any address, so MkDocs writes it with root-relative paths
        for source in SCRIPT_SRC.findall(page.read_text()):
            if source and "://" not in source:
                assert (page.parent / source).resolve().is_file(), f"{page.relative_to(site)} loads missing {source}"
                bundles_loaded += any(source.endswith(site_path) for site_path in BUNDLES)
    assert bundles_loaded >= len(BUNDLES)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.name)
def test_a_notebook_page_links_its_download_colab_and_test(site, notebook):
    source = notebook.relative_to(ROOT).as_posix()
    page = site / page_of(notebook)
    text = page.read_text()
    assert f'href="{notebook.name}" download>' in text and (page.parent / notebook.name).is_file()
    repository = MKDOCS["repo_url"].rstrip("/").removeprefix("https://github.com/")
    assert f'href="https://colab.research.google.com/github/{repository}/blob/main/{source}">Open in Colab' in text
    box = text.split('<details class="page-verified">', 1)[1].split("</details>", 1)[0]
    assert "How this page is verified" in box and f"<code>python3 dev.py test {source}</code>" in box
    assert "tested by" not in re.sub(r"<[^>]*>", "", text), "no test command in the reading flow"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.name)
def test_a_notebook_starts_with_the_install_cell_that_runs_only_in_colab(notebook):
    spec = (ROOT / "snippets" / "colab-install.txt").read_text().strip().removeprefix("pip ")
    first_code = next(cell for cell in json.loads(notebook.read_text())["cells"] if cell["cell_type"] == "code")
    code = "".join(first_code["source"])
    assert 'if "google.colab" in sys.modules:' in code
    assert f"""get_ipython().run_line_magic("pip", '{spec}')""" in code
