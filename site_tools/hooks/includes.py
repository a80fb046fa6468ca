"""MkDocs hook: each include block shows its snippets as the tests run them.

A snippet includes a marked section of a ``mi_course`` module through a comment line
(``# --8<-- "mi_course/scratch.py:attention"``), so that its source stays valid Python for an
editor, ruff and a learner who opens the file. pymdownx.snippets would show such a comment as it
is, so this hook, the last of the page hooks, replaces the lines of each include block with what
they include, expanded by the page model (``site_tools.pages.expand``): the scripts the tests run.
"""

from __future__ import annotations

from pathlib import Path

from site_tools.pages import Fence, expand, parse


def on_page_markdown(markdown, page, config, files):
    root = Path(config["docs_dir"]).parent
    lines = markdown.split("\n")
    blocks = [part for part in parse(lines) if isinstance(part, Fence) and part.is_include_block and not part.is_output]
    for fence in reversed(blocks):  # from the end, so that earlier blocks keep their line numbers
        shown = expand(fence.text, root).split("\n")
        lines[fence.start + 1 : fence.end] = [f"{fence.indent}{line}" if line else "" for line in shown]
    return "\n".join(lines)
