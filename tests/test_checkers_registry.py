"""mi_course.checkers.registry: each step's check judges the course's own solution, the code its page shows,
and passes it.

What each checker says about plausible mistakes is tested beside its module, in tests/test_checkers_<module>.py.
"""

from pathlib import Path

import pytest

from mi_course import attribution, circuits, induction, interventions, plotly_exercises, toy_models
from mi_course.checkers import (
    STEP_CHECKS,
    check_ablation_sweep,
    check_head_detectors,
    check_induction_score,
    check_induction_score_hook,
    check_logit_attribution,
    check_mean_ablation_hook,
    check_normalised_metric,
    check_patch_by_position,
    check_plotly_figures,
)
from site_tools.pages import Snippet
from tests.models import as_shown

ROOT = Path(__file__).resolve().parents[1]


def test_step2_is_registered_with_the_logit_match_snippet_and_its_model_passes():
    step = STEP_CHECKS["step2"]
    assert [path.name for path in step.solution_paths()] == ["logit_match.py"]
    assert [path.name for path in step.sources()] == [
        "logit_match.py",
        "scratch.py",
        "sampling.py",
    ]  # and the taught code
    report = step.run()
    assert report.passed and "over 22,100 logits of 4 random 65-token sequences" in str(report), str(report)


# Which solution snippet shows each function the step3 check may judge, and under which section of the package.
SOLUTIONS = {
    "induction_score": ("step3/induction_score_solution.py", "mi_course/induction.py:induction-score"),
    "mean_ablation_hook": ("step3/mean_ablation_solution.py", "mi_course/interventions.py:mean-ablation-hook"),
    **{
        name: ("step3/head_detectors_solution.py", "mi_course/induction.py:head-detectors")
        for name in ("previous_token_score", "duplicate_token_score", "first_token_score")
    },
    "induction_score_hook": ("step3/induction_score_hook_solution.py", "mi_course/induction.py:induction-score-hook"),
    "ablation_sweep": ("step3/ablation_sweep_solution.py", "mi_course/interventions.py:ablation-sweep"),
    "patch_by_position": ("step3/patch_by_position_solution.py", "mi_course/interventions.py:patch-by-position"),
    "normalised_metric": ("step3/patch_by_position_solution.py", "mi_course/interventions.py:normalised-metric"),
    "logit_attribution": ("step3/logit_attribution_solution.py", "mi_course/attribution.py:logit-attribution"),
    **{
        name: ("step3/plotly_solution.py", f"mi_course/plotly_exercises.py:{name.replace('_', '-')}")
        for name in ("loss_curves", "head_scatter", "attention_heatmap")
    },
}
TAUGHT = {
    "induction_score": induction.induction_score,
    "mean_ablation_hook": interventions.mean_ablation_hook,
    "previous_token_score": induction.previous_token_score,
    "duplicate_token_score": induction.duplicate_token_score,
    "first_token_score": induction.first_token_score,
    "induction_score_hook": induction.induction_score_hook,
    "ablation_sweep": interventions.ablation_sweep,
    "patch_by_position": interventions.patch_by_position,
    "normalised_metric": interventions.normalised_metric,
    "logit_attribution": attribution.logit_attribution,
    "loss_curves": plotly_exercises.loss_curves,
    "head_scatter": plotly_exercises.head_scatter,
    "attention_heatmap": plotly_exercises.attention_heatmap,
}


def test_the_courses_solutions_pass_every_checker():
    """Each checker passes the package's function, the solution its page shows."""
    reports = [
        check_induction_score(induction.induction_score),
        check_mean_ablation_hook(interventions.mean_ablation_hook),
        check_head_detectors(
            induction.previous_token_score, induction.duplicate_token_score, induction.first_token_score
        ),
        check_induction_score_hook(induction.induction_score_hook),
        check_ablation_sweep(interventions.ablation_sweep),
        check_patch_by_position(interventions.patch_by_position),
        check_normalised_metric(interventions.normalised_metric),
        check_logit_attribution(attribution.logit_attribution),
        check_plotly_figures(
            plotly_exercises.loss_curves, plotly_exercises.head_scatter, plotly_exercises.attention_heatmap
        ),
    ]
    assert all(report.passed for report in reports), "\n".join(map(str, reports))
    assert [result.name for report in reports for result in report.results] == list(TAUGHT)


def test_the_step3_check_passes_what_it_judges():
    step = STEP_CHECKS["step3"]
    report = step.run()  # checks the package's own functions, those registered as taught
    assert report.passed and [result.name for result in report.results] == list(step.taught_objects()), str(report)


def test_the_step3_check_judges_exactly_the_code_the_pages_solutions_show():
    """`check step3` runs no snippet: it is honest only if the page's solutions are the package's functions, included."""
    step = STEP_CHECKS["step3"]
    assert set(step.taught_objects()) <= set(TAUGHT) and all(
        step.taught_objects()[name] is TAUGHT[name] for name in step.taught_objects()
    )
    assert step.solution_paths() == []
    for name, taught in TAUGHT.items():
        path, section = SOLUTIONS[name]
        snippet = Snippet(path, ROOT)
        assert (
            section in snippet.includes and section.split(":")[0] == f"mi_course/{taught.__module__.split('.')[-1]}.py"
        )
        assert as_shown(taught) in snippet.script and snippet.script.count(f"def {name}(") == 1


@pytest.mark.parametrize(
    "name",
    sorted(
        {path for path, _ in SOLUTIONS.values()}
        - {"step3/induction_score_solution.py", "step3/mean_ablation_solution.py"}
    ),
)
def test_each_new_stub_names_the_functions_its_solution_shows_and_fails_in_one_line(name):
    solution = Snippet(name, ROOT)
    stub = (ROOT / "snippets" / name.replace("_solution", "_stub")).read_text()
    shown = [function for function, (path, _) in SOLUTIONS.items() if path == name]
    for function in shown:
        assert f"def {function}(" in stub and 'raise NotImplementedError("fill in' in stub
        assert stub.count(f"def {function}(") == solution.script.count(f"def {function}(") == 1


def test_the_step4_check_passes_what_it_judges():
    report = STEP_CHECKS["step4"].run()  # checks the package's circuits and SAE loss, and an SAE trained with it
    names = ["full_ov_circuit", "copying_score", "k_composition_score", "sae_loss", "trained SAE"]
    assert report.passed and [result.name for result in report.results] == names, str(report)


# Which solution snippet shows each circuits function the step4 check judges, and under which section of circuits.py.
STEP4_SOLUTIONS = {
    "full_ov_circuit": ("step4/copying_score_solution.py", "full-ov-circuit"),
    "copying_score": ("step4/copying_score_solution.py", "copying-score"),
    "k_composition_score": ("step4/k_composition_solution.py", "k-composition"),
}


def test_the_step4_check_judges_exactly_the_code_the_pages_solutions_show():
    """`check step4` runs no snippet: it is honest only if the page's solutions are the package's functions, included."""
    step = STEP_CHECKS["step4"]
    assert step.taught_objects() == {
        **{name: getattr(circuits, name) for name in STEP4_SOLUTIONS},
        "sae_loss": toy_models.sae_loss,
    }
    assert step.solution_paths() == [] and step.sources() == [Path(circuits.__file__), Path(toy_models.__file__)]
    for name, taught in list(step.taught_objects().items())[:-1]:  # sae_loss: tests/test_checkers_sae.py
        path, section = STEP4_SOLUTIONS[name]
        snippet = Snippet(path, ROOT)
        assert f"mi_course/circuits.py:{section}" in snippet.includes
        assert as_shown(taught) in snippet.script and snippet.script.count(f"def {name}(") == 1


def test_the_ioi_check_judges_exactly_the_code_the_pages_solutions_show():
    """`check ioi` runs no snippet: it is honest only if the page's solutions include the package's functions."""
    solutions = {
        "ioi_metric": ("ioi_circuit/ioi_metric_solution.py", "mi_course/ioi.py:ioi-metric"),
        "path_patch": ("ioi_circuit/path_patch_solution.py", "mi_course/path_patching.py:path-patch"),
        "attribution_patch_heads": (
            "ioi_circuit/attribution_patching_solution.py",
            "mi_course/attribution_patching.py:attribution-patch-heads",
        ),
    }
    step = STEP_CHECKS["ioi"]
    assert set(step.taught_objects()) == set(solutions) and step.solution_paths() == []
    for name, taught in step.taught_objects().items():
        path, section = solutions[name]
        snippet = Snippet(path, ROOT)
        assert (
            section in snippet.includes
            and as_shown(taught) in snippet.script
            and snippet.script.count(f"def {name}(") == 1
        )
    report = step.run()
    assert report.passed and [result.name for result in report.results] == list(solutions), str(report)
