"""Running a notebook as the site shows it: a fresh kernel, an empty temporary folder, figures for the site.

A notebook page's test (``tests/docs_plugin.py``) runs it once and keeps the executed copy
(``site_tools.records.executed_notebook_path``); the build renders that copy
(``site_tools/hooks/executed_notebooks.py``) and runs a notebook itself only when no current copy exists.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import nbformat

from mi_course.plotting import SITE_BUILD_ENV
from site_tools.records import package_sha256

SOURCE_DIGEST_KEY = "mi_course_source_sha256"  # in an executed copy's metadata: the notebook it was run from


class CellError(RuntimeError):
    """A cell raised or ran too long; ``cell`` is the failing cell (None if unknown)."""

    def __init__(self, message: str, cell: dict | None):
        super().__init__(message)
        self.cell = cell


def execute(notebook: dict, timeout_s: float) -> nbformat.NotebookNode:
    """Run every cell of ``notebook`` in a fresh kernel from an empty folder, figures drawn for the site."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    node = nbformat.reads(json.dumps(notebook), as_version=4)
    previous = os.environ.get(SITE_BUILD_ENV)
    os.environ[SITE_BUILD_ENV] = "1"  # the kernel inherits it: show() emits the site's figure HTML
    try:
        with tempfile.TemporaryDirectory(prefix="mi-course-notebook-") as folder:
            client = NotebookClient(node, timeout=timeout_s, kernel_name="python3", resources={"metadata": {"path": folder}})
            try:
                client.execute()
            except CellExecutionError as error:
                failed = next((cell for cell in node.cells
                               if any(out.get("output_type") == "error" for out in cell.get("outputs", []))), None)
                raise CellError(str(error), failed) from None
            except CellTimeoutError as error:
                raise CellError(f"a cell ran past {timeout_s:g} s:\n{error}", None) from None
    finally:
        if previous is None:
            os.environ.pop(SITE_BUILD_ENV, None)
        else:
            os.environ[SITE_BUILD_ENV] = previous
    return node


def source_sha256(path: Path) -> str:
    """The digest of a notebook and of the package its cells import."""
    import hashlib

    return hashlib.sha256(path.read_bytes() + package_sha256().encode()).hexdigest()


def execute_page(path: Path, timeout_s: float) -> str:
    """A notebook page, executed, as the text of a notebook file marked with the digest of its source."""
    node = execute(json.loads(path.read_text(encoding="utf-8")), timeout_s)
    node.metadata[SOURCE_DIGEST_KEY] = source_sha256(path)
    return nbformat.writes(node) + "\n"


def is_current(executed: Path, source: Path) -> bool:
    """Whether ``executed`` holds a run of ``source`` as it is now."""
    if not executed.is_file():
        return False
    return json.loads(executed.read_text(encoding="utf-8")).get("metadata", {}).get(SOURCE_DIGEST_KEY) == source_sha256(source)
