"""MkDocs hook: under every include block, link each snippet's source file and say about how long it runs.

A reader of any code block reaches the file it comes from in one step, and sees what a learner plans
with: "about 9 s", the wall time of the snippet's run record (``site_tools/runs.py``), and only if
that run was of the snippet's script, and of the package, as they are now. The rest (CPU time, peak
memory, device, the command that tests it) sits in the elements' ``title``, out of the reading flow;
the page's "How this page is verified" box says where it comes from (``claim_precision.py``). A
snippet that needs the network says so, and where to run it. A snippet that shows figures gets them
under its block, from that same run: the build never runs a snippet. A snippet whose figures were not
recorded for its current script gets a note saying which command records them, and the build says so.
Each block of printed output is labelled "Output" and tinted apart from code (``docs/stylesheets/extra.css``).
"""

from __future__ import annotations

import logging
import re
from html import escape
from pathlib import Path

from site_tools import runs
from site_tools.determinism import FIGURE_SUMMARY
from site_tools.pages import EXPECTED_OUTPUT, SNIPPETS_DIR, Fence, Snippet, parse

log = logging.getLogger("mkdocs.hooks.snippet_links")
_figures: dict[str, list[str]] = {}  # page source path -> figure HTML, in order of their placeholders


def about(seconds: float) -> str:
    """A duration as a learner plans with it: "under 1 s", "about 9 s", "about 2 min"."""
    if seconds < 0.5:
        return "under 1 s"
    if seconds < 90:
        return f"about {seconds:.0f} s"
    return f"about {seconds / 60:.0f} min"


def badge(
    run: runs.RunRecord | None, test_command: str, *, needs_network: bool = False, twin: str | None = None
) -> str:
    """A snippet's cost as a learner uses it ("about 9 s"), its measurement in the title; or why it has none."""
    if needs_network:
        offline = f", and offline {test_command} runs it on {twin}" if twin else f"; {test_command} tests it"
        title = f"It downloads from the Hugging Face hub{offline}"
        return (
            f'<span class="snippet-badge snippet-badge-network" title="{escape(title)}">'
            "needs the network: run it in Colab</span>"
        )
    if run is None or run.cpu_s is None:
        title = f"{test_command} measures it"
        return f'<span class="snippet-badge snippet-badge-missing" title="{escape(title)}">not measured yet</span>'
    wall = run.wall_s if run.wall_s is not None else run.cpu_s
    title = (
        f"Its last test run alone, on {run.measured_on}: {wall:.1f} s wall time, {run.cpu_s:.1f} s CPU, "
        f"{run.peak_mib:,.0f} MiB peak, on {run.device}. Tested by {test_command}"
    )
    return f'<span class="snippet-badge" title="{escape(title)}">{about(wall)}</span>'


# An output block's opening fence: the site labels it "Output" and tints it apart from code (extra.css).
OUTPUT_OPENING = re.compile(r"(?P<indent>[ \t]*)(?P<marker>`{3,}|~{3,})text[ \t]*")


def on_page_markdown(markdown, page, config, files):
    root = Path(config["docs_dir"]).parent
    repo_files = config["repo_url"].rstrip("/") + "/blob/main"
    command = f"python3 dev.py test docs/{page.file.src_uri}"
    figures = _figures[page.file.src_uri] = []
    lines = markdown.split("\n")
    insertions: dict[int, list[str]] = {}  # line index -> lines to insert after it
    dropped: set[int] = set()  # lines of output the site shows as figures instead
    for fence in parse(lines):
        if isinstance(fence, Fence) and fence.is_include_block and not fence.is_output:
            snippets = [Snippet(name, root) for name in fence.includes]
            recorded = {
                snippet.name: runs.current(root, runs.ALONE, snippet.name, snippet.script) for snippet in snippets
            }
            links = " · ".join(
                f"[`{SNIPPETS_DIR}/{snippet.name}`]({repo_files}/{SNIPPETS_DIR}/{snippet.name}) "
                f"{badge(recorded[snippet.name], command, needs_network=snippet.needs_network, twin=snippet.twin_model)}"
                for snippet in snippets
            )
            tested = escape(f"Tested by {command}")
            added = [f'{fence.indent}<small class="snippet-source" title="{tested}">Source: {links}</small>']
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
                if run.figures and fence.expected_output is not None:
                    dropped |= figure_summaries(lines, fence.expected_output)
            insertions[fence.end] = added
    for fence in parse(lines):
        if isinstance(fence, Fence) and fence.is_output and (opening := OUTPUT_OPENING.fullmatch(lines[fence.start])):
            lines[fence.start] = f'{opening["indent"]}{opening["marker"]}{{.text .snippet-output title="Output"}}'
    out = []
    for index, line in enumerate(lines):
        if index not in dropped:
            out.append(line)
        out += insertions.get(index, [])
    return "\n".join(out)


def figure_summaries(lines: list[str], output: Fence) -> set[int]:
    """The lines of an output block that only say a figure was shown (what a script prints for it),
    which the site draws instead; the whole block, with its marker, when nothing else is in it."""
    body = range(output.start + 1, output.end)
    summaries = {index for index in body if FIGURE_SUMMARY.fullmatch(lines[index].strip())}
    if summaries != {index for index in body if lines[index].strip()}:
        return summaries
    marker = [output.start - 1] if lines[output.start - 1].strip() == f"<!--{EXPECTED_OUTPUT}-->" else []
    return {*marker, *range(output.start, output.end + 1)}


def on_page_content(html, page, config, files):
    for number, figure in enumerate(_figures.pop(page.file.src_uri, [])):
        html = html.replace(f"<!-- mi-course-figure-{number} -->", f'<div class="snippet-figure">{figure}</div>', 1)
    return html
