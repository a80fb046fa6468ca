"""The page-testing pipeline catches each way a page's code can break or go unrun.

Each test builds a tiny course (a page and its snippets) and runs pytest on it with the plugin, in this
process (``runpytest_inprocess``: a fresh interpreter for each of them cost about a second); its snippets
still run in processes of their own.
"""

import functools
import os
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

import mi_course.checkers  # noqa: F401  imported before pytester snapshots sys.modules: torch cannot load twice
from site_tools import runs
from site_tools.claims import (
    KERNEL_SETTINGS,
    Recording,
    masked,
    output_mismatch,
    save_recording,
    spread_problem,
    tolerances,
)
from site_tools.determinism import first_difference
from site_tools.page_checks import command_source, run_command

pytest_plugins = ["pytester"]
REPO = Path(__file__).resolve().parents[1]

RUN_RECORDS = "build/runs"  # the run records' folder (site_tools/runs.py)
# The tiny course's own pytest session: its pages only. It needs no cache, no hypothesis, no xdist and no
# assertion rewriting (its items fail with their own messages); together they would cost it a second and more.
INNER_SESSION = ("docs", "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:xdist", "--assert=plain")
GOOD_SNIPPET = 'print("accuracy: 0.9808")\n'
GOOD_PAGE = """# A page

```python
--8<-- "demo/ok.py"
```

<!--pytest-codeblocks:expected-output-->
```text
accuracy: 0.9808
```

```python
print(1 + 1)
```
"""


def recorded_as_printed(snippets: dict[str, str]) -> dict[str, dict[str, str]]:
    """A recording of each snippet printing its own ``print("...")`` text under every kernel setting."""
    return {
        name: {setting: code.split('"')[1] for setting in KERNEL_SETTINGS}
        for name, code in snippets.items()
        if code.startswith('print("')
    }


@pytest.fixture
def run_course(pytester, monkeypatch):
    """Write a course with the given page, snippets and claim recordings, run pytest on it, return the outcome.

    Unless ``recorded`` says otherwise, each snippet that only prints a string is recorded as
    printing it under every kernel setting (no spread).
    """
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.setenv("MI_COURSE_SNIPPET_PRELOAD", "0")  # these snippets import nothing heavy

    def run(page: str, snippets: dict[str, str], recorded: dict[str, dict[str, str]] | None = None, *options: str):
        pytester.makepyprojecttoml('[tool.pytest.ini_options]\naddopts = "-p site_tools.pytest_plugin"\n')
        (pytester.path / "mkdocs.yml").write_text(f"extra:\n  run_records: {RUN_RECORDS}\n")
        (pytester.path / "docs").mkdir()
        (pytester.path / "docs" / "page.md").write_text(page)
        for name, code in snippets.items():
            path = pytester.path / "snippets" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(code)
        for name, printed in (recorded_as_printed(snippets) if recorded is None else recorded).items():
            recording = Recording(runs.digest(snippets[name]), printed)
            save_recording(pytester.path / "docs" / "page.md", name, recording, pytester.path)
        return pytester.runpytest_inprocess(*INNER_SESSION, "-rs", *options)

    return run


def test_a_good_page_passes(run_course):
    result = run_course(GOOD_PAGE, {"demo/ok.py": GOOD_SNIPPET})
    result.assert_outcomes(passed=3)  # the grammar, the snippet, the inline block


def test_each_snippet_run_records_its_cpu_time_peak_memory_and_device(run_course, pytester):
    hungry = "import time\nimport torch\nblock = bytearray(300 * 2**20)\nend = time.process_time() + 0.5\nwhile time.process_time() < end:\n    pass\n"
    page = GOOD_PAGE.replace("<!--pytest-codeblocks:expected-output-->\n```text\naccuracy: 0.9808\n```\n", "")
    run_course(page, {"demo/ok.py": hungry}).assert_outcomes(passed=3)
    measured = runs.last(pytester.path, runs.ALONE, "demo/ok.py")
    assert 0.5 <= measured.cpu_s < 10 and measured.peak_mib >= 300, measured
    assert measured.device.startswith("cpu: ") and measured.wall_s >= measured.cpu_s - 0.2


@pytest.mark.parametrize(
    "limit, snippet, breach",
    [
        (
            "MI_COURSE_SNIPPET_STOP_S",
            "import time\ntime.sleep(3)\n",
            "was stopped after 1 s, as hung (its time budget is 60 s)",
        ),
        ("MI_COURSE_SNIPPET_BUDGET_MIB", "block = bytearray(300 * 2**20)\n", "the memory budget is 200 MiB"),
    ],
)
def test_a_snippet_over_its_memory_budget_or_hung_fails(run_course, monkeypatch, limit, snippet, breach):
    monkeypatch.setenv(limit, "1" if limit.endswith("_S") else "200")
    page = GOOD_PAGE.replace("<!--pytest-codeblocks:expected-output-->\n```text\naccuracy: 0.9808\n```\n", "")
    result = run_course(page, {"demo/ok.py": snippet})
    result.assert_outcomes(passed=2, failed=1)
    assert breach in result.stdout.str()


@pytest.mark.parametrize("kernels", ["avx2", "default"])
def test_a_snippet_over_its_time_budget_is_reported_not_failed(run_course, monkeypatch, kernels):
    """No test fails on wall-clock time: a slow or busy machine is not a broken course."""
    monkeypatch.setenv("MI_COURSE_SNIPPET_BUDGET_S", "0.5")
    monkeypatch.setenv("ATEN_CPU_CAPABILITY", kernels)
    page = GOOD_PAGE.replace("<!--pytest-codeblocks:expected-output-->\n```text\naccuracy: 0.9808\n```\n", "")
    result = run_course(page, {"demo/ok.py": "import time\ntime.sleep(0.8)\n"})
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*time budget not enforced*", "*over 0.5 s: snippets/demo/ok.py (1 s)*"])


def test_a_snippet_that_reads_the_repository_checkout_fails(run_course, pytester):
    reader = "from pathlib import Path\nprint(len(Path(PAGE).read_text()))\n".replace(
        "PAGE", repr(str(pytester.path / "docs" / "page.md"))
    )
    page = GOOD_PAGE.replace("<!--pytest-codeblocks:expected-output-->\n```text\naccuracy: 0.9808\n```\n", "")
    result = run_course(page, {"demo/ok.py": reader})
    result.assert_outcomes(passed=2, failed=1)
    assert "read files of the repository checkout" in result.stdout.str() and "docs/page.md" in result.stdout.str()


def test_a_snippet_that_reaches_for_the_network_unmarked_fails(run_course):
    caller = "import socket\ntry:\n    socket.getaddrinfo('example.org', 443)\nexcept OSError:\n    pass\n"
    page = GOOD_PAGE.replace("<!--pytest-codeblocks:expected-output-->\n```text\naccuracy: 0.9808\n```\n", "")
    result = run_course(page, {"demo/ok.py": caller})
    result.assert_outcomes(passed=2, failed=1)
    assert "tried to reach example.org; a snippet runs offline" in result.stdout.str()


def test_the_determinism_check_compares_numbers_but_not_durations_or_figure_summaries():
    standalone = 'loss 1.2345\ntraining time: 24.7 s (criterion: <= 60 s)\nfigure "Loss": 1 trace (train)\n'
    assert first_difference(standalone, "loss 1.2345\ntraining time: 31.2 s (criterion: <= 60 s)\n") is None
    assert first_difference(standalone, "loss 1.2346\ntraining time: 24.7 s (criterion: <= 60 s)\n") == (
        "line 1: 'loss 1.2345' alone, 'loss 1.2346' in the notebook"
    )
    assert first_difference(standalone, "loss 1.2345\n") == "2 lines alone, 1 in the notebook"


def test_a_snippet_that_prints_other_numbers_in_its_notebook_fails(run_course, pytester):
    """Whichever runs second compares: here the notebook's run of the same key is on record before the page test."""
    (pytester.path / "mkdocs.yml").write_text(f"extra:\n  run_records: {RUN_RECORDS}\n")
    runs.save(
        pytester.path, runs.RunRecord("demo/ok.py", runs.NOTEBOOK, runs.RunKey.of(GOOD_SNIPPET), "accuracy: 0.9712\n")
    )
    result = run_course(GOOD_PAGE, {"demo/ok.py": GOOD_SNIPPET})
    result.assert_outcomes(passed=2, failed=1)
    assert "is not deterministic" in result.stdout.str() and "'accuracy: 0.9808' alone" in result.stdout.str()


def test_a_notebook_run_of_another_key_is_not_compared_and_the_snippet_is_reported_unchecked(run_course, pytester):
    (pytester.path / "mkdocs.yml").write_text(f"extra:\n  run_records: {RUN_RECORDS}\n")
    stale = runs.RunKey("0" * 16, runs.package_digest(), runs.kernel_environment())
    runs.save(pytester.path, runs.RunRecord("demo/ok.py", runs.NOTEBOOK, stale, "accuracy: 0.9712\n"))
    result = run_course(GOOD_PAGE, {"demo/ok.py": GOOD_SNIPPET})
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*determinism not checked*", "*snippets/demo/ok.py*"])


def test_a_snippet_that_raises_fails(run_course):
    result = run_course(GOOD_PAGE, {"demo/ok.py": 'raise ValueError("boom")\n'})
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*snippets/demo/ok.py failed (exit 1)*", "*ValueError: boom*"])


def test_a_docs_block_that_raises_fails(run_course):
    result = run_course(GOOD_PAGE.replace("print(1 + 1)", "1 / 0"), {"demo/ok.py": GOOD_SNIPPET})
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*division by zero*"])


def test_including_a_missing_snippet_fails(run_course):
    result = run_course(GOOD_PAGE.replace("demo/ok.py", "demo/gone.py"), {"demo/ok.py": GOOD_SNIPPET})
    result.assert_outcomes(passed=1, failed=2)  # the grammar check and the snippet item both say so
    result.stdout.fnmatch_lines(["*includes snippets/demo/gone.py, which does not exist*"])


def test_a_page_claim_that_drifted_from_the_snippet_fails(run_course):
    result = run_course(GOOD_PAGE, {"demo/ok.py": 'print("accuracy: 0.9500")\n'})
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*page shows 0.9808 where the run printed 0.9500, not within 0.0001*"])


SCORES_SNIPPET = 'print("zero-ablated 4.377\\nmean-ablated 4.450")\n'
SCORES_PAGE = """# A page

Here mean ablation hurts more than zero ablation.
<!--claim: printed("demo/scores.py", "mean-ablated") > printed("demo/scores.py", "zero-ablated")-->

```python
--8<-- "demo/scores.py"
```

<!--pytest-codeblocks:expected-output-->
```text
zero-ablated 4.377
mean-ablated 4.450
```
"""


def test_a_prose_claim_that_holds_passes(run_course):
    run_course(SCORES_PAGE, {"demo/scores.py": SCORES_SNIPPET}).assert_outcomes(passed=2)


def test_a_prose_claim_that_the_shown_output_contradicts_fails_the_grammar_check(run_course):
    result = run_course(
        SCORES_PAGE.replace("mean-ablated 4.450", "mean-ablated 4.350"),
        {"demo/scores.py": SCORES_SNIPPET.replace("4.450", "4.350")},
    )
    result.assert_outcomes(failed=2)  # the grammar check, on the page's output; the snippet's test, on its run
    result.stdout.fnmatch_lines(["page.md: line 4: the prose claims *which no longer holds*mean-ablated* = 4.35,*"])


def test_a_prose_claim_that_a_rerun_flips_fails_even_when_the_outputs_are_rewritten(run_course):
    retrained = SCORES_SNIPPET.replace("4.450", "4.250")
    result = run_course(
        SCORES_PAGE,
        {"demo/scores.py": retrained},
        {"demo/scores.py": {setting: "zero-ablated 4.377\nmean-ablated 4.250" for setting in KERNEL_SETTINGS}},
        "--update-outputs",
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*run of snippets/demo/scores.py: line 4: the prose claims*no longer holds*"])


def test_update_outputs_rewrites_every_block_that_changed(run_course, pytester):
    page = GOOD_PAGE.replace(
        "```python\nprint(1 + 1)\n```",
        '```python\n--8<-- "demo/two.py"\n```\n\n<!--pytest-codeblocks:expected-output-->\n```text\nloss: 2.5\n```',
    )
    snippets = {"demo/ok.py": 'print("accuracy: 0.9811")\n', "demo/two.py": 'print("loss: 1.25")\n'}
    run_course(page, snippets, recorded_as_printed(snippets), "--update-outputs")
    rewritten = (pytester.path / "docs" / "page.md").read_text()
    assert "accuracy: 0.9811" in rewritten and "loss: 1.25" in rewritten  # both, not only the last one rewritten


@pytest.mark.parametrize(
    "claim, message, failed",
    [  # a claim quoting the snippet fails its run's test too
        ('printed("demo/scores.py", "mean-ablated")', "is a number, not a comparison", 2),
        ('__import__("os") == 1', "is not allowed in a claim", 1),
        ('printed("demo/scores.py", "median") > 1', "no line of the output holds 'median'", 2),
    ],
)
def test_a_malformed_prose_claim_fails_and_says_why(run_course, claim, message, failed):
    page = SCORES_PAGE.replace(
        'printed("demo/scores.py", "mean-ablated") > printed("demo/scores.py", "zero-ablated")', claim
    )
    result = run_course(page, {"demo/scores.py": SCORES_SNIPPET})
    result.assert_outcomes(passed=2 - failed, failed=failed)
    result.stdout.fnmatch_lines([f"page.md: line 4: claim *{message}*"])


def test_a_console_claim_compares_a_live_timing_and_its_verdict_by_format_only():
    shown = "[step1] PASS  accuracy: 98.05%\n[step1] PASS  training time: 24.7 s (criterion: <= 60 s)"
    slow = "[step1] PASS  accuracy: 98.05%\n[step1] FAIL  training time: 126.3 s (criterion: <= 60 s)"
    assert masked(shown, mask_durations=True) == masked(slow, mask_durations=True)
    assert masked(shown, mask_durations=False) != masked(slow, mask_durations=False)
    failing = slow.replace("PASS  accuracy", "FAIL  accuracy")
    assert masked(shown, mask_durations=True) != masked(failing, mask_durations=True)


SPREAD = {
    "default": "accuracy: 0.9808",
    "avx2": "accuracy: 0.9812",
    "no-vector": "accuracy: 0.9805",
    "mkl-avx2": "accuracy: 0.9808",
}


@pytest.mark.parametrize(
    ("printed", "passes"), [("0.9808", True), ("0.9821", True), ("0.9790", False), ("0.9840", False)]
)
def test_a_claim_is_held_to_twice_its_measured_spread(run_course, printed, passes):
    snippet = f'print("accuracy: {printed}")\n'
    result = run_course(GOOD_PAGE, {"demo/ok.py": snippet}, recorded={"demo/ok.py": SPREAD})  # spread 0.0007
    result.assert_outcomes(passed=3 if passes else 2, failed=0 if passes else 1)
    if not passes:
        result.stdout.fnmatch_lines([f"*page shows 0.9808 where the run printed {printed}, not within 0.0014*"])


def test_the_claims_command_refuses_a_claim_that_a_kernel_setting_prints_differently():
    portable = Recording("digest", SPREAD)
    assert spread_problem("accuracy: 0.9808", portable) is None
    other_text = Recording("digest", SPREAD | {"avx2": "accuracy: 0.9812 (unstable)"})
    assert "under the kernel setting 'avx2'" in spread_problem("accuracy: 0.9808", other_text)
    assert "page shows 0.9700" in spread_problem("accuracy: 0.9700", portable)  # the page strays from every run


@functools.cache
def printed_by_check_step4() -> str:
    """What ``python -m mi_course check step4`` prints here, as a recording made here would hold it."""
    return run_command("python -m mi_course check step4").stdout.strip()


@pytest.mark.parametrize("passes", [True, False])
def test_a_console_block_of_a_course_command_is_run_and_compared(run_course, pytester, passes):
    command = "python -m mi_course check step4"
    printed = printed_by_check_step4()
    shown = printed if passes else printed.replace("Step 4", "Step 5", 1)
    page = f"# A page\n\n```console\n$ {command}\n{shown}\n```\n"
    recording = Recording(
        runs.digest(command_source(command, REPO)), dict.fromkeys(KERNEL_SETTINGS, printed), live_timings=True
    )
    run_course(page, {}, recorded={})
    save_recording(pytester.path / "docs" / "page.md", command, recording, pytester.path)
    result = pytester.runpytest_inprocess(*INNER_SESSION)
    result.assert_outcomes(passed=2 if passes else 1, failed=0 if passes else 1)
    if not passes:
        result.stdout.fnmatch_lines(
            ["*no longer shows what `python -m mi_course check step4` prints*page shows 5 where the run printed 4*"]
        )


def test_a_claim_without_a_recorded_spread_fails_with_the_command_that_records_it(run_course):
    result = run_course(GOOD_PAGE, {"demo/ok.py": GOOD_SNIPPET}, recorded={})
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        ["*demo/ok.py has no recorded spread*record it with: python3 dev.py claims docs/page.md*"]
    )


def test_a_claim_whose_snippet_changed_since_its_spread_was_recorded_fails(run_course, pytester):
    run_course(GOOD_PAGE, {"demo/ok.py": GOOD_SNIPPET}, recorded={"demo/ok.py": SPREAD}).assert_outcomes(passed=3)
    (pytester.path / "snippets" / "demo" / "ok.py").write_text(GOOD_SNIPPET + "unused = 1\n")
    result = pytester.runpytest_inprocess(*INNER_SESSION)
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        ["*demo/ok.py changed since its spread was recorded*python3 dev.py claims docs/page.md*"]
    )


def test_reformatting_a_snippet_or_editing_its_comments_keeps_its_recording_and_its_run(run_course, pytester):
    """A recording is of the program, not of its layout: ruff format or a rewrapped comment changes neither."""
    run_course(GOOD_PAGE, {"demo/ok.py": GOOD_SNIPPET}, recorded={"demo/ok.py": SPREAD}).assert_outcomes(passed=3)
    (pytester.path / "snippets" / "demo" / "ok.py").write_text("# a comment\nprint(\n    'accuracy: 0.9808'\n)\n")
    result = pytester.runpytest_inprocess(*INNER_SESSION)
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*runs reused*", "*checked from it, not run again*demo/ok.py*"])
    assert (
        runs.digest(GOOD_SNIPPET + "# edited\n") == runs.digest(GOOD_SNIPPET) != runs.digest(GOOD_SNIPPET + "x = 1\n")
    )


def test_a_run_of_the_same_key_is_reused_and_said_so_unless_rerun_is_asked(run_course, pytester):
    run_course(GOOD_PAGE, {"demo/ok.py": GOOD_SNIPPET}).assert_outcomes(passed=3)
    first = runs.last(pytester.path, runs.ALONE, "demo/ok.py")
    again = pytester.runpytest_inprocess(*INNER_SESSION)
    again.assert_outcomes(passed=3)
    again.stdout.fnmatch_lines(["*runs reused*", "*1 snippets, notebooks and commands had a run record*demo/ok.py*"])
    assert runs.last(pytester.path, runs.ALONE, "demo/ok.py") == first, "a reused run leaves its record as it was"
    rerun = pytester.runpytest_inprocess(*INNER_SESSION, "--rerun")
    rerun.assert_outcomes(passed=3)
    assert "runs reused" not in rerun.stdout.str()
    assert runs.last(pytester.path, runs.ALONE, "demo/ok.py").finished_at > first.finished_at


def test_a_snippet_that_exits_without_its_measurements_fails(run_course, pytester):
    page = GOOD_PAGE.replace("<!--pytest-codeblocks:expected-output-->\n```text\naccuracy: 0.9808\n```\n", "")
    result = run_course(page, {"demo/ok.py": "import os\nos._exit(0)\n"})
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*exited (status 0) without writing its measurements*"])
    assert runs.last(pytester.path, runs.ALONE, "demo/ok.py") is None


def test_only_a_passing_run_is_measured_and_the_measurement_names_its_source(run_course, pytester):
    page = GOOD_PAGE.replace("<!--pytest-codeblocks:expected-output-->\n```text\naccuracy: 0.9808\n```\n", "")
    run_course(page, {"demo/ok.py": 'raise ValueError("boom")\n'}).assert_outcomes(passed=2, failed=1)
    assert runs.last(pytester.path, runs.ALONE, "demo/ok.py") is None
    (pytester.path / "snippets" / "demo" / "ok.py").write_text(GOOD_SNIPPET)
    pytester.runpytest_inprocess(*INNER_SESSION).assert_outcomes(passed=3)
    assert runs.last(pytester.path, runs.ALONE, "demo/ok.py").key == runs.RunKey.of(GOOD_SNIPPET)


def test_a_snippet_without_a_notebook_run_says_its_determinism_was_not_checked(run_course):
    result = run_course(GOOD_PAGE, {"demo/ok.py": GOOD_SNIPPET})
    result.stdout.fnmatch_lines(
        [
            "*determinism not checked*",
            "*1 snippets ran without a run of the same key in the other context*snippets/demo/ok.py*",
        ]
    )


@pytest.mark.parametrize(
    ("fence", "why"),
    [
        ("```py", "fence 'py' is skipped silently"),
        ('```python title="demo.py"', "fence 'python title=\"demo.py\"' is skipped silently"),
        ("```python3", "fence 'python3' is skipped silently"),
    ],
)
def test_a_python_block_that_would_be_skipped_fails(run_course, fence, why):
    page = f"# A page\n\n{fence}\nprint('never run')\n```\n"
    result = run_course(page, {})
    result.stdout.fnmatch_lines([f"*{why}*"])
    assert result.ret != 0


def test_a_tilde_fenced_python_block_runs_like_any_other(run_course):
    """The page model, not pytest-codeblocks' parser, finds the blocks: a ~~~ fence is run, not skipped."""
    result = run_course("# A page\n\n~~~python\nraise SystemExit('ran and failed')\n~~~\n", {})
    result.assert_outcomes(passed=1, failed=1)  # the grammar passes; the block ran
    assert "ran and failed" in result.stdout.str()


def test_a_block_mixing_includes_and_code_fails(run_course):
    page = '# A page\n\n```python\n--8<-- "demo/ok.py"\nprint(2)\n```\n'
    result = run_course(page, {"demo/ok.py": GOOD_SNIPPET})
    result.stdout.fnmatch_lines(["*either includes snippets*or holds code, not both*"])
    assert result.ret != 0


def test_a_page_that_opts_out_of_testing_fails(run_course):
    page = "<!--pytest-codeblocks:skipfile-->\n# A page\n\n```python\nprint(1)\n```\n"
    result = run_course(page, {})
    result.stdout.fnmatch_lines(["*skipfile/skip markers hide blocks*"])
    assert result.ret != 0


def test_a_skip_without_reason_fails(run_course):
    page = "# A page\n\n<!--pytest.mark.skip-->\n```python\nprint(1)\n```\n"
    result = run_course(page, {})
    result.stdout.fnmatch_lines(["*skip marker without a reason*"])


def test_snippets_run_outside_the_repository(run_course):
    snippet = "import pathlib\nprint(pathlib.Path.cwd().name.startswith('mi-course-snippet-'), pathlib.Path('snippets').exists())\n"
    page = '# A page\n\n```python\n--8<-- "where.py"\n```\n\n<!--pytest-codeblocks:expected-output-->\n```text\nTrue False\n```\n'
    recorded = {"where.py": dict.fromkeys(KERNEL_SETTINGS, "True False")}
    run_course(page, {"where.py": snippet}, recorded=recorded).assert_outcomes(passed=2)


@pytest.mark.parametrize(
    ("shown", "printed", "ok"),
    [
        ("acc 0.9808", "acc 0.9808", True),
        ("acc 0.9808", "acc 0.9806", False),  # two units of the last digit
        ("loss 8.1e-06", "loss 8.2e-06", True),
        ("loss 8.1e-06", "loss 8.3e-06", False),
        ("loss 0.0195", "loss 0.0196", True),  # one unit of the last digit
        ("n 60000", "n 60001", False),  # integers exactly
        ("shape (2, 3)", "shape (3, 2)", False),
        ("a: True", "a: False", False),
        ("one line", "one line\ntwo lines", False),
    ],
)
def test_output_comparison(shown, printed, ok):
    unmoved = Recording("digest", {"default": shown})  # no spread: one unit of a decimal's last digit, integers exactly
    assert (output_mismatch(shown, printed, tolerances(shown, unmoved)) is None) is ok


HUB_SNIPPET = (
    "# requires: network; offline, the tests run it on gpt2-twin\nprint('layers:', 2, '| heads:', [0.1, 1.3])\n"
)
HUB_PAGE = """# A page

```python
--8<-- "demo/hub.py"
```

<!--pytest-codeblocks:expected-output-->
```text
layers: 12 | heads: [5.1, 5.5, 6.9]
```
"""


@pytest.fixture
def twin_card(pytester):
    card = pytester.path / "mi_course" / "weights" / "gpt2-twin" / "card.json"
    card.parent.mkdir(parents=True)
    card.write_text("{}")


def test_a_network_snippet_runs_offline_on_its_twin_and_only_its_structure_is_compared(run_course, twin_card):
    result = run_course(HUB_PAGE, {"demo/hub.py": HUB_SNIPPET}, {})
    result.assert_outcomes(passed=2)  # the grammar, and the snippet: 2 layers and 2 heads are 12 and 3 masked


def test_a_network_snippets_twin_run_is_keyed_by_its_twin_and_reused(run_course, twin_card, pytester):
    run_course(HUB_PAGE, {"demo/hub.py": HUB_SNIPPET}, {}).assert_outcomes(passed=2)
    first = runs.last(pytester.path, runs.ALONE, "demo/hub.py")
    assert (
        first.key
        == runs.RunKey.of(HUB_SNIPPET, {**os.environ, runs.TWINS_VARIABLE: "1"})
        != runs.RunKey.of(HUB_SNIPPET)
    )
    again = pytester.runpytest_inprocess(*INNER_SESSION)
    again.assert_outcomes(passed=2)
    again.stdout.fnmatch_lines(["*1 snippets, notebooks and commands had a run record*demo/hub.py*"])
    assert runs.last(pytester.path, runs.ALONE, "demo/hub.py") == first


def test_the_run_key_names_the_packages_own_switches():
    from mi_course.runtime import DEVICE_ENV_VAR
    from mi_course.zoo import HUB_TWINS_SWITCH

    assert DEVICE_ENV_VAR in runs.KERNEL_VARIABLES and runs.TWINS_VARIABLE == HUB_TWINS_SWITCH


def test_a_network_snippet_whose_structure_changed_fails(run_course, twin_card):
    snippet = HUB_SNIPPET.replace("[0.1, 1.3]", "[]")
    result = run_course(HUB_PAGE, {"demo/hub.py": snippet}, {})
    result.stdout.fnmatch_lines(
        ["*demo/hub.py, run on gpt2-twin (offline), no longer prints what the page shows: line 1 reads*heads: []*"]
    )
    assert result.ret != 0


def test_a_network_snippet_must_name_a_shipped_model_to_run_on(run_course):
    result = run_course(HUB_PAGE, {"demo/hub.py": HUB_SNIPPET}, {})
    result.stdout.fnmatch_lines(["*demo/hub.py: it names gpt2-twin to run on offline, which is not a shipped model*"])
    assert result.ret != 0


def test_a_network_snippet_must_say_what_it_runs_on_offline(run_course, twin_card):
    snippet = HUB_SNIPPET.replace("; offline, the tests run it on gpt2-twin", "")
    result = run_course(HUB_PAGE, {"demo/hub.py": snippet}, {})
    result.stdout.fnmatch_lines(
        ["*demo/hub.py: write its first line as '# requires: network; offline, the tests run it on <shipped model>'*"]
    )
    assert result.ret != 0


@pytest.fixture
def run_notebook(pytester, monkeypatch):
    """Write a course with one notebook page of these code cells, run pytest on it, return the outcome."""
    monkeypatch.setenv("PYTHONPATH", str(REPO))

    def run(*cells):
        pytester.makepyprojecttoml('[tool.pytest.ini_options]\naddopts = "-p site_tools.pytest_plugin"\n')
        (pytester.path / "mkdocs.yml").write_text(f"extra:\n  run_records: {RUN_RECORDS}\n")
        (pytester.path / "docs").mkdir()
        nbformat.write(new_notebook(cells=list(cells)), pytester.path / "docs" / "page.ipynb")
        return pytester.runpytest_inprocess(*INNER_SESSION)

    return run


def test_a_notebook_cell_that_raises_fails(run_notebook):
    result = run_notebook(new_code_cell("x = 1"), new_code_cell('raise ValueError(f"boom {x}")'))
    result.assert_outcomes(passed=1, failed=1)  # clean passes, run fails
    result.stdout.fnmatch_lines(["*page.ipynb: a cell raised*", "*ValueError: boom 1*"])


def test_a_notebook_committed_with_outputs_fails(run_notebook):
    ran = new_code_cell("print(1)", execution_count=1, outputs=[new_output("stream", text="1\n")])
    result = run_notebook(new_code_cell("x = 1"), ran)
    result.assert_outcomes(passed=1, failed=1)  # run passes, clean fails
    result.stdout.fnmatch_lines(["*commit notebooks without outputs*code cell 2 has outputs*"])


def test_a_notebook_kernel_is_forked_from_the_snippet_worker_fresh_each_time_and_a_dead_one_is_named():
    """Kernels start from the worker that imported torch once (site_tools/notebooks.py), not from a new Python;
    each is a fresh process, and one that dies fails its notebook and frees the worker for the next."""
    from nbclient.exceptions import DeadKernelError

    from site_tools import runner
    from site_tools.notebooks import execute

    def printed(*sources: str) -> list[str]:
        ran = execute(new_notebook(cells=[new_code_cell(source) for source in sources]), timeout_s=60)
        return [output["text"].strip() for cell in ran.cells for output in cell["outputs"]]

    first = printed("import os, sys; left_over = 1; print(os.getppid(), 'torch' in sys.modules)")
    worker = runner.worker_for(*runner._worker_key_args(None, None))
    assert first == [f"{worker.process.pid} True"]
    assert printed("print('left_over' in globals())") == ["False"]
    with pytest.raises(DeadKernelError):
        printed("import os; os._exit(3)")
    assert printed("print(6 * 7)") == ["42"]


SCORES_CELL = new_code_cell('print("zero-ablated 4.377\\nmean-ablated 4.450")', id="scores")
SCORES_CLAIM = 'printed("cell:scores", "mean-ablated") > printed("cell:scores", "zero-ablated")'


def test_a_notebook_claim_that_holds_on_its_run_passes(run_notebook):
    prose = new_markdown_cell(f"Here mean ablation hurts more than zero ablation.\n<!--claim: {SCORES_CLAIM}-->")
    run_notebook(SCORES_CELL, prose).assert_outcomes(passed=2)


@pytest.mark.parametrize(
    "claim, message",
    [
        (SCORES_CLAIM.replace(">", "<"), "the prose claims *which no longer holds (*mean-ablated*) = 4.45, *"),
        ('printed("cell:gone", "mean-ablated") > 1', "claim *no code cells of the notebook have the id 'gone'"),
        ('printed("demo/scores.py", "mean-ablated") > 1', "claim *quotes one of its code cells, as cell:ID*"),
    ],
)
def test_a_notebook_claim_that_its_run_contradicts_or_that_quotes_no_cell_fails(run_notebook, claim, message):
    prose = new_markdown_cell(f"# Scores\n\nHere mean ablation hurts less than zero ablation.\n<!--claim: {claim}-->")
    result = run_notebook(new_markdown_cell("Intro"), SCORES_CELL, prose)
    result.assert_outcomes(passed=1, failed=1)  # clean passes, run fails
    result.stdout.fnmatch_lines([f"*page.ipynb: markdown cell 2, line 4: {message}"])
