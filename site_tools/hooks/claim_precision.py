"""MkDocs hook: under a page's title, one plain sentence on its outputs, and a collapsed box on how they are checked.

The sentence is all a learner needs: every output is what its code prints, and whether to expect the
same digits. The box, "How this page is verified", holds the rest, out of the reading flow: the
command that tests the page, how many printed numbers ``python3 dev.py claims`` measured under each
CPU kernel setting and how far the ones that moved moved (from ``<page>.claims.json`` beside the
page, ``site_tools/claims.py``), how closely the tests hold each number, and where the times under
the code blocks come from (``snippet_links.py``). ``page_notebooks.py`` adds the notebook's test at
``NOTEBOOK_MARK``.
"""

from __future__ import annotations

import json
import re
from html import escape
from pathlib import Path

from site_tools.claims import (
    KERNEL_SETTINGS,
    NUMBER,
    Recording,
    claims_file,
    load_recordings,
    masked_runs,
    measured_spreads,
)

TITLE = re.compile(r"^# .+$", re.MULTILINE)
NOTEBOOK_MARK = "<!-- page-verified: notebook -->"  # where page_notebooks.py lists the notebook's test


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def percent(fraction: float) -> str:
    """0.434783 -> "43%", 0.002681 -> "0.27%": two significant digits at most, no false precision."""
    return f"{fraction:.0%}" if fraction >= 0.01 else f"{fraction * 100:.2g}%"


def widest_change(recordings: dict[str, Recording]) -> tuple[str, float] | None:
    """The printed number whose spread across the CPU settings is widest relative to it: (as printed, spread)."""
    widest, found = 0.0, None
    for _, recording in sorted(recordings.items()):
        cpu = {name: text for name, text in recording.printed.items() if name in KERNEL_SETTINGS}
        if "default" not in cpu:
            continue
        runs = masked_runs(Recording(recording.digest, cpu), recording.live_timings)
        shown = runs.printed["default"]
        for line, row in zip(shown.strip().splitlines(), measured_spreads(shown, runs)):
            for number, spread in zip(NUMBER.findall(line), row):
                relative = spread / abs(float(number)) if float(number) else spread
                if spread > 0 and relative > widest:
                    widest, found = relative, (number, spread)
    return found


def sentence(summary: dict) -> str:
    """The one line a learner reads under the title."""
    if summary["moved"] == 0:
        expect = "expect the same digits."
    else:
        verb = "differs" if summary["moved"] == 1 else "differ"
        expect = f"expect the same digits, except in {plural(summary['moved'], 'number')} that {verb} between CPUs."
    return f'<p class="page-verified-note">Every output here is what its code prints; {expect}</p>'


def spread_item(summary: dict, change: tuple[str, float] | None, claims_command: str) -> str:
    """How many printed numbers were measured, and how far the ones that moved moved, phrased as a spread."""
    measured = (
        f"<li>Numbers: the {plural(summary['numbers'], 'printed number')} of this page were recorded under "
        f"{summary['settings']} CPU kernel settings (<code>{escape(claims_command)}</code>)"
    )
    if summary["moved"] == 0:
        return measured + "; none changed.</li>"
    widest = percent(summary["widest_relative_spread"])
    where = f" in <code>{escape(summary['widest_in'])}</code>" if summary.get("widest_in") else ""
    if change is not None:
        value, spread = change
        largest = f"the widest spread was {spread:.2g} on a printed {value} ({widest} of that value){where}"
    else:
        largest = f"the widest spread was {widest} of its value{where}"
    return measured + (
        f": across them, {summary['moved']} of {summary['numbers']:,} changed; {largest}. "
        f"A test accepts each number within {summary['margin']:g} times its measured spread, "
        "and never closer than one unit of its last printed digit.</li>"
    )


def verification(summary: dict, page_src: str, *, change: tuple[str, float] | None = None, timed: bool = True) -> str:
    """The sentence under a page's title and its collapsed "How this page is verified" box, as raw HTML."""
    test = f"python3 dev.py test docs/{page_src}"
    items = [
        f"<li>Test: <code>{escape(test)}</code> runs this page's code and checks that it prints what the page shows.</li>",
        spread_item(summary, change, f"python3 dev.py claims docs/{page_src}"),
    ]
    if timed:
        items.append(
            "<li>Times: the time under a code block (&ldquo;about 9 s&rdquo;) is the wall time of its script's "
            "last test run on its own; its title gives that run's CPU time, peak memory and machine.</li>"
        )
    return "\n".join(
        [
            sentence(summary),
            "",
            '<details class="page-verified">',
            "<summary>How this page is verified</summary>",
            "<ul>",
            *items,
            NOTEBOOK_MARK,
            "</ul>",
            "</details>",
        ]
    )


def on_page_markdown(markdown, page, config, files):
    source = Path(page.file.abs_src_path)
    claims = claims_file(source)
    if source.suffix != ".md" or not claims.is_file():
        return markdown
    summary = json.loads(claims.read_text(encoding="utf-8"))["summary"]
    change = widest_change(load_recordings(source)) if summary["moved"] else None
    block = verification(summary, page.file.src_uri, change=change, timed='class="snippet-source"' in markdown)
    return TITLE.sub(lambda title: f"{title.group(0)}\n\n{block}\n", markdown, count=1)
