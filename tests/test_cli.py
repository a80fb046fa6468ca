import re
import subprocess
import sys
from pathlib import Path

import pytest

from mi_course import cli
from mi_course.checkers import STEP_CHECKS, CheckReport, CriterionResult, StepCheck

PAGES = Path(__file__).resolve().parents[1] / "docs" / "fundamentals"


def test_check_step1_runs_the_pages_solution_and_reports_each_criterion(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "mi_course", "check", "step1"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    lines = done.stdout.splitlines()
    assert re.fullmatch(r"\[step1\] PASS  test accuracy: 9[7-9]\.\d\d% on 10,000 test images \(criterion: >= 97%\)", lines[1])
    # Wall time depends on the machine's load, so only its format is fixed here; the benchmark reports it.
    assert re.fullmatch(r"\[step1\] (PASS|FAIL)  training time: \d+\.\d s \(criterion: <= 60 s\)", lines[2])
    assert done.returncode == (1 if "FAIL" in done.stdout else 0), done.stderr
    assert lines[1] in (PAGES / "step1-ml-prerequisites.md").read_text(), "the page shows another accuracy"


def test_check_step2_matches_the_shipped_model_and_prints_the_difference(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "mi_course", "check", "step2"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(
        r"\[step2\] PASS  logits match the bridge: max abs difference \d\.\de-0[5-9] over 22,100 logits \(criterion: <= 1e-04\)",
        done.stdout.splitlines()[1],
    )
    assert done.stdout.splitlines()[1] in (PAGES / "step2-transformers.md").read_text(), "the page shows another difference"


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
        assert all(path.is_file() for path in step_check.solution_paths())


def test_check_step3_passes_the_course_solutions_and_the_page_shows_its_lines(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "mi_course", "check", "step3"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[1:]] == ["[step3] PASS  induction_score", "[step3] PASS  mean_ablation_hook"]
    page = (PAGES / "step3-mi-tooling.md").read_text()
    assert all(line in page for line in lines), "the page shows other lines than python -m mi_course check step3 prints"


def test_check_with_no_step_lists_every_criterion_runs_the_automated_ones_and_sums_up(monkeypatch, capsys):
    ran = []

    def fake_run(self, echo=False):
        ran.append(self.title)
        return CheckReport("stepX", (CriterionResult("thing", "Step 2" not in self.title, "measured", "criterion"),))

    monkeypatch.setattr(StepCheck, "run", fake_run)
    assert cli.main(["check"]) == 1  # the failing Step 2 makes the whole check fail
    out = capsys.readouterr().out
    assert len(ran) == sum(step.automated for step in STEP_CHECKS.values()) == 3
    for step in STEP_CHECKS.values():
        assert step.title in out and all(f"  criterion: {criterion}" in out for criterion in step.criteria)
    assert "no automated check: these criteria are yours to judge" in out
    assert out.splitlines()[-1] == "summary: step1 PASS · step2 FAIL · step3 PASS · step4 self-assessed"
