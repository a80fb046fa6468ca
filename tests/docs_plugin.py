"""Pytest plugin that tests the course's pages, so that no code on the site goes unrun.

For each ``docs/**/*.md`` it collects, using pytest-codeblocks' parser:

- ``<page>::fences``: fails if any code fence would be skipped silently (pytest-codeblocks runs
  only fences labelled exactly ``python``, ``sh`` or ``bash``), if a ``python`` fence mixes
  ``--8<--`` include lines with code, or if a skip marker gives no reason;
- ``<page>::line N``: each inline ``python``/``sh``/``bash`` block, run by pytest-codeblocks;
- ``<page>::snippets/<file>``: each included snippet, run as a standalone script in a fresh
  process from a temporary folder outside the repository (as a learner pasting it would), its
  output compared with the page's expected-output block, numbers within tolerance.

For each ``docs/**/*.ipynb`` (a notebook page, which mkdocs-jupyter runs at build time):

- ``<page>::clean``: fails if the committed notebook holds outputs or execution counts;
- ``<page>::run``: runs every cell in a fresh kernel from a temporary folder, failing with the
  traceback of the first cell that raises.

Enabled by ``-p tests.docs_plugin`` in pyproject.toml.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
import yaml
from pytest_codeblocks.main import CodeBlock, extract_from_file
from pytest_codeblocks.plugin import TestBlock

DOCS_DIR = "docs"
SNIPPETS_DIR = "snippets"
SNIPPET_TIMEOUT_S = 300  # notebook cells; a snippet is killed at twice its budget
# Every snippet must run within these on a CPU, as on a learner's laptop; the environment variables
# exist so that the plugin's own tests can show a breach fails without waiting a minute.
SNIPPET_BUDGET_S = float(os.environ.get("MI_COURSE_SNIPPET_BUDGET_S", 60))
SNIPPET_BUDGET_MIB = float(os.environ.get("MI_COURSE_SNIPPET_BUDGET_MIB", 4096))
RUN_BY_CODEBLOCKS = {"python", "sh", "bash"}
PYTHON_LANGUAGES = {"py", "py3", "python", "python3", "pycon", "ipython", "ipython3", "pyi", "jupyter"}
INCLUDE_LINE = re.compile(r'^\s*-{1,3}8<-{1,3}\s+"([^"]+)"\s*$')
FENCE_OPEN = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")
CLAIM_RTOL_ENV = "MI_COURSE_CLAIM_RTOL"  # on a CPU claims match to their last digit; the GPU workflow loosens it
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


@dataclass(frozen=True)
class SnippetRun:
    returncode: int
    stdout: str
    stderr: str
    wall_s: float
    cpu_s: float  # user + system time of the snippet's process
    peak_mib: float  # its peak resident memory
    read_from_checkout: tuple[str, ...] = ()  # files it opened in the repository, outside the installed package
    network: tuple[str, ...] = ()  # hosts it tried to reach, localhost aside


# Runs the script argv[1] as __main__; at exit, writes to argv[2] as JSON its CPU time, its peak memory,
# the files it opened inside the repository argv[3] but outside the installed places argv[4:] (the
# package's folders and the environment), and the hosts it tried to reach (audit events, so a blocked
# network or a lucky cache cannot hide an attempt). VmHWM, unlike the ru_maxrss a parent sees, starts afresh at
# exec: the test process's own footprint is not counted.
MEASURE = """
import atexit, json, os, re, resource, runpy, sys
script, report_file, repo, *installed = sys.argv[1:]
installed = [os.path.realpath(place) for place in (*installed, sys.prefix)]
from_checkout, network = set(), set()
LOCAL = ("localhost", "127.0.0.1", "::1", None)
def audit(event, args):
    if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.path.realpath(os.fsdecode(args[0]))
        if path.startswith(repo + os.sep) and not any(path.startswith(place + os.sep) for place in installed):
            from_checkout.add(path)
    elif event == "socket.getaddrinfo" and args[0] not in LOCAL:
        network.add(str(args[0]))
    elif event == "socket.connect" and isinstance(args[1], tuple) and args[1][0] not in LOCAL:
        network.add(str(args[1][0]))
def report():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    kib = int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1))
    with open(report_file, "w") as out:
        json.dump({"cpu_s": usage.ru_utime + usage.ru_stime, "peak_mib": kib / 1024,
                   "read_from_checkout": sorted(from_checkout), "network": sorted(network)}, out)
sys.addaudithook(audit)
atexit.register(report)
sys.argv = [script]
runpy.run_path(script, run_name="__main__")
"""


def installed_places() -> list[str]:
    """Where the course is installed: the folders of ``mi_course`` and its snippets (the checkout, if editable)."""
    import importlib.util

    return [place for name in ("mi_course", "mi_course.snippets")
            for place in importlib.util.find_spec(name).submodule_search_locations]


def run_snippet(snippet_file: Path, timeout_s: float = SNIPPET_TIMEOUT_S, repo: Path | None = None) -> SnippetRun:
    """Run a snippet as a learner would: a copy, alone in an empty folder, in a fresh isolated Python.

    Measures its wall time, CPU time and peak memory, and lists the files it opened inside ``repo``
    other than the installed package's. A run past ``timeout_s`` raises ``subprocess.TimeoutExpired``.
    """
    repo = os.path.realpath(repo or Path(__file__).resolve().parents[1])
    with tempfile.TemporaryDirectory(prefix="mi-course-snippet-") as folder, tempfile.TemporaryDirectory() as reports:
        script, report = Path(folder) / snippet_file.name, Path(reports) / "measured.json"
        shutil.copyfile(snippet_file, script)
        env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-I", "-c", MEASURE, str(script), str(report), repo, *installed_places()],
            cwd=folder, env=env, capture_output=True, text=True, timeout=timeout_s,
        )
        wall_s = time.perf_counter() - start
        measured = json.loads(report.read_text()) if report.is_file() else {}
    return SnippetRun(
        done.returncode, done.stdout, done.stderr, wall_s=wall_s, cpu_s=measured.get("cpu_s", float("nan")),
        peak_mib=measured.get("peak_mib", float("nan")), read_from_checkout=tuple(measured.get("read_from_checkout", ())),
        network=tuple(measured.get("network", ())),
    )


# What each snippet printed as a cell of its page's generated notebook, in this session
# (tests/test_page_notebooks.py fills it). Its standalone run must print the same numbers.
NOTEBOOK_PRINTS: dict[str, str] = {}
FIGURE_SUMMARY = re.compile(r'^(figure ".*": \d+ traces? \(.*\)|attention patterns: .*)$', re.MULTILINE)  # show() in a script
DURATION = re.compile(r"\b\d+(?:\.\d+)? ?(?:s|ms|seconds)\b")  # how long something took: not a result


def comparable_prints(output: str) -> list[str]:
    """Printed lines as the determinism check compares them: durations masked, figure summaries dropped."""
    return [DURATION.sub("<duration>", line) for line in FIGURE_SUMMARY.sub("", output).splitlines() if line.strip()]


def first_difference(standalone: str, in_notebook: str) -> str | None:
    """The first line whose numbers differ between two runs of a snippet, or None if they print the same."""
    ours, theirs = comparable_prints(standalone), comparable_prints(in_notebook)
    for number, (line, other) in enumerate(zip(ours, theirs), start=1):
        if line != other:
            return f"line {number}: {line!r} standalone, {other!r} in the notebook"
    if len(ours) != len(theirs):
        return f"{len(ours)} lines standalone, {len(theirs)} in the notebook"
    return None


def record_measurement(rootpath: Path, snippet: str, run: SnippetRun) -> None:
    """Keep ``run``'s time and memory as ``snippet``'s latest measurement, which the site's badges show."""
    from mi_course.runtime import device_description

    path = rootpath / mkdocs_extra(rootpath)["snippet_measurements"]
    path.parent.mkdir(parents=True, exist_ok=True)
    measurements = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    measurements[snippet] = {
        "cpu_s": round(run.cpu_s, 1), "wall_s": round(run.wall_s, 1), "peak_mib": round(run.peak_mib),
        "device": device_description(), "measured_on": time.strftime("%Y-%m-%d"),
    }
    path.write_text(json.dumps(dict(sorted(measurements.items())), indent=1) + "\n", encoding="utf-8")


def output_mismatch(expected: str, actual: str, rtol: float) -> str | None:
    """Compare printed output with a page's claim: text exactly, numbers within tolerance.

    Integers must match exactly; a decimal may differ by ``rtol`` relative or one unit of its
    last printed digit. Returns a description of the first difference, or None.
    """
    expected_lines, actual_lines = expected.strip().splitlines(), actual.strip().splitlines()
    if len(expected_lines) != len(actual_lines):
        return f"the page shows {len(expected_lines)} lines of output, the snippet printed {len(actual_lines)}"
    for number, (claim, printed) in enumerate(zip(expected_lines, actual_lines), start=1):
        if NUMBER.sub("#", claim).split() != NUMBER.sub("#", printed).split():
            return f"line {number}: page shows {claim!r}, snippet printed {printed!r}"
        for shown, measured in zip(NUMBER.findall(claim), NUMBER.findall(printed)):
            decimals = len(shown.split(".")[1]) if "." in shown and "e" not in shown else None
            if decimals is None and "e" not in shown:
                close = shown == measured
            else:
                unit = 10.0 ** -decimals if decimals else 0.0
                close = abs(float(shown) - float(measured)) <= max(rtol * abs(float(shown)), unit)
            if not close:
                return f"line {number}: page shows {shown} where the snippet printed {measured} ({printed!r})"
    return None


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


class SnippetScript(pytest.Item):
    def __init__(self, *, snippet: str, block: CodeBlock, **kwargs):
        super().__init__(**kwargs)
        self.snippet = snippet
        self.block = block

    def runtest(self) -> None:
        snippet_file = self.config.rootpath / SNIPPETS_DIR / self.snippet
        where = f"{self.path.name}, line {self.block.lineno}"
        if not snippet_file.is_file():
            raise PageError(f"{where}: includes {SNIPPETS_DIR}/{self.snippet}, which does not exist")
        needs_network = NEEDS_NETWORK.match(snippet_file.read_text(encoding="utf-8").split("\n", 1)[0])
        if needs_network:
            from mi_course.zoo import (
                hub_reachable,  # imports TransformerLens: only for network snippets
            )

            if not hub_reachable():
                pytest.skip(
                    f"{SNIPPETS_DIR}/{self.snippet} needs the Hugging Face hub, which is unreachable; "
                    f"its offline twin {SNIPPETS_DIR}/{needs_network['twin']} runs instead"
                )
        try:
            run = run_snippet(snippet_file, timeout_s=2 * SNIPPET_BUDGET_S, repo=self.config.rootpath)
        except subprocess.TimeoutExpired:
            raise PageError(f"{where}: {SNIPPETS_DIR}/{self.snippet} was stopped after {2 * SNIPPET_BUDGET_S:g} s "
                            f"(budget: {SNIPPET_BUDGET_S:g} s)") from None
        record_measurement(self.config.rootpath, self.snippet, run)
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
        if run.wall_s > SNIPPET_BUDGET_S or run.peak_mib > SNIPPET_BUDGET_MIB:
            raise PageError(
                f"{where}: {SNIPPETS_DIR}/{self.snippet} took {run.wall_s:.1f} s and {run.peak_mib:,.0f} MiB at peak; "
                f"the budget is {SNIPPET_BUDGET_S:g} s and {SNIPPET_BUDGET_MIB:,.0f} MiB"
            )
        if self.snippet in NOTEBOOK_PRINTS:
            difference = first_difference(run.stdout, NOTEBOOK_PRINTS[self.snippet])
            if difference:
                raise PageError(f"{where}: {SNIPPETS_DIR}/{self.snippet} is not deterministic: it printed different "
                                f"numbers standalone and in its page's notebook, {difference}")
        if self.block.expected_output is not None:
            rtol = float(os.environ.get(CLAIM_RTOL_ENV, "0"))  # on a CPU a seeded snippet prints what the page shows
            mismatch = output_mismatch(self.block.expected_output, run.stdout, rtol)
            if mismatch and self.config.getoption("update_outputs"):
                rewrite_expected_output(self.path, self.snippet, run.stdout)
                return
            if mismatch:
                raise PageError(f"{where}: the output shown on the page no longer matches {self.snippet}: {mismatch}")

    def repr_failure(self, excinfo):
        return str(excinfo.value) if excinfo.errisinstance(PageError) else super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, self.block.lineno, f"{self.path.name}::{self.name}"


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
