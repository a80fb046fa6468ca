"""MkDocs hook: under every include block, link each snippet's source file, the command that tests it, and its cost.

A reader of any code block reaches the file it comes from and its test in one step. A badge gives the
snippet's CPU time, peak memory and device from its run record (``site_tools/runs.py``), and only if
that run was of the snippet's script, and of the package, as they are now. A snippet that shows figures gets them
under its block, from that same run: the build never runs a snippet. A snippet whose figures were not
recorded for its current script gets a note saying which command records them, and the build says so.
"""

from __future__ import annotations

import logging
from pathlib import Path

from site_tools import runs
from site_tools.pages import SNIPPETS_DIR, Fence, Snippet, parse

log = logging.getLogger("mkdocs.hooks.snippet_links")
_figures: dict[str, list[str]] = {}  # page source path -> figure HTML, in order of their placeholders


def badge(run: runs.RunRecord | None, test_command: str) -> str:
    """A snippet's measured cost as an inline badge; one not measured as it is now says how to measure it."""
    if run is None or run.cpu_s is None:
        return f'<span class="snippet-badge snippet-badge-missing" title="{test_command} measures it">not measured yet</span>'
    return (
        f'<span class="snippet-badge" title="CPU time and peak memory of its last test run, on {run.measured_on}">'
        f"{run.cpu_s:.1f} s CPU · {run.peak_mib:,.0f} MiB peak · {run.device}</span>"
    )


def on_page_markdown(markdown, page, config, files):
    root = Path(config["docs_dir"]).parent
    repo_files = config["repo_url"].rstrip("/") + "/blob/main"
    command = f"python3 dev.py test docs/{page.file.src_uri}"
    figures = _figures[page.file.src_uri] = []
    lines = markdown.split("\n")
    insertions: dict[int, list[str]] = {}  # line index -> lines to insert after it
    for fence in parse(lines):
        if isinstance(fence, Fence) and fence.is_include_block and not fence.is_output:
            snippets = [Snippet(name, root) for name in fence.includes]
            recorded = {
                snippet.name: runs.current(root, runs.ALONE, snippet.name, snippet.script) for snippet in snippets
            }
            links = " · ".join(
                f"[`{SNIPPETS_DIR}/{snippet.name}`]({repo_files}/{SNIPPETS_DIR}/{snippet.name}) "
                f"{badge(recorded[snippet.name], command)}"
                for snippet in snippets
            )
            added = [f'{fence.indent}<small class="snippet-source">Source: {links} · tested by `{command}`</small>']
            for snippet in snippets:
                if not snippet.draws_figure or snippet.needs_network:
                    continue
                run = recorded[snippet.name]
                if run is None:
                    log.warning(
                        "%s: %s, so its figures are missing",
                        page.file.src_uri,
                        runs.missing(f"{SNIPPETS_DIR}/{snippet.name}", runs.ALONE, command),
                    )
                    added += [
                        "",
                        f'{fence.indent}<p class="snippet-figure-missing">Its figures appear once <code>{command}</code> has run it.</p>',
                    ]
                    continue
                for html in run.figures:
                    added += ["", f"{fence.indent}<!-- mi-course-figure-{len(figures)} -->"]
                    figures.append(html)
            insertions[fence.end] = added
    out = []
    for index, line in enumerate(lines):
        out.append(line)
        out += insertions.get(index, [])
    return "\n".join(out)


def on_page_content(html, page, config, files):
    for number, figure in enumerate(_figures.pop(page.file.src_uri, [])):
        html = html.replace(f"<!-- mi-course-figure-{number} -->", f'<div class="snippet-figure">{figure}</div>', 1)
    return html
