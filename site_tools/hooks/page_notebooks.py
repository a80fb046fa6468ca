"""MkDocs hook: a Colab notebook for every page with Python code, and the links to it under its title.

Notebook pages (``docs/**/*.ipynb``) are their own notebooks: mkdocs-jupyter runs them and
(``include_source``) copies each beside its page; Colab opens the committed file from ``main``.

A Markdown page with Python code (an included snippet or an inline ``python`` block) gets a
notebook generated from it, ``page_notebook()``: the Colab-only install cell first, then the page
in order, prose as markdown cells and each snippet or inline block as a code cell. Each code cell
holds the output its page shows under it, so a learner can compare; a solution's cell is hidden (a
form in Colab, a collapsed input in Jupyter) and a hint is folded (``<details>``), so that an
exercise's answer is not on screen while the learner works on it. Expected-output blocks and the
install ``text`` fence do not become code. The build publishes it beside the page
(``on_files``), and the workflow pushes the same files to the ``colab`` branch, which is where
"Open in Colab" opens them (``python site_tools/hooks/page_notebooks.py OUTDIR`` writes them all).

This module is also where both kinds of page get their links (``on_page_content``), so one
function builds every Colab address.
"""

from __future__ import annotations

import json
import posixpath
import re
import sys
from pathlib import Path, PurePosixPath

from site_tools.hooks.claim_precision import NOTEBOOK_MARK
from site_tools.hooks.prose_numbers import expand_numbers
from site_tools.pages import (
    DOCS_DIR,
    INSTALL_SNIPPET,
    PROSE_CLAIM,
    SNIPPETS_DIR,
    Fence,
    Prose,
    Snippet,
    expand,
    markdown_pages,
    parse,
)

GITHUB = "https://github.com/"
COLAB = "https://colab.research.google.com/github/"
# Colab opens notebooks from GitHub only, and the generated ones are build outputs, not sources: the
# publish workflow force-pushes them, alone, as one commit to this branch. A branch of their own keeps
# generated files out of main's history and reviews, and gives every page a stable Colab address
# (blob/colab/<page path>.ipynb) that always holds the notebook of the deployed site.
COLAB_BRANCH = "colab"
CLAIM_LINE = re.compile(PROSE_CLAIM.pattern + r"\n?", re.DOTALL)  # a claim, and the line break after it
NETWORK_TAG = "requires-network"  # a snippet that needs the network; Colab is online, tests are not
SKIP_TAG = "skipped-by-page-tests"  # an inline block under a pytest.mark.skip marker on the page
# Admonitions (!!! and ???) and content tabs (===): Jupyter renders neither, so each becomes a bold title.
BLOCK_HEADER = re.compile(
    r'^(?P<indent>[ \t]*)(?:!!!|\?\?\?\+?|===\+?)[ \t]*(?P<kind>[\w-]+)?[^"]*(?:"(?P<title>[^"]*)")?\s*$'
)
# A relative link to another page of the site; in a notebook it points to the page on the site instead.
PAGE_LINK = re.compile(r"\]\((?P<target>(?![a-z]+:|#|/)[^)\s#]+\.(?:md|ipynb))(?P<anchor>#[^)\s]*)?\)")
# An image beside the pages (``![alt](../assets/diagrams/x.svg)``): a notebook shows it from the site.
# A figure with a caption, as the pages write it. Jupyter leaves Markdown inside an HTML block as
# text, so the notebook gets the image and its caption as plain Markdown.
FIGURE = re.compile(
    r'<figure markdown="span">\s*(?P<image>!\[.*?\]\(.*?\))\s*<figcaption>(?P<caption>.*?)</figcaption>\s*</figure>',
    re.DOTALL,
)
IMAGE_LINK = re.compile(r"(?P<start>!\[[^\]]*\]\()(?P<target>(?![a-z]+:|/)[^)\s]+)\)")
METADATA = {
    "accelerator": "GPU",
    "colab": {"gpuType": "T4", "provenance": []},
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}
INSTALL_CELL = """\
# In Colab, install the course first; anywhere else this cell does nothing.
import sys

if "google.colab" in sys.modules:
    get_ipython().run_line_magic("pip", {spec!r})"""


def colab_url(repo_url: str, notebook: str, branch: str = "main") -> str:
    """The Colab address that opens ``notebook`` (a path in the repository) from ``branch`` on GitHub."""
    return f"{COLAB}{repo_url.rstrip('/').removeprefix(GITHUB)}/blob/{branch}/{notebook}"


def branch_path(src_uri: str) -> str:
    """Where the notebook of the Markdown page ``src_uri`` (relative to docs/) lies on the colab branch."""
    return str(PurePosixPath(src_uri).with_suffix(".ipynb"))


def site_path(src_uri: str, dest_uri: str) -> str:
    """Where the build publishes the notebook of a page: beside its HTML, named after its source."""
    return posixpath.join(posixpath.dirname(dest_uri), PurePosixPath(src_uri).stem + ".ipynb")


def install_cell(root: Path) -> str:
    """The first cell: the pip line of ``snippets/colab-install.txt``, run in Colab only."""
    spec = (root / SNIPPETS_DIR / INSTALL_SNIPPET).read_text(encoding="utf-8").strip().removeprefix("pip ")
    return INSTALL_CELL.format(spec=spec)


def flatten_blocks(lines: list[str]) -> tuple[list[str], set[int]]:
    """Turn admonitions and tabs into what Jupyter renders, dedented by one level per block.

    A collapsed block (``???``) of prose only, a hint, becomes ``<details>`` with its title as the
    summary, so it stays folded in Colab; any other block becomes a bold title over its body. Returns
    the lines and the indices (in them) of the lines of collapsed blocks that hold Python code:
    solutions, whose cells the notebook hides.
    """
    fences = [part for part in parse(lines) if isinstance(part, Fence)]
    in_fence = {index for fence in fences for index in range(fence.start, fence.end + 1)}
    out: list[str] = []
    hidden: set[int] = set()
    # each enclosing block: its header's indentation, its closing line, whether it hides its code
    open_blocks: list[tuple[int, str, bool]] = []

    def close(indent: int) -> None:
        while open_blocks and indent < open_blocks[-1][0] + 4:
            if closing := open_blocks.pop()[1]:
                out.extend([closing, ""])

    for index, line in enumerate(lines):
        if not line.strip():
            out.append("")
            continue
        indent = len(line) - len(line.lstrip())
        if index not in in_fence:
            close(indent)
        if open_blocks:
            depth = 4 * len(open_blocks)
            line = line[depth:] if line[:depth].isspace() else line.lstrip()
        if index not in in_fence and (header := BLOCK_HEADER.match(line)):
            title = header["title"] if header["title"] is not None else (header["kind"] or "").capitalize()
            body = _block_body(lines, index, indent)
            holds_code = any(fence.start in body and fence.info == "python" for fence in fences)
            if line.lstrip().startswith("??? ") and not holds_code:
                out += [f"{header['indent']}<details><summary>{title}</summary>", ""]
                open_blocks.append((indent, f"{header['indent']}</details>", False))
                continue
            out += [f"{header['indent']}**{title}**", ""] if title else [""]
            open_blocks.append((indent, "", line.lstrip().startswith("??? ")))
            continue
        if any(hides for _, _, hides in open_blocks):
            hidden.add(len(out))
        out.append(line)
    close(0)
    return out, hidden


def _block_body(lines: list[str], header: int, indent: int) -> range:
    """The indices of the lines of the block whose header is ``lines[header]``: indented past it, or blank."""
    end = header + 1
    while end < len(lines) and (not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) >= indent + 4):
        end += 1
    return range(header + 1, end)


def page_url(site_url: str, page_src: str, target: str) -> str:
    """The address on the site of the page that ``target`` (relative to ``page_src``) points to."""
    path = posixpath.normpath(posixpath.join(posixpath.dirname(page_src), target))
    stem = path.rsplit(".", 1)[0]
    stem = stem[: -len("index")] if stem == "index" or stem.endswith("/index") else stem + "/"
    return site_url.rstrip("/") + "/" + stem


def file_url(site_url: str, page_src: str, target: str) -> str:
    """The address on the site of the file (an image) that ``target`` (relative to ``page_src``) names."""
    return site_url.rstrip("/") + "/" + posixpath.normpath(posixpath.join(posixpath.dirname(page_src), target))


def page_notebook(markdown: str, root: Path, page_src: str = "", site_url: str = "") -> dict | None:
    """The notebook (nbformat v4, as a dict) of a Markdown page, or None when it has no Python code.

    Cells follow the page (read with ``site_tools.pages``): prose as markdown cells, each included
    snippet's script as its own code cell (its metadata names it: ``mi_course.snippet``), each inline
    ``python`` block as a code cell. A snippet that needs the network is tagged ``requires-network``.
    ``page_src`` (the page's path under docs/) and ``site_url`` turn relative links to other pages,
    and images beside the pages, into addresses on the site. The prose's number macros are expanded as on the site (``prose_numbers.py``).
    """
    lines, hidden = flatten_blocks(expand_numbers(markdown, page_src).split("\n"))
    cells: list[dict] = []
    prose: list[str] = []

    def add(cell_type: str, source: str, metadata: dict | None = None, output: str | None = None) -> None:
        cell: dict = {
            "cell_type": cell_type,
            "id": f"cell-{len(cells) + 1}",
            "metadata": metadata or {},
            "source": source,
        }
        if cell_type == "code":
            printed = [{"output_type": "stream", "name": "stdout", "text": output + "\n"}] if output else []
            cell |= {"execution_count": None, "outputs": printed}
        cells.append(cell)

    def flush_prose() -> None:
        # A claim on its own line would split the paragraph in Jupyter: the notebook leaves claims out.
        text = re.sub(r"\n{3,}", "\n\n", CLAIM_LINE.sub("", expand("\n".join(prose), root))).strip("\n")
        text = FIGURE.sub(lambda figure: f"{figure['image']}\n\n*{figure['caption'].strip()}*", text)
        if site_url:
            text = PAGE_LINK.sub(
                lambda link: f"]({page_url(site_url, page_src, link['target'])}{link['anchor'] or ''})", text
            )
            text = IMAGE_LINK.sub(
                lambda image: f"{image['start']}{file_url(site_url, page_src, image['target'])})", text
            )
        if text.strip():
            add("markdown", text)
        prose.clear()

    for part in parse(lines):
        if isinstance(part, Prose):
            prose.extend(part.lines)
        elif part.is_output:  # the output the cell prints when run; it is not code
            continue
        elif part.info == "text" and part.includes == [INSTALL_SNIPPET]:
            prose.append(f"{part.indent}*In this notebook it is the first cell, above.*")
        elif part.info != "python":
            prose.extend(lines[part.start : part.end + 1])
        else:
            flush_prose()
            skip = (
                {"tags": [SKIP_TAG], "mi_course": {"skip_reason": part.skip_reason or "no reason given"}}
                if part.skip_reason is not None
                else None
            )
            solution = part.start in hidden
            shown = part.shown_output
            if not part.is_include_block:
                add("code", _hidden(part.text) if solution else part.text, _hiding(skip, solution), shown)
                continue
            for number, name in enumerate(part.includes, start=1):
                snippet = Snippet(name, root)
                metadata: dict = {"mi_course": {"snippet": name}}
                if snippet.needs_network:
                    metadata["tags"] = [NETWORK_TAG]
                    metadata["mi_course"]["twin_model"] = snippet.twin_model
                if skip:
                    metadata["tags"] = [*metadata.get("tags", []), SKIP_TAG]
                    metadata["mi_course"] |= skip["mi_course"]
                script = snippet.script.rstrip("\n")
                last = number == len(part.includes)
                add(
                    "code",
                    _hidden(script) if solution else script,
                    _hiding(metadata, solution),
                    shown if last else None,
                )
    flush_prose()
    if not any(cell["cell_type"] == "code" for cell in cells):
        return None
    install: dict = {
        "cell_type": "code",
        "id": "install",
        "metadata": {},
        "source": install_cell(root),
        "execution_count": None,
        "outputs": [],
    }
    return {"cells": [install, *cells], "metadata": METADATA, "nbformat": 4, "nbformat_minor": 5}


SOLUTION_TITLE = "# @title Solution (double-click to show the code; running it defines the course's version)"


def _hidden(source: str) -> str:
    """A solution cell's code under the title that Colab shows in its place."""
    return f"{SOLUTION_TITLE}\n{source}"


def _hiding(metadata: dict | None, solution: bool) -> dict | None:
    """A cell's metadata, with a solution's code hidden: a form in Colab, a collapsed input in Jupyter."""
    if not solution:
        return metadata
    return {**(metadata or {}), "cellView": "form", "jupyter": {"source_hidden": True}}


def notebook_json(notebook: dict) -> str:
    """The notebook as a file holds it: the same bytes for the same page, so the colab branch changes only with it."""
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


# ---- MkDocs events -------------------------------------------------------------------------------

_notebooks: dict[str, str] = {}  # Markdown page's src_uri -> file name of its notebook, beside the page


def on_files(files, config):
    from mkdocs.exceptions import PluginError
    from mkdocs.structure.files import File

    _notebooks.clear()
    root = Path(config["docs_dir"]).parent
    for file in list(files.documentation_pages()):
        if not file.src_uri.endswith(".md"):
            continue
        notebook = page_notebook(file.content_string, root, file.src_uri, config["site_url"] or "")
        if notebook is None:
            continue
        path = site_path(file.src_uri, file.dest_uri)
        if files.get_file_from_path(path) is not None:
            raise PluginError(f"the notebook of {file.src_uri} would overwrite docs/{path}")
        files.append(File.generated(config, path, content=notebook_json(notebook)))
        _notebooks[file.src_uri] = PurePosixPath(path).name
    return files


def on_page_content(html, page, config, files):
    """Under the title: Download and Open-in-Colab; the notebook's test goes in "How this page is verified"."""
    src = page.file.src_uri
    repo = config["repo_url"]
    if src.endswith(".ipynb"):
        notebook = f"docs/{src}"
        download, colab = PurePosixPath(src).name, colab_url(repo, notebook)
        test = f"python3 dev.py test {notebook}"
        item = (
            f'<li>Test: <code>{test}</code> runs every cell of <a href="{repo.rstrip("/")}/blob/main/{notebook}">'
            f"<code>{notebook}</code></a>; the outputs on this page are that run's.</li>"
        )
    elif src in _notebooks:
        download, colab = _notebooks[src], colab_url(repo, branch_path(src), COLAB_BRANCH)
        test = f"python3 dev.py test tests/test_page_notebooks.py -k {PurePosixPath(src).stem}"
        item = (
            f"<li>Notebook: the notebook above is generated from this page; <code>{test}</code> "
            "runs it top to bottom, offline.</li>"
        )
    else:
        return html
    links = (
        '<p class="notebook-links">'
        f'<a class="md-button" href="{download}" download>Download the notebook</a> '
        f'<a class="md-button" href="{colab}">Open in Colab</a></p>'
    )
    if NOTEBOOK_MARK in html:  # the box claim_precision.py put under the title
        html = html.replace(NOTEBOOK_MARK, item, 1)
    else:
        if src.endswith(".ipynb"):
            links += '<p class="page-verified-note">Every output here is what its code printed in the notebook\'s last test run.</p>'
        links += f'<details class="page-verified"><summary>How this page is verified</summary><ul>{item}</ul></details>'
    title_end = html.find("</h1>")
    if title_end < 0:
        return links + html
    cut = title_end + len("</h1>")
    return html[:cut] + links + html[cut:]


# ---- command line: the notebooks the publish workflow pushes to the colab branch ----------------


def write_all(out_dir: Path, root: Path) -> list[Path]:
    """Write the notebook of every Markdown page under ``root/docs`` to ``out_dir/<branch_path>``."""
    import yaml  # type: ignore[import-untyped]  # PyYAML has no type hints; types-PyYAML is not installed

    site_url = yaml.safe_load((root / "mkdocs.yml").read_text(encoding="utf-8")).get("site_url") or ""
    written = []
    for page in markdown_pages(root):
        src = page.path.relative_to(root / DOCS_DIR).as_posix()
        notebook = page_notebook(page.text, root, src, site_url)
        if notebook is not None:
            target = out_dir / branch_path(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(notebook_json(notebook), encoding="utf-8")
            written.append(target)
    return written


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: python {sys.argv[0]} OUTDIR  (writes the notebook of every Markdown page with code)")
    for path in write_all(Path(sys.argv[1]), Path(__file__).resolve().parents[2]):
        print(path)
