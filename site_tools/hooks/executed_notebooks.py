"""MkDocs hook: notebook pages render the run their test made, so the build does not run them again.

``tests/docs_plugin.py`` runs each notebook page once and keeps the executed copy
(``site_tools.records.executed_notebook_path``), stamped with the digest of its source and of the
package. Before mkdocs-jupyter (``execute: false``) converts a page, this hook points it at that copy;
with no current copy (a contributor's ``mkdocs serve`` before any test), it runs the notebook once
itself and keeps the copy. The download beside the page stays the committed notebook, without outputs.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from mkdocs.plugins import event_priority

from site_tools.notebooks import execute_page, is_current
from site_tools.records import executed_notebook_path

NOTEBOOK_TIMEOUT_S = 300
log = logging.getLogger("mkdocs.hooks.executed_notebooks")
_sources: dict[str, str] = {}  # src_uri -> the committed notebook's path


@event_priority(100)  # before mkdocs-jupyter reads the page
def on_pre_page(page, config, files):
    if not page.file.src_uri.endswith(".ipynb"):
        return page
    source = Path(page.file.abs_src_path)
    root = Path(config["docs_dir"]).parent
    executed = executed_notebook_path(root, source)
    if not is_current(executed, source):
        log.info("no current test run of %s: running it once for the site", page.file.src_uri)
        executed.parent.mkdir(parents=True, exist_ok=True)
        executed.write_text(execute_page(source, NOTEBOOK_TIMEOUT_S), encoding="utf-8")
    _sources[page.file.src_uri] = str(source)
    page.file.abs_src_path = str(executed)
    return page


@event_priority(-100)  # after mkdocs-jupyter copied the executed notebook beside the page
def on_post_page(output, page, config):
    if (source := _sources.pop(page.file.src_uri, None)) is not None:
        shutil.copyfile(source, Path(page.file.abs_dest_path).parent / Path(source).name)
        page.file.abs_src_path = source
    return output
