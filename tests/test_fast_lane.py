"""site_tools/fast_lane.py: the fast lane picks the tests and pages that a change touches, and says why."""

from site_tools.fast_lane import ALWAYS, ENGINE_TESTS, touched_pages, touched_tests

IOI_PAGE = "docs/paths/ioi-circuit.md"


def test_a_changed_module_brings_its_unit_tests_and_the_pages_whose_snippets_use_it():
    tests = touched_tests(["mi_course/ioi.py"])
    assert tests["tests/test_ioi.py"] == "mi_course/ioi.py changed" and set(ALWAYS) <= set(tests)
    pages = touched_pages(["mi_course/ioi.py"])
    assert "uses mi_course.ioi, which changed" in pages[IOI_PAGE]
    assert "docs/fundamentals/step1-ml-prerequisites.md" not in pages


def test_a_changed_checker_brings_its_own_tests_and_the_checkers_bad_input_cases():
    tests = touched_tests(["mi_course/checkers/induction.py"])
    assert {"tests/test_checkers_induction.py", "tests/test_checkers.py"} <= set(tests)
    assert "tests/test_induction.py" not in tests


def test_a_changed_snippet_claims_file_or_engine_file_brings_what_it_touches():
    assert touched_pages(["snippets/ioi_circuit/task.py"]) == {IOI_PAGE: "snippets/ioi_circuit/task.py changed"}
    assert touched_pages(["docs/paths/features.claims.json"]) == {
        "docs/paths/features.md": "the page or its claims changed"
    }
    assert set(ENGINE_TESTS) <= set(touched_tests(["site_tools/runs.py"]))


def test_no_change_brings_only_the_repository_rules():
    assert touched_tests([]) == dict.fromkeys(ALWAYS, "the repository's rules") and touched_pages([]) == {}
