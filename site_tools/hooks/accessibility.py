"""MkDocs hook: markup fixes for what axe-core finds on every page (tests/test_browser.py runs it).

- Material's search dialog has ``role="dialog"`` but no name (axe ``aria-dialog-name``): name it.
- A notebook page's code cells scroll sideways but cannot take focus, so a keyboard cannot scroll
  them (axe ``scrollable-region-focusable``): make them focusable, as Material does for its own
  code blocks.

Colours and link underlines are fixed in docs/stylesheets/accessibility.css.
"""

from __future__ import annotations

import re

SEARCH_DIALOG = '<div class="md-search" data-md-component="search" role="dialog">'
NAMED_SEARCH_DIALOG = '<div class="md-search" data-md-component="search" role="dialog" aria-label="Search">'
NOTEBOOK_CODE = re.compile(r'<div class="(highlight-ipynb[^"]*)">')


def on_post_page(output, page, config):
    output = output.replace(SEARCH_DIALOG, NAMED_SEARCH_DIALOG, 1)
    return NOTEBOOK_CODE.sub(r'<div class="\1" tabindex="0">', output)


def on_post_template(output_content, template_name, config):
    """The theme's own pages, such as 404.html, which on_post_page never sees."""
    return on_post_page(output_content, None, config) if template_name.endswith(".html") else output_content
