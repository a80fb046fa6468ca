"""MkDocs hook: figures on pages, with Plotly's and CircuitsVis' JavaScript served once by the site.

Each bundle is copied from its installed Python package into ``assets/javascripts/`` and loaded in
the ``<head>`` of the pages that hold a figure of its kind, before the figures' own scripts call it.
The figures themselves come from the tests' runs: a snippet's (``snippet_links.py``) and a notebook
page's (``executed_notebooks.py``), both drawn for the site (``mi_course.plotting``).
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

from mkdocs.structure.files import File
from mkdocs.utils import get_relative_url

from mi_course.plotting import CIRCUITSVIS_DIV_CLASS, PLOTLY_DIV_CLASS

# Site path of each bundle: the package that ships it, its path inside, and what marks a page that uses it.
BUNDLES = {
    "assets/javascripts/plotly.min.js": ("plotly", "package_data/plotly.min.js", f'class="{PLOTLY_DIV_CLASS}"'),
    "assets/javascripts/circuitsvis.js": ("circuitsvis", "dist/cdn/iife.js", f'class="{CIRCUITSVIS_DIV_CLASS}"'),
}


def on_files(files, config):
    for site_path, (package, inside, _) in BUNDLES.items():
        bundle = Path(find_spec(package).origin).parent / inside
        files.append(File.generated(config, site_path, abs_src_path=str(bundle)))
    return files


def on_post_page(output, page, config):
    tags = "".join(
        f'<script src="{get_relative_url(site_path, page.url)}"></script>'
        for site_path, (_, _, marker) in BUNDLES.items()
        if marker in output
    )
    return output.replace("</head>", f"{tags}</head>", 1)
