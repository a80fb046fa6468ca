"""The checks a page's code must pass, run as a learner runs it; the pytest plugin (``pytest_plugin.py``) and
``python3 dev.py claims`` (``claim_spread.py``) share them.

A snippet runs in a fresh process from an empty folder (``runner.py``) and fails if it cannot run,
raises, reaches for the network unmarked, or reads the repository checkout; a console claim runs
``python -m mi_course ...`` the same way. Each passing run is kept as a run record (``runs.py``) and
compared with its run of the same key in the page's notebook (``determinism.py``).
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from site_tools import determinism, prose_claims, quotes
from site_tools.claims import PageError
from site_tools.pages import DOCS_DIR, SNIPPETS_DIR, Fence, Page, Snippet
from site_tools.runner import SnippetError, SnippetRun, run_module, run_snippet
from site_tools.runs import RunRecord, program_text

MEASURE_TIMEOUT_S = 1800  # one run of `dev.py claims`: vector-free kernels are several times slower


@dataclass(frozen=True)
class Limits:
    """What a run of a page's code may cost, read from the environment when a check runs (not at import).

    Every snippet must run within 4 GiB on a CPU, as on a learner's laptop, and a breach fails. Its time is
    measured against a 60 s budget and reported, never enforced: a machine's speed is not the course's fault,
    so a test may not fail on wall-clock time (`python3 dev.py bench` times the snippets on a quiet machine).
    The environment variables let the plugin's own tests show a breach without waiting a minute.
    """

    budget_s: float  # a snippet's time budget: reported when passed, never enforced
    budget_mib: float  # a snippet's memory budget: enforced
    # ATEN_CPU_CAPABILITY=default reproduces the numbers of torch's vector-free kernels, not a learner's
    # speed: no x86 CPU a learner has runs them, and they are several times slower, so runs are stopped
    # only after MEASURE_TIMEOUT_S.
    vector_free_kernels: bool
    timeout_s: float  # notebook cells and console commands that run this long are stopped as hung
    stop_s: float  # a snippet that runs this long is stopped as hung: ten times its budget, beyond any slow machine

    @classmethod
    def from_environment(cls) -> Limits:
        budget_s = float(os.environ.get("MI_COURSE_SNIPPET_BUDGET_S", 60))
        vector_free = os.environ.get("ATEN_CPU_CAPABILITY") == "default"
        return cls(
            budget_s=budget_s,
            budget_mib=float(os.environ.get("MI_COURSE_SNIPPET_BUDGET_MIB", 4096)),
            vector_free_kernels=vector_free,
            timeout_s=MEASURE_TIMEOUT_S if vector_free else 300,
            stop_s=float(
                os.environ.get("MI_COURSE_SNIPPET_STOP_S", MEASURE_TIMEOUT_S if vector_free else 10 * budget_s)
            ),
        )


ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")  # the colours of an IPython traceback


def check_claims_on_run(page: Page, snippet: str, printed: str, where: str) -> None:
    """Fail if a claim of ``page`` that quotes ``snippet`` does not hold on what its run ``printed``."""
    docs = page.root / DOCS_DIR
    for claim in page.claims:
        if snippet in prose_claims.quoted_snippets(claim):
            try:
                prose_claims.check(
                    claim, lambda name: printed if name == snippet else quotes.output_of(name, page.text, docs)
                )
            except prose_claims.ClaimError as error:
                raise PageError(f"{where}: run of {SNIPPETS_DIR}/{snippet}: {error}") from None


@cache
def hub_reachable() -> bool:
    """Whether the Hugging Face hub answers, asked once a session, by a snippet worker (TransformerLens is imported there)."""
    with tempfile.TemporaryDirectory(prefix="mi-course-probe-") as folder:
        probe = Path(folder) / "hub_probe.py"
        probe.write_text("from mi_course.zoo import hub_reachable\nraise SystemExit(0 if hub_reachable() else 3)\n")
        return run_snippet(probe).returncode == 0


def run_snippet_checked(
    snippet: Snippet, where: str, timeout_s: float, env: dict[str, str] | None = None
) -> SnippetRun:
    """Run ``snippet``'s script as a learner would; fail with ``where`` if it cannot run, fails, or breaks the rules."""
    if not snippet.path.is_file():
        raise PageError(f"{where}: includes {SNIPPETS_DIR}/{snippet.name}, which does not exist")
    try:
        run = run_snippet(
            snippet.path,
            timeout_s=timeout_s,
            repo=snippet.root,
            script=snippet.script,
            env=env,
            figures=snippet.draws_figure,
        )
    except subprocess.TimeoutExpired:
        raise PageError(
            f"{where}: {SNIPPETS_DIR}/{snippet.name} was stopped after {timeout_s:g} s, as hung "
            f"(its time budget is {Limits.from_environment().budget_s:g} s)"
        ) from None
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


def keep_and_compare(rootpath: Path, record: RunRecord, where: str) -> None:
    """Keep a passing run's record; fail if it printed other numbers than its run of the same key in its notebook."""
    if problem := determinism.keep(rootpath, record):
        raise PageError(f"{where}: {problem}")


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
    return "\n".join(
        [command, *(program_text(path.read_text(encoding="utf-8")) for path in (step.sources() if step else []))]
    )


def run_command(command: str, env: dict[str, str] | None = None, timeout_s: float | None = None) -> SnippetRun:
    """Run a console claim's ``python -m mi_course ...`` as a reader would, from an empty folder."""
    _, _, module, *args = command.split()
    return run_module(
        module, args, timeout_s=Limits.from_environment().timeout_s if timeout_s is None else timeout_s, env=env
    )
