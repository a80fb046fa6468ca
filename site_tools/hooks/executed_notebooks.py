"""MkDocs hook: notebook pages render the run their test made, so the build does not run them again.

``site_tools/pytest_plugin.py`` runs each notebook page once and keeps the run as a record
(``site_tools/runs.py``, context ``PAGE``) with the executed notebook. Before mkdocs-jupyter
(``execute: false``) converts a page, this hook points it at that notebook; with no current record (a
contributor's ``mkdocs serve`` before any test), it says so, runs the notebook once itself and keeps
the record. The download beside the page stays the committed notebook, without outputs.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

from mkdocs.plugins import event_priority

from site_tools import runs
from site_tools.notebooks import page_name, page_source, run_page

NOTEBOOK_TIMEOUT_S = 300
log = logging.getLogger("mkdocs.hooks.executed_notebooks")
_sources: dict[str, str] = {}  # src_uri -> the committed notebook's path
_executed = tempfile.TemporaryDirectory(prefix="mi-course-executed-")  # the notebooks mkdocs-jupyter converts


@event_priority(100)  # before mkdocs-jupyter reads the page
def on_pre_page(page, config, files):
    if not page.file.src_uri.endswith(".ipynb"):
        return page
    source = Path(page.file.abs_src_path)
    root = Path(config["docs_dir"]).parent
    name = page_name(root, source)
    record = runs.current(root, runs.PAGE, name, page_source(source))
    if record is None:
        log.info("%s; running it once for the site", runs.missing(name, runs.PAGE, f"python3 dev.py test docs/{name}"))
        record = run_page(root, source, NOTEBOOK_TIMEOUT_S)
    executed = Path(_executed.name) / name
    executed.parent.mkdir(parents=True, exist_ok=True)
    executed.write_text(record.notebook, encoding="utf-8")
    _sources[page.file.src_uri] = str(source)
    page.file.abs_src_path = str(executed)
    return page


@event_priority(-100)  # after mkdocs-jupyter copied the executed notebook beside the page
def on_post_page(output, page, config):
    if (source := _sources.pop(page.file.src_uri, None)) is not None:
        shutil.copyfile(source, Path(page.file.abs_dest_path).parent / Path(source).name)
        page.file.abs_src_path = source
    return output
