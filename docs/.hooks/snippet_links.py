"""MkDocs hook: under every included snippet, link its source file, the command that tests it, and its cost.

A reader of any code block reaches the file it comes from and its test in one step. A badge gives the
snippet's CPU time, peak memory and device from its last passing test run, as ``tests/docs_plugin.py``
recorded them in the file ``extra.snippet_measurements`` of mkdocs.yml names, and only if that run
was of the snippet as it is now (the record's sha256 of its source). A snippet that
calls ``show(...)`` also gets its figures: the build runs it as a script, as a learner would, with
``MI_COURSE_SITE_BUILD=1``, and places the HTML it prints between ``FIGURE_START`` and
``FIGURE_END`` under the block. A snippet that needs the network is not run; its page says so.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from mkdocs.exceptions import PluginError

from mi_course.plotting import FIGURE_END, FIGURE_START, SITE_BUILD_ENV

INCLUDE_BLOCK = re.compile(
    r'^(?P<indent>[ \t]*)```python\n(?P<includes>(?:[ \t]*-{1,3}8<-{1,3}[ \t]+"[^"]+"[ \t]*\n)+)(?P=indent)```[ \t]*$',
    re.MULTILINE,
)
INCLUDE_PATH = re.compile(r'"([^"]+)"')
SHOWS_FIGURE = re.compile(r"^\s*show\(", re.MULTILINE)
NEEDS_NETWORK = "# requires: network"
FIGURE = re.compile(f"^{re.escape(FIGURE_START)}\n(.*?)\n{re.escape(FIGURE_END)}$", re.MULTILINE | re.DOTALL)
SNIPPET_TIMEOUT_S = 300

_figures: dict[str, list[str]] = {}  # page source path -> figure HTML, in order of their placeholders


def snippet_figures(snippet: Path) -> list[str]:
    """The HTML of each figure ``snippet`` shows, from a run alone in an empty folder, as in the tests."""
    with tempfile.TemporaryDirectory(prefix="mi-course-figure-") as folder:
        shutil.copyfile(snippet, Path(folder) / snippet.name)
        env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"} | {SITE_BUILD_ENV: "1"}
        done = subprocess.run(
            [sys.executable, "-I", snippet.name], cwd=folder, env=env, capture_output=True, text=True,
            timeout=SNIPPET_TIMEOUT_S,
        )
    if done.returncode != 0:
        raise PluginError(f"snippets/{snippet.name} failed while drawing its figures:\n{done.stderr[-3000:]}")
    return FIGURE.findall(done.stdout)


def current_measurement(measurements: dict, snippet: Path, name: str) -> dict | None:
    """The recorded measurement of ``snippet`` if it was taken of its current source, else None."""
    measurement = measurements.get(name)
    if measurement and measurement.get("sha256") == hashlib.sha256(snippet.read_bytes()).hexdigest():
        return measurement
    return None


def badge(measurement: dict | None, test_command: str) -> str:
    """A snippet's measured cost as an inline badge; one not measured as it is now says how to measure it."""
    if measurement is None:
        return f'<span class="snippet-badge snippet-badge-missing" title="{test_command} measures it">not measured yet</span>'
    return (
        f'<span class="snippet-badge" title="CPU time and peak memory of its last test run, on {measurement["measured_on"]}">'
        f'{measurement["cpu_s"]:.1f} s CPU · {measurement["peak_mib"]:,} MiB peak · {measurement["device"]}</span>'
    )


def on_page_markdown(markdown, page, config, files):
    repo_root = Path(config["docs_dir"]).parent
    repo_files = config["repo_url"].rstrip("/") + "/blob/main"
    snippets_dir = repo_root / "snippets"
    measurements_file = repo_root / config["extra"]["snippet_measurements"]
    measurements = json.loads(measurements_file.read_text(encoding="utf-8")) if measurements_file.is_file() else {}
    figures = _figures[page.file.src_uri] = []

    def add_links_and_figures(match: re.Match) -> str:
        indent, paths = match["indent"], INCLUDE_PATH.findall(match["includes"])
        command = f"python3 dev.py test docs/{page.file.src_uri}"
        links = " · ".join(
            f"[`snippets/{path}`]({repo_files}/snippets/{path}) {badge(current_measurement(measurements, snippets_dir / path, path), command)}" for path in paths
        )
        test = f"tested by `{command}`"
        placeholders = ""
        for path in paths:
            source = (snippets_dir / path).read_text(encoding="utf-8")
            if SHOWS_FIGURE.search(source) and not source.startswith(NEEDS_NETWORK):
                for html in snippet_figures(snippets_dir / path):
                    placeholders += f"\n\n{indent}<!-- mi-course-figure-{len(figures)} -->"
                    figures.append(html)
        return f'{match.group(0)}\n{indent}<small class="snippet-source">Source: {links} · {test}</small>{placeholders}\n'

    return INCLUDE_BLOCK.sub(add_links_and_figures, markdown)


def on_page_content(html, page, config, files):
    for number, figure in enumerate(_figures.pop(page.file.src_uri, [])):
        html = html.replace(f"<!-- mi-course-figure-{number} -->", f'<div class="snippet-figure">{figure}</div>', 1)
    return html
