"""`python -m mi_course check` and `train`. What `check step1`, `step2` and `step3` print for the course's
own solutions is a page claim: each step page's console block runs the command and compares its output
(site_tools/pytest_plugin.py, within the spread site_tools/claims.py records)."""

import contextlib
import io
from pathlib import Path

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
        checks=(lambda answer: CheckReport("step3", (CriterionResult("answer", answer == 42, str(answer), "42"),)),),
    )
    monkeypatch.setattr(StepCheck, "solution_paths", lambda self: [solution])
    monkeypatch.setitem(STEP_CHECKS, "step3", stand_in)
    assert cli.main(["check", "step3"]) == 0
    quiet = capsys.readouterr().out.splitlines()
    assert cli.main(["check", "-v", "step3"]) == 0
    verbose = capsys.readouterr().out.splitlines()
    assert quiet == ["Step 3: a stand-in", "[step3] PASS  answer: 42 (criterion: 42)"]
    assert verbose == [quiet[0], "the solution speaks", quiet[1]]


STUB = Path(__file__).resolve().parents[1] / "snippets" / "step3" / "induction_score_stub.py"


def learner_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "my_step3.py"
    path.write_text(text)
    return path


def test_check_file_runs_the_learners_file_and_checks_each_exercise_it_defines(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    done = "from mi_course.induction import induction_score\nfrom mi_course.interventions import normalised_metric\n"
    assert cli.main(["check", "step3", "--file", str(learner_file(tmp_path, done))]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == STEP_CHECKS["step3"].title
    assert [line.split(":")[0] for line in lines[1:3]] == [
        "[step3] PASS  induction_score",
        "[step3] PASS  normalised_metric",
    ]
    assert lines[3].startswith("not checked: my_step3.py does not define mean_ablation_hook, previous_token_score")


def test_check_file_on_the_untouched_stub_fails_and_says_what_to_fill_in(tmp_path, capsys):
    assert cli.main(["check", "step3", "--file", str(learner_file(tmp_path, STUB.read_text()))]) == 1
    out = capsys.readouterr().out
    assert "[step3] FAIL  induction_score: induction_score raised NotImplementedError: fill in induction_score" in out


def test_check_file_with_a_wrong_answer_names_the_mistake(tmp_path, capsys):
    """The duplicate-token stripe (key q - L) instead of the induction stripe (q - L + 1): the checker says which."""
    wrong = STUB.read_text().replace(
        '    raise NotImplementedError("fill in induction_score")',
        "    stripe = pattern.diagonal(offset=-seq_len, dim1=-2, dim2=-1)[..., 1:]\n    return stripe.mean(dim=(0, -1))",
    )
    assert cli.main(["check", "step3", "--file", str(learner_file(tmp_path, wrong))]) == 1
    assert "[step3] FAIL  induction_score" in capsys.readouterr().out


def test_check_file_that_raises_shows_the_learners_traceback_not_the_courses(tmp_path, capsys):
    path = learner_file(tmp_path, "def helper():\n    return 1 / 0\n\n\nhelper()\n")
    assert cli.main(["check", "step3", "--file", str(path)]) == 1
    err = capsys.readouterr().err
    assert "my_step3.py raised ZeroDivisionError; nothing was checked" in err
    assert 'my_step3.py", line 5, in <module>' in err and "line 2, in helper" in err
    assert "cli.py" not in err and "runpy" not in err


def test_check_file_that_defines_nothing_the_step_checks_names_what_is_missing(tmp_path, capsys):
    assert cli.main(["check", "step3", "--file", str(learner_file(tmp_path, "x = 1\n"))]) == 1
    assert (
        "my_step3.py defines none of what step3 checks: induction_score, mean_ablation_hook," in capsys.readouterr().out
    )


def test_check_file_with_a_number_where_a_function_belongs_fails_with_the_checkers_refusal(tmp_path, capsys):
    assert cli.main(["check", "step3", "--file", str(learner_file(tmp_path, "induction_score = 3\n"))]) == 1
    line = capsys.readouterr().out.splitlines()[1]
    assert line.startswith("[step3] FAIL  induction_score: ") and "function" in line, line


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
        Bad(lambda k: _cli(["check", "--file", "x.py"]), SystemExit, "--file checks one step: name it"),
        Bad(lambda k: _cli(["check", "step3", "--file", "no/such.py"]), SystemExit, "--file: no file 'no/such.py'"),
    ],
}
# What takes no input, or only free text, and so has no bad input to refuse.
NO_BAD_INPUT: dict[str, str] = {}


@pytest.mark.parametrize("case", bad_input_params(BAD_INPUTS))
def test_bad_input_raises_a_clear_error(case, tmp_path_factory):
    assert_refused(case, shared_kit(tmp_path_factory))
