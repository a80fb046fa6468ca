"""The determinism check: a snippet prints the same numbers standalone and as a cell of its page's notebook.

``tests/test_page_notebooks.py`` runs each page's notebook and keeps what each snippet printed
(``site_tools.records.NOTEBOOK_PRINTS_FILE``); each snippet's page test compares its standalone run with it.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from site_tools.records import NOTEBOOK_PRINTS_FILE, measurements_folder, package_sha256, update
from tests.claims import masked, source_digest

FIGURE_SUMMARY = re.compile(r'^(figure ".*": \d+ traces? \(.*\)|attention patterns: .*|token activations: .*)$', re.MULTILINE)  # show() in a script
# What each snippet printed in its page's notebook this session (tests/test_page_notebooks.py fills it).
NOTEBOOK_PRINTS: dict[str, str] = {}
# Snippets whose determinism this session could not check (no notebook run of their current source here).
DETERMINISM_NOT_CHECKED: list[str] = []


def comparable_prints(output: str) -> list[str]:
    """Printed lines as the determinism check compares them: durations masked, figure summaries dropped."""
    return [line for line in masked(FIGURE_SUMMARY.sub("", output), mask_durations=True).splitlines() if line.strip()]


def first_difference(standalone: str, in_notebook: str) -> str | None:
    """The first line whose numbers differ between two runs of a snippet, or None if they print the same."""
    ours, theirs = comparable_prints(standalone), comparable_prints(in_notebook)
    for number, (line, other) in enumerate(zip(ours, theirs), start=1):
        if line != other:
            return f"line {number}: {line!r} standalone, {other!r} in the notebook"
    if len(ours) != len(theirs):
        return f"{len(ours)} lines standalone, {len(theirs)} in the notebook"
    return None


def kernel_environment() -> str:
    """The settings a run's numbers depend on besides its code: device and CPU kernels."""
    names = ("MI_COURSE_DEVICE", "ATEN_CPU_CAPABILITY", "MKL_ENABLE_INSTRUCTIONS")
    return " ".join(f"{name}={os.environ.get(name, '')}" for name in names)


def remember_notebook_prints(rootpath: Path, prints: dict[str, tuple[str, str]]) -> None:
    """Keep what snippets printed in a notebook (snippet -> (script, printed)), with their digest and kernels."""
    for snippet, (script, printed) in prints.items():
        NOTEBOOK_PRINTS[snippet] = printed
        update(rootpath, NOTEBOOK_PRINTS_FILE, snippet,
                {"digest": source_digest(script), "package": package_sha256(), "environment": kernel_environment(), "printed": printed})


def notebook_prints(rootpath: Path, snippet: str, script: str) -> str | None:
    """What ``snippet`` printed in its page's notebook, in this session or an earlier one with the same script, package and kernels."""
    if snippet in NOTEBOOK_PRINTS:
        return NOTEBOOK_PRINTS[snippet]
    path = measurements_folder(rootpath) / NOTEBOOK_PRINTS_FILE
    known = json.loads(path.read_text(encoding="utf-8")).get(snippet) if path.is_file() else None
    if (known and known["digest"] == source_digest(script) and known.get("package") == package_sha256()
            and known["environment"] == kernel_environment()):
        return known["printed"]
    return None
