"""Running a notebook as the site shows it: a fresh kernel, an empty temporary folder, figures for the site.

A notebook page's test (``site_tools/pytest_plugin.py``) runs it once and keeps the run as a record
(``site_tools/runs.py``, context ``PAGE``); the build renders that record's executed notebook
(``site_tools/hooks/executed_notebooks.py``) and runs a notebook itself only when it has no current one.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from pathlib import Path

import nbformat

from site_tools import runner, runs

# Run in the kernel before the first cell, outside its history: figures use the scripts the site serves once.
# Colab has ipywidgets, a build machine need not: tqdm.auto's warning about it would show the build
# machine's paths on the page, and a learner in Colab never sees it.
SITE_SETUP = (
    "import warnings; warnings.filterwarnings('ignore', message='IProgress not found'); "
    "import mi_course.plotting; mi_course.plotting.draw_for_site()"
)


class CellError(RuntimeError):
    """A cell raised or ran too long; ``cell`` is the failing cell (None if unknown)."""

    def __init__(self, message: str, cell: dict | None):
        super().__init__(message)
        self.cell = cell


def forked_kernel_manager() -> type:
    """A Jupyter kernel manager whose kernels are forked from the snippet worker (``site_tools/runner.py``).

    A kernel started as ``python -m ipykernel_launcher`` spends about 4 s importing torch, TransformerLens
    and the course before its first cell computes anything; forked from the worker that has imported them,
    it starts from the same clean interpreter state, as the snippets do, without paying for it again.
    """
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_client.provisioning import LocalProvisioner

    class ForkedProvisioner(LocalProvisioner):  # type: ignore[misc]
        streams: tempfile.TemporaryDirectory | None = None

        async def launch_kernel(self, cmd: list[str], **kwargs):
            python_m, module, *args = cmd[1:]
            assert python_m == "-m", f"a kernel spec that runs a module, as ipykernel's does: {cmd}"
            self.streams = tempfile.TemporaryDirectory(prefix="mi-course-kernel-")
            forked = runner.start_module(module, args, kwargs["cwd"], kwargs["env"], self.streams.name)
            self.process = forked  # type: ignore[assignment]  # what of Popen the provisioner uses, ForkedRun has
            self.pid, self.pgid = forked.pid, None  # the worker's process group is not the kernel's
            return self.connection_info

        async def cleanup(self, restart: bool = False) -> None:
            await super().cleanup(restart)
            if self.streams is not None:
                self.streams.cleanup()

    class ForkedKernelManager(AsyncKernelManager):  # type: ignore[misc]
        async def _async_pre_start_kernel(self, **kw):
            self.kernel_id = self.kernel_id or kw.pop("kernel_id", str(uuid.uuid4()))
            if self.provisioner is None:
                self.provisioner = ForkedProvisioner(
                    kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self
                )
            return await super()._async_pre_start_kernel(**kw)

    return ForkedKernelManager


def execute(notebook: dict, timeout_s: float) -> nbformat.NotebookNode:
    """Run every cell of ``notebook`` in a fresh kernel from an empty folder, figures drawn for the site."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    node = nbformat.reads(json.dumps(notebook), as_version=4)
    with tempfile.TemporaryDirectory(prefix="mi-course-notebook-") as folder:
        client = NotebookClient(
            node,
            timeout=timeout_s,
            kernel_name="python3",
            kernel_manager_class=forked_kernel_manager(),
            resources={"metadata": {"path": folder}},
            extra_arguments=[f"--IPKernelApp.exec_lines={SITE_SETUP}"],
        )
        try:
            client.execute()
        except CellExecutionError as error:
            failed = next(
                (
                    cell
                    for cell in node.cells
                    if any(out.get("output_type") == "error" for out in cell.get("outputs", []))
                ),
                None,
            )
            raise CellError(str(error), failed) from None
        except CellTimeoutError as error:
            raise CellError(f"a cell ran past {timeout_s:g} s:\n{error}", None) from None
    return node


def page_name(rootpath: Path, page: Path) -> str:
    """A notebook page's name in the run records: its path under docs/."""
    return page.resolve().relative_to(rootpath.resolve() / "docs").as_posix()


def page_source(page: Path) -> bytes:
    """What a notebook page's run depends on, as its record's key reads it: the notebook and the kernel's setup."""
    return page.read_bytes() + SITE_SETUP.encode()


def run_page(rootpath: Path, page: Path, timeout_s: float) -> runs.RunRecord:
    """Run a notebook page as the site shows it, and keep the run as the page's record."""
    executed = nbformat.writes(execute(json.loads(page.read_bytes()), timeout_s)) + "\n"
    key = runs.RunKey.of(page_source(page))
    record = runs.RunRecord(page_name(rootpath, page), runs.PAGE, key, stdout="", notebook=executed)
    runs.save(rootpath, record)
    return record
