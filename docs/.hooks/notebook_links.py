"""MkDocs hook: under a notebook page's title, download and Open-in-Colab links, its source and its test.

The committed ``.ipynb`` is the page's source; mkdocs-jupyter runs it and (``include_source``) copies
it beside the page, which the download link points to.
"""

from __future__ import annotations

from pathlib import PurePosixPath

GITHUB = "https://github.com/"
COLAB = "https://colab.research.google.com/github/"


def colab_url(repo_url: str, notebook: str) -> str:
    """The Colab address that opens ``notebook`` (a path in the repository) from its main branch on GitHub."""
    return f"{COLAB}{repo_url.rstrip('/').removeprefix(GITHUB)}/blob/main/{notebook}"


def on_page_content(html, page, config, files):
    if not page.file.src_uri.endswith(".ipynb"):
        return html
    notebook = f"docs/{page.file.src_uri}"
    source = f"{config['repo_url'].rstrip('/')}/blob/main/{notebook}"
    links = (
        '<p class="notebook-links">'
        f'<a class="md-button" href="{PurePosixPath(page.file.src_uri).name}" download>Download the notebook</a> '
        f'<a class="md-button" href="{colab_url(config["repo_url"], notebook)}">Open in Colab</a><br>'
        f'<small class="snippet-source">Source: <a href="{source}"><code>{notebook}</code></a>'
        f" · tested by <code>python3 dev.py test {notebook}</code></small></p>"
    )
    title_end = html.find("</h1>")
    if title_end < 0:
        return links + html
    cut = title_end + len("</h1>")
    return html[:cut] + links + html[cut:]
