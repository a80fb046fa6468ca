import re
import subprocess
import sys

import pytest

from mi_course import cli
from mi_course.checkers import STEP_CHECKS, CheckReport, CriterionResult, StepCheck


def test_check_step1_runs_the_pages_solution_and_passes(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "mi_course", "check", "step1"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert re.fullmatch(r"\[step1\] PASS  test accuracy: 9[7-9]\.\d\d% on 10,000 test images \(criterion: >= 97%\)", lines[1])
    assert re.fullmatch(r"\[step1\] PASS  training time: \d+\.\d s \(criterion: <= 60 s\)", lines[2])


def test_a_failing_criterion_exits_non_zero(monkeypatch, capsys):
    failing = CheckReport("step1", (CriterionResult("test accuracy", False, "91.00%", ">= 97%"),))
    monkeypatch.setattr(StepCheck, "run", lambda self, echo=False: failing)
    assert cli.main(["check", "step1"]) == 1
    assert "[step1] FAIL  test accuracy: 91.00% (criterion: >= 97%)" in capsys.readouterr().out


def test_unknown_step_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["check", "step9"])
    assert exit_info.value.code == 2
    assert "unknown step 'step9'; choose from step1" in capsys.readouterr().err


def test_every_step_solution_is_shipped_in_the_package():
    for step_check in STEP_CHECKS.values():
        assert step_check.solution_path().is_file()
