"""Pytest plugin that tests the course's pages, so that no code on the site goes unrun.

For each ``docs/**/*.md`` it collects, using pytest-codeblocks' parser:

- ``<page>::fences``: fails if any code fence would be skipped silently (pytest-codeblocks runs
  only fences labelled exactly ``python``, ``sh`` or ``bash``), if a ``python`` fence mixes
  ``--8<--`` include lines with code, or if a skip marker gives no reason;
- ``<page>::line N``: each inline ``python``/``sh``/``bash`` block, run by pytest-codeblocks;
- ``<page>::snippets/<file>``: each included snippet, run as a standalone script in a fresh
  process from a temporary folder outside the repository (as a learner pasting it would), its
  output compared with the page's expected-output block, each number within the spread measured
  for it across CPU kernel settings (``tests/claims.py``);
- ``<page>::$ python -m mi_course ...``: each console block that shows such a command and its
  output, run the same way and compared the same way (live timings only by their format).

For each ``docs/**/*.ipynb`` (a notebook page, which mkdocs-jupyter runs at build time):

- ``<page>::clean``: fails if the committed notebook holds outputs or execution counts;
- ``<page>::run``: runs every cell in a fresh kernel from a temporary folder, failing with the
  traceback of the first cell that raises.

Enabled by ``-p tests.docs_plugin`` in pyproject.toml.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path

import pytest
import yaml
from pytest_codeblocks.main import CodeBlock, extract_from_file
from pytest_codeblocks.plugin import TestBlock

from tests.snippet_runner import SnippetError, SnippetRun, run_module, run_snippet, start_worker
from tests.claims import (
    for_device,
    load_recordings,
    masked,
    masked_runs,
    output_mismatch,
    refresh_command,
    running_device,
    source_digest,
    tolerances,
)

DOCS_DIR = "docs"
SNIPPETS_DIR = "snippets"
SNIPPET_TIMEOUT_S = 300  # notebook cells and console commands; a snippet is killed at twice its budget
MEASURE_TIMEOUT_S = 1800  # one run of `dev.py claims`: vector-free kernels are several times slower
# Every snippet must run within these on a CPU, as on a learner's laptop; the environment variables
# exist so that the plugin's own tests can show a breach fails without waiting a minute.
SNIPPET_BUDGET_S = float(os.environ.get("MI_COURSE_SNIPPET_BUDGET_S", 60))
SNIPPET_BUDGET_MIB = float(os.environ.get("MI_COURSE_SNIPPET_BUDGET_MIB", 4096))
# ATEN_CPU_CAPABILITY=default reproduces the numbers of torch's vector-free kernels, not a learner's speed:
# no x86 CPU a learner has runs them, and they are several times slower. Under it the time budget is
# reported, not enforced (the memory budget still is), and a snippet is stopped only after MEASURE_TIMEOUT_S.
VECTOR_FREE_KERNELS = os.environ.get("ATEN_CPU_CAPABILITY") == "default"
OVER_TIME_BUDGET: list[str] = []  # snippets over the time budget where it is not enforced
RUN_BY_CODEBLOCKS = {"python", "sh", "bash"}
PYTHON_LANGUAGES = {"py", "py3", "python", "python3", "pycon", "ipython", "ipython3", "pyi", "jupyter"}
INCLUDE_LINE = re.compile(r'^\s*-{1,3}8<-{1,3}\s+"([^"]+)"\s*$')
FENCE_OPEN = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
COURSE_COMMAND = re.compile(r"^\$ (?P<command>python -m mi_course .+)$")  # the first line of a console claim
# First line of a snippet that needs the network (a hub model); it names the snippet that runs offline instead.
NEEDS_NETWORK = re.compile(r"^# requires: network; offline twin: (?P<twin>\S+\.py)$")
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")  # the colours of an IPython traceback


@cache
def mkdocs_extra(rootpath: Path) -> dict:
    """The ``extra`` settings of mkdocs.yml, shared by the site's hooks and these tests."""
    return yaml.safe_load((rootpath / "mkdocs.yml").read_text(encoding="utf-8"))["extra"]


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
        terminalreporter.write_line(
            f"ATEN_CPU_CAPABILITY=default runs torch's vector-free kernels, so these snippets' times are not a learner's; "
            f"over {SNIPPET_BUDGET_S:g} s: " + ", ".join(OVER_TIME_BUDGET)
        )
    if DETERMINISM_NOT_CHECKED:
        terminalreporter.write_sep("=", "determinism not checked")
        terminalreporter.write_line(
            f"{len(DETERMINISM_NOT_CHECKED)} snippets ran without a notebook run of the same source and kernels to "
            "compare with (run their pages' notebooks: tests/test_page_notebooks.py): " + ", ".join(DETERMINISM_NOT_CHECKED)
        )


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    docs = parent.config.rootpath / DOCS_DIR
    if docs not in file_path.parents:
        return None
    if file_path.suffix == ".md":
        return CoursePage.from_parent(parent, path=file_path)
    if file_path.suffix == ".ipynb" and not any(part.startswith(".") for part in file_path.relative_to(docs).parts):
        return NotebookPage.from_parent(parent, path=file_path)  # MkDocs skips dot-folders such as .ipynb_checkpoints
    return None


@dataclass(frozen=True)
class Fence:
    lineno: int
    info: str
    body: list[str]


def read_fences(path: Path) -> list[Fence]:
    """Every fenced code block of a Markdown file, ``` or ~~~, at any indentation."""
    lines = path.read_text(encoding="utf-8").splitlines()
    fences, index = [], 0
    while index < len(lines):
        match = FENCE_OPEN.match(lines[index])
        if match is None:
            index += 1
            continue
        marker, start = match["fence"], index
        body, index = [], index + 1
        while index < len(lines) and not lines[index].strip().startswith(marker):
            body.append(lines[index])
            index += 1
        fences.append(Fence(lineno=start + 1, info=match["info"].strip(), body=body))
        index += 1
    return fences


def included_snippets(code: str) -> list[str] | None:
    """The snippet paths of an include-only block, or None if the block holds code."""
    lines = [line for line in code.splitlines() if line.strip()]
    matches = [INCLUDE_LINE.match(line) for line in lines]
    if lines and all(matches):
        return [match.group(1) for match in matches]
    return None


def fence_problems(path: Path, snippets_dir: Path) -> list[str]:
    """Why some code on the page would not be run, one message per problem."""
    problems = []
    python_fences = 0
    for fence in read_fences(path):
        language = fence.info.split()[0].lstrip("{.").rstrip("}").lower() if fence.info else ""
        if language in PYTHON_LANGUAGES and fence.info != "python":
            problems.append(
                f"line {fence.lineno}: fence '{fence.info}' is skipped silently by pytest-codeblocks; "
                "label Python blocks exactly 'python' (no title or options)"
            )
        if fence.info == "python":
            python_fences += 1
            code = "\n".join(fence.body)
            if "8<" in code and included_snippets(code) is None:
                problems.append(
                    f"line {fence.lineno}: a python block either includes snippets (only '--8<-- \"file\"' "
                    "lines) or holds code, not both"
                )
    text = path.read_text(encoding="utf-8")
    problems += network_twin_problems(text, snippets_dir)
    if "pytest-codeblocks:skipfile" in text or "pytest-codeblocks:skip-->" in text:
        problems.append("skipfile/skip markers hide blocks without a reason; use pytest.mark.skip(reason=...)")
    for mark in re.findall(r"<!--\s*(pytest\.mark\.skip\w*(?:\(.*?\))?)\s*-->", text):
        if "reason=" not in mark:
            problems.append(f"skip marker without a reason: {mark}")
    collected = sum(block.syntax == "python" for block in extract_from_file(path))
    if collected != python_fences:
        problems.append(
            f"the page has {python_fences} python fences but pytest-codeblocks collects {collected}; "
            "check fence syntax (indentation, unclosed fences)"
        )
    return problems


def network_twin_problems(text: str, snippets_dir: Path) -> list[str]:
    """Each included snippet that needs the network must name an offline twin that the same page includes."""
    included = [match.group(1) for line in text.splitlines() if (match := INCLUDE_LINE.match(line))]
    problems = []
    for snippet in included:
        path = snippets_dir / snippet
        first_line = path.read_text(encoding="utf-8").split("\n", 1)[0] if path.is_file() else ""
        if first_line.startswith("# requires: network"):
            match = NEEDS_NETWORK.match(first_line)
            if match is None:
                problems.append(f"{snippet}: write its first line as '# requires: network; offline twin: <snippet>.py'")
            elif match["twin"] not in included:
                problems.append(f"{snippet}: its offline twin {match['twin']} is not included on this page")
    return problems


class CoursePage(pytest.File):
    def collect(self):
        yield FenceCheck.from_parent(self, name="fences")
        for block in extract_from_file(self.path):
            if block.syntax not in RUN_BY_CODEBLOCKS:
                continue
            snippets = included_snippets(block.code) if block.syntax == "python" else None
            if snippets is None:
                item = TestBlock.from_parent(self, name=f"line {block.lineno}")
                item.obj = block
            else:
                for snippet in snippets:
                    item = SnippetScript.from_parent(
                        self, name=f"{SNIPPETS_DIR}/{snippet}", snippet=snippet, block=block
                    )
            for mark in block.marks:
                item.add_marker(eval(mark, {"sys": sys, "pytest": pytest}))
            yield item
        for claim in console_claims(self.path):
            yield ConsoleClaim.from_parent(self, name=f"$ {claim.command}", claim=claim)


class FenceCheck(pytest.Item):
    def runtest(self) -> None:
        problems = fence_problems(self.path, self.config.rootpath / SNIPPETS_DIR)
        if problems:
            raise PageError(f"{self.path.name}: " + "\n".join(problems))

    def repr_failure(self, excinfo):
        return str(excinfo.value) if excinfo.errisinstance(PageError) else super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, f"{self.path.name}::fences"


class PageError(AssertionError):
    """A page's code is broken or would not be run; the message says where."""


# What each snippet printed as a cell of its page's generated notebook (tests/test_page_notebooks.py
# fills it, and keeps it in NOTEBOOK_PRINTS_FILE for later sessions). Its standalone run must print the same numbers.
NOTEBOOK_PRINTS: dict[str, str] = {}
NOTEBOOK_PRINTS_FILE = "notebook-prints.json"  # beside extra.snippet_measurements
FIGURE_SUMMARY = re.compile(r'^(figure ".*": \d+ traces? \(.*\)|attention patterns: .*)$', re.MULTILINE)  # show() in a script
# Snippets whose determinism this session could not check (no notebook run of their current source here).
DETERMINISM_NOT_CHECKED: list[str] = []


def comparable_prints(output: str) -> list[str]:
    """Printed lines as the determinism check compares them: durations masked, figure summaries dropped."""
    return [line for line in masked(FIGURE_SUMMARY.sub("", output), mask_durations=True).splitlines() if line.strip()]


def first_difference(standalone: str, in_notebook: str) -> str | None:
    """The first line whose numbers differ between two runs of a snippet, or None if they print the same."""
    ours, theirs = comparable_prints(standalone), comparable_prints(in_notebook)
    for number, (line, other) in enumerate(zip(ours, theirs), start=1):
        if line != other:
            return f"line {number}: {line!r} standalone, {other!r} in the notebook"
    if len(ours) != len(theirs):
        return f"{len(ours)} lines standalone, {len(theirs)} in the notebook"
    return None


def measurements_folder(rootpath: Path) -> Path:
    return (rootpath / mkdocs_extra(rootpath)["snippet_measurements"]).parent


def kernel_environment() -> str:
    """The settings a run's numbers depend on besides its code: device and CPU kernels."""
    names = ("MI_COURSE_DEVICE", "ATEN_CPU_CAPABILITY", "MKL_ENABLE_INSTRUCTIONS")
    return " ".join(f"{name}={os.environ.get(name, '')}" for name in names)


def remember_notebook_prints(rootpath: Path, prints: dict[str, str]) -> None:
    """Keep what snippets printed in a notebook, with their source digest and kernel environment."""
    NOTEBOOK_PRINTS.update(prints)
    path = measurements_folder(rootpath) / NOTEBOOK_PRINTS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    known = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    for snippet, printed in prints.items():
        source = (rootpath / SNIPPETS_DIR / snippet).read_text(encoding="utf-8")
        known[snippet] = {"digest": source_digest(source), "environment": kernel_environment(), "printed": printed}
    path.write_text(json.dumps(dict(sorted(known.items())), indent=1) + "\n", encoding="utf-8")


def notebook_prints(rootpath: Path, snippet: str, source: str) -> str | None:
    """What ``snippet`` printed in its page's notebook, in this session or an earlier one with the same source and kernels."""
    if snippet in NOTEBOOK_PRINTS:
        return NOTEBOOK_PRINTS[snippet]
    path = measurements_folder(rootpath) / NOTEBOOK_PRINTS_FILE
    known = json.loads(path.read_text(encoding="utf-8")).get(snippet) if path.is_file() else None
    if known and known["digest"] == source_digest(source) and known["environment"] == kernel_environment():
        return known["printed"]
    return None


def record_measurement(rootpath: Path, snippet: str, source: str, run: SnippetRun) -> None:
    """Keep a passing ``run``'s time and memory as ``snippet``'s measurement, for this source; the site's badges show it."""
    from mi_course.runtime import device_description

    path = rootpath / mkdocs_extra(rootpath)["snippet_measurements"]
    path.parent.mkdir(parents=True, exist_ok=True)
    measurements = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    measurements[snippet] = {
        "cpu_s": round(run.cpu_s, 1), "wall_s": round(run.wall_s, 1), "peak_mib": round(run.peak_mib),
        "device": device_description(), "measured_on": time.strftime("%Y-%m-%d"),
        "sha256": hashlib.sha256(source.encode("utf-8")).hexdigest(),  # the site shows it only for this source
    }
    path.write_text(json.dumps(dict(sorted(measurements.items())), indent=1) + "\n", encoding="utf-8")


def rewrite_expected_output(page: Path, snippet: str, output: str) -> None:
    """Replace the expected-output block that follows the include of ``snippet`` on ``page``."""
    lines = page.read_text(encoding="utf-8").split("\n")
    include = next(i for i, line in enumerate(lines) if (m := INCLUDE_LINE.match(line)) and m.group(1) == snippet)
    marker = next(i for i in range(include, len(lines)) if "pytest-codeblocks:expected-output" in lines[i])
    opening = next(i for i in range(marker + 1, len(lines)) if FENCE_OPEN.match(lines[i]))
    indent = FENCE_OPEN.match(lines[opening])["indent"]
    closing = next(i for i in range(opening + 1, len(lines)) if lines[i].strip().startswith("```"))
    body = [f"{indent}{line}" if line else "" for line in output.rstrip("\n").split("\n")]
    page.write_text("\n".join(lines[: opening + 1] + body + lines[closing:]), encoding="utf-8")


def claim_mismatch(page: Path, rootpath: Path, key: str, source: str, shown: str, printed: str, *, live_timings: bool = False) -> str | None:
    """Compare a run with a page's claim, within the spread recorded for this source; fail if none is recorded."""
    recording, device = load_recordings(page).get(key), running_device()
    if recording is None or recording.digest != source_digest(source):
        state = "has no recorded spread" if recording is None else "changed since its spread was recorded"
        raise PageError(
            f"{page.name}: {key} {state} across CPU kernel settings, so its claim has no tolerance; "
            f"record it with: {refresh_command(page, rootpath)}"
        )
    recording = for_device(recording, device)
    if recording is None:
        raise PageError(
            f"{page.name}: {key} has no recorded run on {device}, so its claim has no tolerance there; "
            f"record it on a {device} machine with: {refresh_command(page, rootpath, device)}"
        )
    shown, printed = masked(shown, live_timings), masked(printed, live_timings)
    return output_mismatch(shown, printed, tolerances(shown, masked_runs(recording, live_timings)))


@cache
def hub_reachable() -> bool:
    """Whether the Hugging Face hub answers, asked once a session, by a snippet worker (TransformerLens is imported there)."""
    with tempfile.TemporaryDirectory(prefix="mi-course-probe-") as folder:
        probe = Path(folder) / "hub_probe.py"
        probe.write_text("from mi_course.zoo import hub_reachable\nraise SystemExit(0 if hub_reachable() else 3)\n")
        return run_snippet(probe).returncode == 0


class CourseItem(pytest.Item):
    def repr_failure(self, excinfo):
        return str(excinfo.value) if excinfo.errisinstance(PageError) else super().repr_failure(excinfo)


class SnippetScript(CourseItem):
    def __init__(self, *, snippet: str, block: CodeBlock, **kwargs):
        super().__init__(**kwargs)
        self.snippet = snippet
        self.block = block

    def runtest(self) -> None:
        snippet_file = self.config.rootpath / SNIPPETS_DIR / self.snippet
        where = f"{self.path.name}, line {self.block.lineno}"
        if not snippet_file.is_file():
            raise PageError(f"{where}: includes {SNIPPETS_DIR}/{self.snippet}, which does not exist")
        source = snippet_file.read_text(encoding="utf-8")
        needs_network = NEEDS_NETWORK.match(source.split("\n", 1)[0])
        if needs_network and not hub_reachable():
            pytest.skip(
                f"{SNIPPETS_DIR}/{self.snippet} needs the Hugging Face hub, which is unreachable; "
                f"its offline twin {SNIPPETS_DIR}/{needs_network['twin']} runs instead"
            )
        stop_after_s = MEASURE_TIMEOUT_S if VECTOR_FREE_KERNELS else 2 * SNIPPET_BUDGET_S
        try:
            run = run_snippet(snippet_file, timeout_s=stop_after_s, repo=self.config.rootpath)
        except subprocess.TimeoutExpired:
            raise PageError(f"{where}: {SNIPPETS_DIR}/{self.snippet} was stopped after {stop_after_s:g} s "
                            f"(budget: {SNIPPET_BUDGET_S:g} s)") from None
        except SnippetError as error:
            raise PageError(f"{where}: {error}") from None
        if run.returncode != 0:
            raise PageError(f"{where}: {SNIPPETS_DIR}/{self.snippet} failed (exit {run.returncode}):\n{run.stderr[-3000:]}")
        if run.network and not needs_network:
            raise PageError(
                f"{where}: {SNIPPETS_DIR}/{self.snippet} tried to reach {', '.join(run.network)}; a snippet runs offline "
                "unless its first line is '# requires: network; offline twin: <snippet>.py'"
            )
        if run.read_from_checkout:
            raise PageError(
                f"{where}: {SNIPPETS_DIR}/{self.snippet} read files of the repository checkout, which a learner "
                f"does not have; use the installed package instead: {', '.join(run.read_from_checkout)}"
            )
        over_time = run.wall_s > SNIPPET_BUDGET_S
        if over_time and VECTOR_FREE_KERNELS:
            OVER_TIME_BUDGET.append(f"{SNIPPETS_DIR}/{self.snippet} ({run.wall_s:.0f} s)")
        if (over_time and not VECTOR_FREE_KERNELS) or run.peak_mib > SNIPPET_BUDGET_MIB:
            raise PageError(
                f"{where}: {SNIPPETS_DIR}/{self.snippet} took {run.wall_s:.1f} s and {run.peak_mib:,.0f} MiB at peak; "
                f"the budget is {SNIPPET_BUDGET_S:g} s and {SNIPPET_BUDGET_MIB:,.0f} MiB"
            )
        in_notebook = notebook_prints(self.config.rootpath, self.snippet, source)
        if in_notebook is None:
            DETERMINISM_NOT_CHECKED.append(f"{SNIPPETS_DIR}/{self.snippet}")
        elif difference := first_difference(run.stdout, in_notebook):
            raise PageError(f"{where}: {SNIPPETS_DIR}/{self.snippet} is not deterministic: it printed different "
                            f"numbers standalone and in its page's notebook, {difference}")
        if self.block.expected_output is not None:
            mismatch = claim_mismatch(self.path, self.config.rootpath, self.snippet, source, self.block.expected_output, run.stdout)
            if mismatch and self.config.getoption("update_outputs"):
                rewrite_expected_output(self.path, self.snippet, run.stdout)
            elif mismatch:
                raise PageError(f"{where}: the output shown on the page no longer matches {self.snippet}: {mismatch}")
        record_measurement(self.config.rootpath, self.snippet, source, run)

    def reportinfo(self):
        return self.path, self.block.lineno, f"{self.path.name}::{self.name}"


@dataclass(frozen=True)
class CourseCommand:
    """A console block showing ``$ python -m mi_course ...`` and what it prints."""

    lineno: int
    command: str
    shown: str

    def source(self, rootpath: Path) -> str:
        """The command and the code it runs: for ``check STEP``, the step's solution snippets."""
        from mi_course.checkers import STEP_CHECKS

        words = self.command.split()
        step = STEP_CHECKS.get(words[4]) if words[3:4] == ["check"] and len(words) > 4 else None
        solutions = [path.read_text(encoding="utf-8") for path in step.solution_paths()] if step else []
        return "\n".join([self.command, *solutions])

    def run(self, env: dict[str, str] | None = None, timeout_s: float = SNIPPET_TIMEOUT_S) -> SnippetRun:
        """Run the command as a reader would, from an empty folder."""
        _, _, module, *args = self.command.split()  # python -m mi_course ...
        return run_module(module, args, timeout_s=timeout_s, env=env)


def console_claims(page: Path) -> list[CourseCommand]:
    """The page's console blocks that show a ``python -m mi_course`` command and its output."""
    claims = []
    for fence in read_fences(page):
        first = COURSE_COMMAND.match(fence.body[0].strip()) if fence.info == "console" and fence.body else None
        if first:
            claims.append(CourseCommand(fence.lineno, first["command"], "\n".join(line.strip() for line in fence.body[1:])))
    return claims


def rewrite_console_output(page: Path, claim: CourseCommand, output: str) -> None:
    """Replace the output lines of ``claim``'s console block on ``page``, keeping its command line."""
    lines = page.read_text(encoding="utf-8").split("\n")
    command_line = claim.lineno  # the line after the fence's opening, 0-based
    indent = FENCE_OPEN.match(lines[claim.lineno - 1])["indent"]
    closing = next(i for i in range(command_line + 1, len(lines)) if lines[i].strip().startswith("```"))
    body = [f"{indent}{line}" if line else "" for line in output.rstrip("\n").split("\n")]
    page.write_text("\n".join(lines[: command_line + 1] + body + lines[closing:]), encoding="utf-8")


class ConsoleClaim(CourseItem):
    def __init__(self, *, claim: CourseCommand, **kwargs):
        super().__init__(**kwargs)
        self.claim = claim

    def runtest(self) -> None:
        where = f"{self.path.name}, line {self.claim.lineno}"
        try:
            done = self.claim.run()
        except subprocess.TimeoutExpired:
            raise PageError(f"{where}: `{self.claim.command}` was stopped after {SNIPPET_TIMEOUT_S} s") from None
        except SnippetError as error:
            raise PageError(f"{where}: {error}") from None
        if done.returncode != 0 and "FAIL" not in done.stdout:
            raise PageError(f"{where}: `{self.claim.command}` failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
        source = self.claim.source(self.config.rootpath)
        mismatch = claim_mismatch(self.path, self.config.rootpath, self.claim.command, source, self.claim.shown,
                                  done.stdout, live_timings=True)
        if mismatch and self.config.getoption("update_outputs"):
            rewrite_console_output(self.path, self.claim, done.stdout)
        elif mismatch:
            raise PageError(f"{where}: the page no longer shows what `{self.claim.command}` prints: {mismatch}")

    def reportinfo(self):
        return self.path, self.claim.lineno, f"{self.path.name}::{self.name}"


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


class NotebookItem(pytest.Item):
    def repr_failure(self, excinfo):
        return str(excinfo.value) if excinfo.errisinstance(PageError) else super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, f"{self.path.name}::{self.name}"


class NotebookClean(NotebookItem):
    def runtest(self) -> None:
        problems = notebook_output_problems(json.loads(self.path.read_text(encoding="utf-8")))
        if problems:
            raise PageError(
                f"{self.path.name}: commit notebooks without outputs (the site build runs them): "
                + "; ".join(problems)
                + f". Clear them with: jupyter nbconvert --clear-output --inplace {self.path.name}"
            )


class NotebookRun(NotebookItem):
    def runtest(self) -> None:
        import nbformat  # imported here: only notebook pages need Jupyter
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError

        notebook = nbformat.read(self.path, as_version=4)
        with tempfile.TemporaryDirectory(prefix="mi-course-notebook-") as folder:
            client = NotebookClient(notebook, timeout=SNIPPET_TIMEOUT_S, resources={"metadata": {"path": folder}})
            try:
                client.execute()
            except CellExecutionError as error:
                raise PageError(f"{self.path.name}: a cell raised:\n{ANSI_ESCAPE.sub('', str(error))[-3000:]}") from None


@dataclass(frozen=True)
class PageClaim:
    """One claim of a page, as ``python3 dev.py claims`` measures it: its key, source, shown output and runner."""

    key: str
    source: str
    shown: str
    run: Callable[[dict[str, str]], str]  # kernel environment -> what the run printed
    live_timings: bool = False


def page_claims(page: Path, rootpath: Path) -> list[PageClaim]:
    """Every claim of a Markdown page that runs offline: included snippets with an expected output, and console commands."""
    claims = []
    for block in extract_from_file(page):
        snippets = included_snippets(block.code) if block.syntax == "python" else None
        if block.expected_output is None or not snippets:
            continue
        for snippet in snippets:
            snippet_file = rootpath / SNIPPETS_DIR / snippet
            source = snippet_file.read_text(encoding="utf-8")
            if not NEEDS_NETWORK.match(source.split("\n", 1)[0]):
                claims.append(PageClaim(snippet, source, block.expected_output, partial(printed_by_snippet, snippet_file)))
    for command in console_claims(page):
        claims.append(PageClaim(command.command, command.source(rootpath), command.shown, partial(printed_by_command, command),
                                live_timings=True))
    return claims


def printed_by_snippet(snippet_file: Path, env: dict[str, str]) -> str:
    run = run_snippet(snippet_file, timeout_s=MEASURE_TIMEOUT_S, env=env)
    if run.returncode != 0:
        raise PageError(f"snippets/{snippet_file.name} failed under {env}:\n{run.stderr[-3000:]}")
    return run.stdout


def printed_by_command(command: CourseCommand, env: dict[str, str]) -> str:
    done = command.run(env, timeout_s=MEASURE_TIMEOUT_S)
    if done.returncode != 0 and "FAIL" not in done.stdout:
        raise PageError(f"`{command.command}` failed under {env}:\n{done.stderr[-3000:]}")
    return done.stdout
