"""Pytest plugin that tests the course's pages, so that no code on the site goes unrun.

Pages are read with the page model, ``site_tools/pages.py``. For each ``docs/**/*.md`` it collects:

- ``<page>::grammar``: fails if any code would be skipped silently or break the page grammar
  (``Page.problems``: a Python fence not labelled exactly ``python``, includes mixed with code, a
  skip without a reason, a network snippet naming no shipped model to run on), or if a claim of
  its prose does not hold on the outputs the page shows (``site_tools/prose_claims.py``);
- ``<page>::line N``: each inline ``python``/``sh``/``bash`` block, run by pytest-codeblocks;
- ``<page>::snippets/<file>``: each included snippet's script (``Snippet.script``: its includes
  expanded), run in a fresh process from a temporary folder outside the repository, as a learner
  pasting it would (``site_tools/runner.py``). Its output is compared with the page's
  expected-output block, each number within the spread measured for it across CPU kernel settings
  (``site_tools/claims.py``), and with its notebook run of the same key (``site_tools/determinism.py``);
  the prose claims quoting it must hold on what it printed. A passing run leaves its record
  (``site_tools/runs.py``: output, figures, cost) for the site, which does not run it again;
- ``<page>::$ python -m mi_course ...``: each console claim, run and compared the same way (live timings
  only by their format).

For each ``docs/**/*.ipynb`` (a notebook page): ``<page>::clean`` fails if the committed notebook holds
outputs; ``<page>::run`` runs every cell in a fresh kernel from a temporary folder, failing with the
first traceback or if a claim of its markdown cells does not hold on what its code cells printed, and
keeps the run's record, whose executed notebook the site renders (the build does not run it again).

Enabled by ``-p site_tools.pytest_plugin`` in pyproject.toml.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pytest_codeblocks.main import CodeBlock
from pytest_codeblocks.plugin import TestBlock

from site_tools import determinism, prose_claims, quotes, runs
from site_tools.claims import PageError, claim_mismatch, structure_mismatch
from site_tools.notebooks import CellError, page_name, page_source, run_page
from site_tools.page_checks import (
    ANSI_ESCAPE,
    Limits,
    check_claims_on_run,
    command_source,
    hub_reachable,
    keep_and_compare,
    rewrite_output,
    run_command,
    run_snippet_checked,
)
from site_tools.pages import DOCS_DIR, SNIPPETS_DIR, Fence, Page, Snippet, notebook_claims, notebook_pages
from site_tools.runner import SnippetError, close_workers, start_worker

SESSION_START = time.time()  # the records a session wrote are those finished since
REUSED = pytest.StashKey[list[str]]()  # the runs this session took from their records instead of running them


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-outputs",
        action="store_true",
        help="rewrite a page's expected-output block when its snippet prints something else (then review the diff)",
    )
    parser.addoption(
        "--rerun",
        action="store_true",
        help="run every snippet, notebook and console claim, even those with a run record of the same key",
    )


def reused_run(
    config: pytest.Config, context: str, name: str, source: str | bytes, env: dict[str, str] | None = None
) -> runs.RunRecord | None:
    """The recorded run of ``name`` under this very key (source, package, kernels and libraries), if there is one.

    Such a record passed every check when it was made, and its key fixes what it printed (the
    determinism check holds each snippet to that), so it stands for running the code again: its
    output is checked against the page as a new run's would be. ``--rerun`` and ``--update-outputs``
    run everything; a clean clone (CI) has no records. The session's summary counts what it reused.
    """
    if config.getoption("rerun") or config.getoption("update_outputs"):
        return None
    record = runs.current(config.rootpath, context, name, source, same_kernels=True, env=env)
    if record is not None:
        config.stash.setdefault(REUSED, []).append(name)
    return record


def is_xdist_controller(config: pytest.Config) -> bool:
    """Whether this process only hands tests to pytest-xdist's workers (``-n N``) and runs none itself."""
    return bool(getattr(config.option, "numprocesses", None)) and not hasattr(config, "workerinput")


def pytest_sessionstart(session: pytest.Session) -> None:
    """Start the snippet worker's imports now, overlapping collection, when the run will collect pages."""
    if is_xdist_controller(session.config):
        return
    docs = session.config.rootpath / DOCS_DIR
    targets = [Path(arg.split("::")[0]).resolve() for arg in session.config.args]
    if any(target == docs or docs in target.parents or target in docs.parents for target in targets):
        start_worker(session.config.rootpath)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """In a pytest-xdist worker, hand the runs it reused to the controlling process, which sums them up."""
    if hasattr(session.config, "workeroutput"):
        session.config.workeroutput["reused"] = session.config.stash.get(REUSED, [])


def pytest_unconfigure(config: pytest.Config) -> None:
    """The workers for this course's snippets end with the session, also when pytest runs in a process
    that goes on (a course's engine test); the process's own, which forks notebook kernels, stay."""
    close_workers(config.rootpath)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    node.config.stash.setdefault(REUSED, []).extend(node.workeroutput.get("reused", []))


def pytest_terminal_summary(terminalreporter) -> None:
    rootpath = terminalreporter.config.rootpath
    if reused := terminalreporter.config.stash.get(REUSED, []):
        terminalreporter.write_sep("=", "runs reused")
        terminalreporter.write_line(
            f"{len(reused)} snippets, notebooks and commands had a run record of the same key and were checked "
            "from it, not run again (python3 dev.py test --rerun runs them): " + ", ".join(reused)
        )
    if runs.store(rootpath).is_dir():
        limits = Limits.from_environment()
        slow = [
            f"{SNIPPETS_DIR}/{record.name} ({record.wall_s:.0f} s)"
            for record in runs.since(rootpath, runs.ALONE, SESSION_START)
            if record.wall_s is not None and record.wall_s > limits.budget_s
        ]
        if slow:
            terminalreporter.write_sep("=", "time budget not enforced")
            why = (
                "ATEN_CPU_CAPABILITY=default runs torch's vector-free kernels, so these times are not a learner's; "
                if limits.vector_free_kernels
                else "on this machine, as loaded as it was; `python3 dev.py bench` times them on a quiet one; "
            )
            terminalreporter.write_line(f"{why}over {limits.budget_s:g} s: " + ", ".join(slow))
        if unchecked := determinism.not_checked(rootpath, SESSION_START):
            terminalreporter.write_sep("=", "determinism not checked")
            terminalreporter.write_line(
                f"{len(unchecked)} snippets ran without a run of the same key in the other context (alone, or in "
                "their page's notebook: python3 dev.py test tests/test_page_notebooks.py) to compare with: "
                + ", ".join(f"{SNIPPETS_DIR}/{name}" for name in unchecked)
            )


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    docs = parent.config.rootpath / DOCS_DIR
    if docs not in file_path.parents:
        return None
    if file_path.suffix == ".md":
        return CoursePage.from_parent(parent, path=file_path)
    if file_path.suffix == ".ipynb" and file_path in notebook_pages(parent.config.rootpath):
        return NotebookPage.from_parent(parent, path=file_path)
    return None


class CourseItem(pytest.Item):
    def repr_failure(self, excinfo):
        return str(excinfo.value) if excinfo.errisinstance(PageError) else super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, getattr(self, "lineno", None), f"{self.path.name}::{self.name}"


class CoursePage(pytest.File):
    def collect(self):
        page = Page.read(self.path, self.config.rootpath)
        yield PageGrammar.from_parent(self, name="grammar", page=page)
        for fence in page.code_blocks:
            if fence.is_include_block:
                items = [
                    SnippetScript.from_parent(
                        self,
                        name=f"{SNIPPETS_DIR}/{name}",
                        page=page,
                        fence=fence,
                        snippet=Snippet(name, self.config.rootpath),
                    )
                    for name in fence.includes
                ]
            else:
                item = TestBlock.from_parent(self, name=f"line {fence.lineno}")
                item.obj = CodeBlock(
                    fence.text + "\n",
                    fence.lineno,
                    fence.info,
                    fence.shown_output + "\n" if fence.shown_output is not None else None,
                    marks=fence.marks,
                )
                items = [item]
            for item in items:
                for mark in fence.marks:
                    item.add_marker(eval(mark, {"sys": sys, "pytest": pytest}))
                yield item
        for fence in page.console_claims:
            yield ConsoleClaim.from_parent(self, name=f"$ {fence.course_command}", page=page, fence=fence)


class PageGrammar(CourseItem):
    def __init__(self, *, page: Page, **kwargs):
        super().__init__(**kwargs)
        self.page = page

    def runtest(self) -> None:
        problems = self.page.problems() + prose_claims.failures(
            self.page.claims, lambda snippet: quotes.output_of(snippet, self.page.text, self.page.root / DOCS_DIR)
        )
        if problems:
            raise PageError(f"{self.path.name}: " + "\n".join(problems))


class SnippetScript(CourseItem):
    def __init__(self, *, page: Page, fence: Fence, snippet: Snippet, **kwargs):
        super().__init__(**kwargs)
        self.page, self.fence, self.snippet = page, fence, snippet
        self.lineno = fence.lineno

    def runtest(self) -> None:
        snippet, where = self.snippet, f"{self.path.name}, line {self.fence.lineno}"
        if snippet.path.is_file() and snippet.needs_network:
            self.run_on_hub_or_twin(snippet, where)
            return
        reused = reused_run(self.config, runs.ALONE, snippet.name, snippet.script) if snippet.path.is_file() else None
        record = reused or self.run_alone(snippet, where)
        budget_mib = Limits.from_environment().budget_mib
        if record.peak_mib is not None and record.peak_mib > budget_mib:
            raise PageError(
                f"{where}: {SNIPPETS_DIR}/{snippet.name} took {record.peak_mib:,.0f} MiB at peak (and {record.wall_s:.1f} s); "
                f"the memory budget is {budget_mib:,.0f} MiB"
            )
        if (shown := self.fence.shown_output) is not None:
            mismatch = claim_mismatch(
                self.path, self.config.rootpath, snippet.name, snippet.script, shown, record.stdout
            )
            if mismatch and self.config.getoption("update_outputs"):
                rewrite_output(self.page, self.fence, record.stdout)
            elif mismatch:
                raise PageError(f"{where}: the output shown on the page no longer matches {snippet.name}: {mismatch}")
        check_claims_on_run(self.page, snippet.name, record.stdout, where)
        if reused is None:
            keep_and_compare(self.config.rootpath, record, where)

    @staticmethod
    def run_alone(snippet: Snippet, where: str) -> runs.RunRecord:
        """Run the snippet as a learner would, into a record (kept once every check has passed)."""
        run = run_snippet_checked(snippet, where, Limits.from_environment().stop_s)
        return runs.RunRecord(
            snippet.name,
            runs.ALONE,
            runs.RunKey.of(snippet.script),
            run.stdout,
            run.figures,
            cpu_s=round(run.cpu_s, 1),
            wall_s=round(run.wall_s, 1),
            peak_mib=round(run.peak_mib),
            device=run.device,
        )

    def run_on_hub_or_twin(self, snippet: Snippet, where: str) -> None:
        """A hub snippet runs as it is; offline, the same file runs on its twin (``MI_COURSE_HUB_TWINS=1``).

        The page shows what GPT-2 small prints in Colab, so only the output's structure is compared
        (``structure_mismatch``): its lines and words, its verdicts and which lists are empty. Its
        record keeps no cost, so that the badge does not show the twin's; its key says whether it ran
        on the twin, so that a later session reuses it only under the same connectivity.
        """
        env = None if hub_reachable() else {runs.TWINS_VARIABLE: "1"}
        key_env = {**os.environ, **(env or {})}
        record = reused_run(self.config, runs.ALONE, snippet.name, snippet.script, key_env)
        if record is None:
            run = run_snippet_checked(snippet, where, Limits.from_environment().stop_s, env=env)
            record = runs.RunRecord(snippet.name, runs.ALONE, runs.RunKey.of(snippet.script, key_env), run.stdout)
            keep = True
        else:
            keep = False
        if (shown := self.fence.shown_output) is not None and (mismatch := structure_mismatch(shown, record.stdout)):
            on = f"on {snippet.twin_model} (offline)" if env else "on the hub model"
            raise PageError(
                f"{where}: {SNIPPETS_DIR}/{snippet.name}, run {on}, no longer prints what the page shows: {mismatch}"
            )
        if keep:
            keep_and_compare(self.config.rootpath, record, where)


class ConsoleClaim(CourseItem):
    def __init__(self, *, page: Page, fence: Fence, **kwargs):
        super().__init__(**kwargs)
        self.page, self.fence = page, fence
        self.lineno = fence.lineno

    def runtest(self) -> None:
        (command, shown), where = self.fence.console_claim(), f"{self.path.name}, line {self.fence.lineno}"
        source = command_source(command, self.config.rootpath)
        reused = reused_run(self.config, runs.COMMAND, command, source)
        printed = reused.stdout if reused else self.run(command, where)
        mismatch = claim_mismatch(self.path, self.config.rootpath, command, source, shown, printed, live_timings=True)
        if mismatch and self.config.getoption("update_outputs"):
            rewrite_output(self.page, self.fence, printed)
        elif mismatch:
            raise PageError(f"{where}: the page no longer shows what `{command}` prints: {mismatch}")
        if reused is None:
            runs.save(self.config.rootpath, runs.RunRecord(command, runs.COMMAND, runs.RunKey.of(source), printed))

    @staticmethod
    def run(command: str, where: str) -> str:
        """What ``command`` prints, run as a reader would; fail if it cannot run or fails without a verdict."""
        try:
            done = run_command(command)
        except subprocess.TimeoutExpired:
            timeout_s = Limits.from_environment().timeout_s
            raise PageError(f"{where}: `{command}` was stopped after {timeout_s:g} s") from None
        except SnippetError as error:
            raise PageError(f"{where}: {error}") from None
        if done.returncode != 0 and "FAIL" not in done.stdout:
            raise PageError(f"{where}: `{command}` failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
        return done.stdout


# ---- notebook pages ------------------------------------------------------------------------------


class NotebookPage(pytest.File):
    def collect(self):
        yield NotebookClean.from_parent(self, name="clean")
        yield NotebookRun.from_parent(self, name="run")


def notebook_output_problems(notebook: dict) -> list[str]:
    """Which code cells of a notebook hold outputs or an execution count, one message per cell."""
    code_cells = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    return [
        f"code cell {number} has outputs or an execution count"
        for number, cell in enumerate(code_cells, start=1)
        if cell.get("outputs") or cell.get("execution_count") is not None
    ]


class NotebookClean(CourseItem):
    def runtest(self) -> None:
        problems = notebook_output_problems(json.loads(self.path.read_text(encoding="utf-8")))
        if problems:
            raise PageError(
                f"{self.path.name}: commit notebooks without outputs (the site build runs them): "
                + "; ".join(problems)
                + f". Clear them with: jupyter nbconvert --clear-output --inplace {self.path.name}"
            )


class NotebookRun(CourseItem):
    def runtest(self) -> None:
        import nbformat

        source = page_source(self.path)
        record = reused_run(self.config, runs.PAGE, page_name(self.config.rootpath, self.path), source)
        if record is None:
            try:
                record = run_page(self.config.rootpath, self.path, Limits.from_environment().timeout_s)
            except CellError as error:
                raise PageError(
                    f"{self.path.name}: a cell raised:\n{ANSI_ESCAPE.sub('', str(error))[-3000:]}"
                ) from None
        notebook = nbformat.reads(record.notebook, as_version=4)
        if problems := prose_claims.failures(
            notebook_claims(notebook), lambda name: quotes.cell_output(name, notebook)
        ):
            raise PageError(f"{self.path.name}: " + "\n".join(problems))
