"""MkDocs hook: under a page's title, one line on how closely a reader's numbers will match the page's.

It reads the summary that ``python3 dev.py claims`` keeps in ``<page>.claims.json`` beside the page
(``site_tools/claims.py``): how many printed numbers the page claims, how many moved across the CPU
kernel settings measured, and by how much at most. The tests hold each number to twice its spread.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from site_tools.claims import claims_file

TITLE = re.compile(r"^# .+$", re.MULTILINE)


def precision_line(summary: dict) -> str:
    """The sentence a page shows, from a claims file's summary."""
    line = (
        f'<p class="claim-precision" markdown><small>Every output on this page is what its code prints; '
        f"{summary['numbers']:,} printed numbers were measured under {summary['settings']} CPU kernel settings"
    )
    if summary["moved"] == 0:
        return line + ", and none moved: expect the same digits.</small></p>"
    return line + (
        f", {summary['moved']} moved, by at most {summary['widest_relative_spread']:.2%} "
        f"(`{summary['widest_in']}`): expect the same text, and numbers within {summary['margin']:g} times "
        "that spread.</small></p>"
    )


def on_page_markdown(markdown, page, config, files):
    source = Path(page.file.abs_src_path)
    claims = claims_file(source)
    if source.suffix != ".md" or not claims.is_file():
        return markdown
    line = precision_line(json.loads(claims.read_text(encoding="utf-8"))["summary"])
    return TITLE.sub(lambda title: f"{title.group(0)}\n\n{line}", markdown, count=1)
