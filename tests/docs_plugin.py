"""Pytest plugin that tests the course's pages, so that no code on the site goes unrun.

Pages are read with the page model, ``site_tools/pages.py``. For each ``docs/**/*.md`` it collects:

- ``<page>::grammar``: fails if any code would be skipped silently or break the page grammar
  (``Page.problems``: a Python fence not labelled exactly ``python``, includes mixed with code, a
  skip without a reason, a network snippet naming no shipped model to run on), or if a claim of
  its prose does not hold on the outputs the page shows (``site_tools/prose_claims.py``);
- ``<page>::line N``: each inline ``python``/``sh``/``bash`` block, run by pytest-codeblocks;
- ``<page>::snippets/<file>``: each included snippet's script (``Snippet.script``: its includes
  expanded), run in a fresh process from a temporary folder outside the repository, as a learner
  pasting it would (``tests/snippet_runner.py``). Its output is compared with the page's
  expected-output block, each number within the spread measured for it across CPU kernel settings
  (``tests/claims.py``), and with its notebook run (``tests/determinism.py``); the prose claims quoting
  it must hold on what it printed. A passing run leaves
  its cost and its figures for the site (``site_tools/records.py``), which does not run it again;
- ``<page>::$ python -m mi_course ...``: each console claim, run and compared the same way (live timings
  only by their format).

For each ``docs/**/*.ipynb`` (a notebook page): ``<page>::clean`` fails if the committed notebook holds
outputs; ``<page>::run`` runs every cell in a fresh kernel from a temporary folder, failing with the
first traceback or if a claim of its markdown cells does not hold on what its code cells printed, and
keeps the executed notebook for the site to render (the build does not run it again).

Enabled by ``-p tests.docs_plugin`` in pyproject.toml.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path

import pytest
from pytest_codeblocks.main import CodeBlock
from pytest_codeblocks.plugin import TestBlock

from site_tools import prose_claims, quotes
from site_tools.pages import DOCS_DIR, SNIPPETS_DIR, Fence, Page, Snippet, notebook_claims, notebook_pages
from site_tools.records import executed_notebook_path, record_run
from tests.claims import PageError, claim_mismatch, structure_mismatch
from tests.determinism import DETERMINISM_NOT_CHECKED, first_difference, notebook_prints
from tests.snippet_runner import SnippetError, SnippetRun, run_module, run_snippet, start_worker

MEASURE_TIMEOUT_S = 1800  # one run of `dev.py claims`: vector-free kernels are several times slower
# Every snippet must run within 4 GiB on a CPU, as on a learner's laptop, and a breach fails. Its time is
# measured against a 60 s budget and reported, never enforced: a machine's speed is not the course's fault, so a
# test may not fail on wall-clock time (`python3 dev.py bench` times the snippets on a quiet machine). The
# environment variables let the plugin's own tests show a breach without waiting a minute.
SNIPPET_BUDGET_S = float(os.environ.get("MI_COURSE_SNIPPET_BUDGET_S", 60))
SNIPPET_BUDGET_MIB = float(os.environ.get("MI_COURSE_SNIPPET_BUDGET_MIB", 4096))
# ATEN_CPU_CAPABILITY=default reproduces the numbers of torch's vector-free kernels, not a learner's speed:
# no x86 CPU a learner has runs them, and they are several times slower, so runs are stopped only after
# MEASURE_TIMEOUT_S.
VECTOR_FREE_KERNELS = os.environ.get("ATEN_CPU_CAPABILITY") == "default"
# Notebook cells and console commands that run this long are stopped as hung.
SNIPPET_TIMEOUT_S = MEASURE_TIMEOUT_S if VECTOR_FREE_KERNELS else 300
# A page's snippet that runs this long is stopped as hung: ten times its budget, beyond any slow machine.
SNIPPET_STOP_S = float(os.environ.get("MI_COURSE_SNIPPET_STOP_S", MEASURE_TIMEOUT_S if VECTOR_FREE_KERNELS else 10 * SNIPPET_BUDGET_S))
OVER_TIME_BUDGET: list[str] = []  # snippets that took longer than the time budget on this machine
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")  # the colours of an IPython traceback


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-outputs", action="store_true",
        help="rewrite a page's expected-output block when its snippet prints something else (then review the diff)",
    )


def pytest_sessionstart(session: pytest.Session) -> None:
    """Start the snippet worker's imports now, overlapping collection, when the run will collect pages."""
    docs = session.config.rootpath / DOCS_DIR
    targets = [Path(arg.split("::")[0]).resolve() for arg in session.config.args]
    if any(target == docs or docs in target.parents or target in docs.parents for target in targets):
        start_worker(session.config.rootpath)


def pytest_terminal_summary(terminalreporter) -> None:
    if OVER_TIME_BUDGET:
        terminalreporter.write_sep("=", "time budget not enforced")
        slow = ("ATEN_CPU_CAPABILITY=default runs torch's vector-free kernels, so these times are not a learner's; "
                if VECTOR_FREE_KERNELS else "on this machine, as loaded as it was; `python3 dev.py bench` times them on a quiet one; ")
        terminalreporter.write_line(f"{slow}over {SNIPPET_BUDGET_S:g} s: " + ", ".join(OVER_TIME_BUDGET))
    if DETERMINISM_NOT_CHECKED:
        terminalreporter.write_sep("=", "determinism not checked")
        terminalreporter.write_line(
            f"{len(DETERMINISM_NOT_CHECKED)} snippets ran without a notebook run of the same source and kernels to "
            "compare with (run their pages' notebooks: tests/test_page_notebooks.py): " + ", ".join(DETERMINISM_NOT_CHECKED)
        )


# Producers before consumers: the page notebooks record what each snippet printed there (for the
# determinism check), the page tests record each run's cost, figures and executed notebooks, and the site,
# built once by the tests after them, shows those records instead of running anything again.
RUN_ORDER = ("tests/test_page_notebooks.py", f"{DOCS_DIR}/")


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        where = item.path.relative_to(config.rootpath).as_posix() if config.rootpath in item.path.parents else ""
        return next((number for number, prefix in enumerate(RUN_ORDER) if where.startswith(prefix)), len(RUN_ORDER))

    items.sort(key=rank)  # stable: each group keeps its order


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
                items = [SnippetScript.from_parent(self, name=f"{SNIPPETS_DIR}/{name}", page=page, fence=fence,
                                                   snippet=Snippet(name, self.config.rootpath)) for name in fence.includes]
            else:
                item = TestBlock.from_parent(self, name=f"line {fence.lineno}")
                item.obj = CodeBlock(fence.text + "\n", fence.lineno, fence.info,
                                     fence.shown_output + "\n" if fence.shown_output is not None else None, marks=fence.marks)
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
            self.page.claims, lambda snippet: quotes.output_of(snippet, self.page.text, self.page.root / DOCS_DIR))
        if problems:
            raise PageError(f"{self.path.name}: " + "\n".join(problems))


def check_claims_on_run(page: Page, snippet: str, printed: str, where: str) -> None:
    """Fail if a claim of ``page`` that quotes ``snippet`` does not hold on what its run ``printed``."""
    docs = page.root / DOCS_DIR
    for claim in page.claims:
        if snippet in prose_claims.quoted_snippets(claim):
            try:
                prose_claims.check(claim, lambda name: printed if name == snippet else quotes.output_of(name, page.text, docs))
            except prose_claims.ClaimError as error:
                raise PageError(f"{where}: run of {SNIPPETS_DIR}/{snippet}: {error}") from None


@cache
def hub_reachable() -> bool:
    """Whether the Hugging Face hub answers, asked once a session, by a snippet worker (TransformerLens is imported there)."""
    with tempfile.TemporaryDirectory(prefix="mi-course-probe-") as folder:
        probe = Path(folder) / "hub_probe.py"
        probe.write_text("from mi_course.zoo import hub_reachable\nraise SystemExit(0 if hub_reachable() else 3)\n")
        return run_snippet(probe).returncode == 0


def run_snippet_checked(snippet: Snippet, where: str, timeout_s: float, figure_log: Path | None = None,
                        env: dict[str, str] | None = None) -> SnippetRun:
    """Run ``snippet``'s script as a learner would; fail with ``where`` if it cannot run, fails, or breaks the rules."""
    if not snippet.path.is_file():
        raise PageError(f"{where}: includes {SNIPPETS_DIR}/{snippet.name}, which does not exist")
    from mi_course.plotting import FIGURE_LOG_ENV

    extra = (env or {}) | ({FIGURE_LOG_ENV: str(figure_log)} if figure_log else {})
    try:
        run = run_snippet(snippet.path, timeout_s=timeout_s, repo=snippet.root, script=snippet.script, env=extra)
    except subprocess.TimeoutExpired:
        raise PageError(f"{where}: {SNIPPETS_DIR}/{snippet.name} was stopped after {timeout_s:g} s, as hung "
                        f"(its time budget is {SNIPPET_BUDGET_S:g} s)") from None
    except SnippetError as error:
        raise PageError(f"{where}: {error}") from None
    if run.returncode != 0:
        raise PageError(f"{where}: {SNIPPETS_DIR}/{snippet.name} failed (exit {run.returncode}):\n{run.stderr[-3000:]}")
    if run.network and not snippet.needs_network:
        raise PageError(
            f"{where}: {SNIPPETS_DIR}/{snippet.name} tried to reach {', '.join(run.network)}; a snippet runs offline "
            "unless its first line is '# requires: network; offline, the tests run it on <shipped model>'"
        )
    if run.read_from_checkout:
        raise PageError(
            f"{where}: {SNIPPETS_DIR}/{snippet.name} read files of the repository checkout, which a learner "
            f"does not have; use the installed package instead: {', '.join(run.read_from_checkout)}"
        )
    return run


class SnippetScript(CourseItem):
    def __init__(self, *, page: Page, fence: Fence, snippet: Snippet, **kwargs):
        super().__init__(**kwargs)
        self.page, self.fence, self.snippet = page, fence, snippet
        self.lineno = fence.lineno

    def runtest(self) -> None:
        from mi_course.plotting import FIGURE_END, FIGURE_START

        snippet, where = self.snippet, f"{self.path.name}, line {self.fence.lineno}"
        if snippet.path.is_file() and snippet.needs_network:
            self.run_on_hub_or_twin(snippet, where)
            return
        with tempfile.TemporaryDirectory(prefix="mi-course-figures-") as folder:
            figure_log = Path(folder) / "figures.html"
            run = run_snippet_checked(snippet, where, SNIPPET_STOP_S, figure_log)
            logged = figure_log.read_text(encoding="utf-8") if figure_log.is_file() else ""
        figures = [part.split(f"\n{FIGURE_END}")[0] for part in logged.split(f"{FIGURE_START}\n")[1:]]
        if run.wall_s > SNIPPET_BUDGET_S:
            OVER_TIME_BUDGET.append(f"{SNIPPETS_DIR}/{snippet.name} ({run.wall_s:.0f} s)")
        if run.peak_mib > SNIPPET_BUDGET_MIB:
            raise PageError(
                f"{where}: {SNIPPETS_DIR}/{snippet.name} took {run.peak_mib:,.0f} MiB at peak (and {run.wall_s:.1f} s); "
                f"the memory budget is {SNIPPET_BUDGET_MIB:,.0f} MiB"
            )
        self.check_deterministic(run.stdout, where)
        if (shown := self.fence.shown_output) is not None:
            mismatch = claim_mismatch(self.path, self.config.rootpath, snippet.name, snippet.script, shown, run.stdout)
            if mismatch and self.config.getoption("update_outputs"):
                rewrite_output(self.page, self.fence, run.stdout)
            elif mismatch:
                raise PageError(f"{where}: the output shown on the page no longer matches {snippet.name}: {mismatch}")
        check_claims_on_run(self.page, snippet.name, run.stdout, where)
        record_run(self.config.rootpath, snippet.name, snippet.script, run.cpu_s, run.wall_s, run.peak_mib, figures)

    def check_deterministic(self, printed: str, where: str) -> None:
        """Fail unless the snippet printed the same standalone as in its page's notebook, run this session."""
        snippet = self.snippet
        in_notebook = notebook_prints(self.config.rootpath, snippet.name, snippet.script)
        if in_notebook is None:
            DETERMINISM_NOT_CHECKED.append(f"{SNIPPETS_DIR}/{snippet.name}")
        elif difference := first_difference(printed, in_notebook):
            raise PageError(f"{where}: {SNIPPETS_DIR}/{snippet.name} is not deterministic: it printed different "
                            f"numbers standalone and in its page's notebook, {difference}")

    def run_on_hub_or_twin(self, snippet: Snippet, where: str) -> None:
        """A hub snippet runs as it is; offline, the same file runs on its twin (``MI_COURSE_HUB_TWINS=1``).

        The page shows what GPT-2 small prints in Colab, so only the output's structure is compared
        (``structure_mismatch``): its lines and words, its verdicts and which lists are empty. Its
        cost is not recorded for the badge, which would otherwise show the twin's.
        """
        from mi_course.zoo import HUB_TWINS_SWITCH

        env = None if hub_reachable() else {HUB_TWINS_SWITCH: "1"}
        run = run_snippet_checked(snippet, where, SNIPPET_STOP_S, env=env)
        self.check_deterministic(run.stdout, where)
        if (shown := self.fence.shown_output) is not None and (mismatch := structure_mismatch(shown, run.stdout)):
            on = f"on {snippet.twin_model} (offline)" if env else "on the hub model"
            raise PageError(f"{where}: {SNIPPETS_DIR}/{snippet.name}, run {on}, no longer prints what the page shows: {mismatch}")


def rewrite_output(page: Page, fence: Fence, output: str) -> None:
    """Replace ``fence``'s shown output with ``output`` in the page as it is on disk now (other blocks may have been rewritten)."""
    index = next(number for number, candidate in enumerate(page.fences) if candidate is fence)
    current = Page.read(page.path, page.root)
    page.path.write_text(current.replace_output(current.fences[index], output), encoding="utf-8")


def command_source(command: str, rootpath: Path) -> str:
    """A console claim's command and the code whose text its output depends on (for ``check STEP``, the step's sources)."""
    from mi_course.checkers import STEP_CHECKS

    words = command.split()
    step = STEP_CHECKS.get(words[4]) if words[3:4] == ["check"] and len(words) > 4 else None
    return "\n".join([command, *(path.read_text(encoding="utf-8") for path in (step.sources() if step else []))])


def run_command(command: str, env: dict[str, str] | None = None, timeout_s: float = SNIPPET_TIMEOUT_S) -> SnippetRun:
    """Run a console claim's ``python -m mi_course ...`` as a reader would, from an empty folder."""
    _, _, module, *args = command.split()
    return run_module(module, args, timeout_s=timeout_s, env=env)


class ConsoleClaim(CourseItem):
    def __init__(self, *, page: Page, fence: Fence, **kwargs):
        super().__init__(**kwargs)
        self.page, self.fence = page, fence
        self.lineno = fence.lineno

    def runtest(self) -> None:
        command, where = self.fence.course_command, f"{self.path.name}, line {self.fence.lineno}"
        try:
            done = run_command(command)
        except subprocess.TimeoutExpired:
            raise PageError(f"{where}: `{command}` was stopped after {SNIPPET_TIMEOUT_S} s") from None
        except SnippetError as error:
            raise PageError(f"{where}: {error}") from None
        if done.returncode != 0 and "FAIL" not in done.stdout:
            raise PageError(f"{where}: `{command}` failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
        mismatch = claim_mismatch(self.path, self.config.rootpath, command, command_source(command, self.config.rootpath),
                                  self.fence.shown_output, done.stdout, live_timings=True)
        if mismatch and self.config.getoption("update_outputs"):
            rewrite_output(self.page, self.fence, done.stdout)
        elif mismatch:
            raise PageError(f"{where}: the page no longer shows what `{command}` prints: {mismatch}")


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

        from site_tools.notebooks import CellError, execute_page

        try:
            executed = execute_page(self.path, SNIPPET_TIMEOUT_S)
        except CellError as error:
            raise PageError(f"{self.path.name}: a cell raised:\n{ANSI_ESCAPE.sub('', str(error))[-3000:]}") from None
        notebook = nbformat.reads(executed, as_version=4)
        if problems := prose_claims.failures(notebook_claims(notebook), lambda name: quotes.cell_output(name, notebook)):
            raise PageError(f"{self.path.name}: " + "\n".join(problems))
        target = executed_notebook_path(self.config.rootpath, self.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(executed, encoding="utf-8")
