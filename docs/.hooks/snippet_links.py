"""MkDocs hook: under every included snippet, link its source file and the command that tests it.

A reader of any code block reaches the file it comes from and its test in one step.
"""

from __future__ import annotations

import re

INCLUDE_BLOCK = re.compile(
    r'^(?P<indent>[ \t]*)```python\n(?P<includes>(?:[ \t]*-{1,3}8<-{1,3}[ \t]+"[^"]+"[ \t]*\n)+)(?P=indent)```[ \t]*$',
    re.MULTILINE,
)
INCLUDE_PATH = re.compile(r'"([^"]+)"')


def on_page_markdown(markdown, page, config, files):
    repo_files = config["repo_url"].rstrip("/") + "/blob/main"

    def add_links(match: re.Match) -> str:
        indent = match["indent"]
        links = " · ".join(
            f"[`snippets/{path}`]({repo_files}/snippets/{path})" for path in INCLUDE_PATH.findall(match["includes"])
        )
        test = f"tested by `python3 dev.py test docs/{page.file.src_uri}`"
        return f'{match.group(0)}\n{indent}<small class="snippet-source">Source: {links} · {test}</small>\n'

    return INCLUDE_BLOCK.sub(add_links, markdown)
