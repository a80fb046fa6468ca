"""`python -m mi_course check` and `train`. What `check step1`, `step2` and `step3` print for the course's
own solutions is a page claim: each step page's console block runs the command and compares its output
(site_tools/pytest_plugin.py, within the spread site_tools/claims.py records)."""

import contextlib
import io

import pytest

from mi_course import cli
from mi_course.checkers import STEP_CHECKS, CheckReport, CriterionResult, StepCheck
from tests.bad_input import Bad, assert_refused, bad_input_params, shared_kit


def test_a_failing_criterion_exits_non_zero(monkeypatch, capsys):
    failing = CheckReport("step1", (CriterionResult("test accuracy", False, "91.00%", ">= 97%"),))
    monkeypatch.setattr(StepCheck, "run", lambda self, echo=False: failing)
    assert cli.main(["check", "step1"]) == 1
    assert "[step1] FAIL  test accuracy: 91.00% (criterion: >= 97%)" in capsys.readouterr().out


def test_verbose_check_shows_what_the_solution_prints_and_the_plain_one_hides_it(monkeypatch, capsys, tmp_path):
    solution = tmp_path / "solution.py"
    solution.write_text('print("the solution speaks")\nanswer = 42\n')
    stand_in = StepCheck(
        "Step 3: a stand-in",
        ("the answer is 42",),
        check=lambda answer: CheckReport("step3", (CriterionResult("answer", answer == 42, str(answer), "42"),)),
    )
    monkeypatch.setattr(StepCheck, "solution_paths", lambda self: [solution])
    monkeypatch.setitem(STEP_CHECKS, "step3", stand_in)
    assert cli.main(["check", "step3"]) == 0
    quiet = capsys.readouterr().out.splitlines()
    assert cli.main(["check", "-v", "step3"]) == 0
    verbose = capsys.readouterr().out.splitlines()
    assert quiet == ["Step 3: a stand-in", "[step3] PASS  answer: 42 (criterion: 42)"]
    assert verbose == [quiet[0], "the solution speaks", quiet[1]]


def test_unknown_step_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["check", "step9"])
    assert exit_info.value.code == 2
    assert "unknown step 'step9'; choose from step1" in capsys.readouterr().err


def test_every_step_solution_is_shipped_in_the_package():
    for step_check in STEP_CHECKS.values():
        assert all(path.is_file() for path in step_check.solution_paths())


def test_check_with_no_step_lists_every_criterion_runs_the_automated_ones_and_sums_up(monkeypatch, capsys):
    ran = []

    def fake_run(self, echo=False):
        ran.append(self.title)
        return CheckReport("stepX", (CriterionResult("thing", "Step 2" not in self.title, "measured", "criterion"),))

    monkeypatch.setattr(StepCheck, "run", fake_run)
    # every step of the course has an automated check now; a stand-in step keeps the self-assessed path covered
    monkeypatch.setitem(STEP_CHECKS, "step5", StepCheck("Step 5: a stand-in", ("judged by you (self-assessed)",)))
    assert cli.main(["check"]) == 1  # the failing Step 2 makes the whole check fail
    out = capsys.readouterr().out
    assert len(ran) == sum(step.automated for step in STEP_CHECKS.values()) == 6
    for step in STEP_CHECKS.values():
        assert step.title in out and all(f"  criterion: {criterion}" in out for criterion in step.criteria)
    assert "no automated check: these criteria are yours to judge" in out
    assert (
        out.splitlines()[-1]
        == "summary: step1 PASS · step2 FAIL · step3 PASS · step4 PASS · ioi PASS · features PASS · step5 self-assessed"
    )


def test_train_help_gives_each_models_training_time_from_its_card(monkeypatch, capsys):
    from dataclasses import replace

    from mi_course import zoo

    card = zoo.model_card
    seconds = {
        "shakespeare-char": 252.5,
        "induction-2l": 42.0,
        "grokking-113": 600.0,
        "gpt2-twin": 136.3,
        "shakespeare-char-sae": 63.6,
    }
    monkeypatch.setattr(
        zoo, "model_card", lambda name: replace(card(name), training={**card(name).training, "seconds": seconds[name]})
    )
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "-h"])
    assert exit_info.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert (
        "shakespeare-char (about 4 min), induction-2l (about 42 s), grokking-113 (about 10 min), gpt2-twin (about 2 min), shakespeare-char-sae (about 64 s)"
        in help_text
    )


def _cli(argv: list[str]) -> None:
    """``cli.main(argv)``; argparse's exit comes back as a SystemExit carrying its error line (after its usage line)."""
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            cli.main(argv)
    except SystemExit as exit:
        raise SystemExit(f"exit {exit.code}: {stderr.getvalue().strip().splitlines()[-1]}") from None


BAD_INPUTS: dict[str, list[Bad]] = {
    "mi_course.cli:main": [
        Bad(lambda k: _cli(["check", "step9"]), SystemExit, "unknown step 'step9'; choose from step1"),
        Bad(lambda k: _cli(["train", "gpt9"]), SystemExit, "unknown model 'gpt9'; trainable models: "),
        Bad(lambda k: _cli([]), SystemExit, "the following arguments are required: command"),
    ],
}
# What takes no input, or only free text, and so has no bad input to refuse.
NO_BAD_INPUT: dict[str, str] = {}


@pytest.mark.parametrize("case", bad_input_params(BAD_INPUTS))
def test_bad_input_raises_a_clear_error(case, tmp_path_factory):
    assert_refused(case, shared_kit(tmp_path_factory))
