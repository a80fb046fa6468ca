"""Bad input: every public function of mi_course refuses it with a clear error (GitHub issue 7).

The cases live beside each module's tests: ``tests/test_X.py`` holds ``BAD_INPUTS`` and
``NO_BAD_INPUT`` for ``mi_course.X`` and its submodules (the case type and the runner are in
``tests/bad_input.py``). This file holds the scan: it enumerates the package's public functions
and classes, so one added later without a case (or a stated reason) fails the suite, and it
checks that each file's cases are its module's and that the file runs every one of them.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

import mi_course
from mi_course import plotting


def public_names() -> set[str]:
    """``module:name`` of every public function and class defined in a module of mi_course or mi_course.checkers."""
    modules = ["mi_course"] + [
        info.name
        for info in pkgutil.walk_packages(mi_course.__path__, "mi_course.")
        if not any(part.startswith("_") for part in info.name.split("."))
    ]  # __main__ runs the CLI
    names = set()
    for module_name in modules:
        module = importlib.import_module(module_name)
        for name, value in inspect.getmembers(module, lambda v: inspect.isfunction(v) or inspect.isclass(v)):
            if not name.startswith("_") and value.__module__ == module_name:
                names.add(f"{module_name}:{name}")
    return names


def case_file(key: str) -> str:
    """The test module that holds the cases of ``"mi_course.X[.Y]:name"``: ``tests.test_X``."""
    return f"tests.test_{key.split(':')[0].split('.')[1]}"


def case_files(names: set[str]) -> dict[str, ModuleType]:
    """The test modules that hold the cases of ``names``, imported."""
    return {file: importlib.import_module(file) for file in sorted({case_file(name) for name in names})}


def registered(files: dict[str, ModuleType]) -> tuple[dict[str, list], dict[str, str]]:
    """Every file's ``BAD_INPUTS`` and ``NO_BAD_INPUT``, merged."""
    cases, excused = {}, {}
    for module in files.values():
        cases |= getattr(module, "BAD_INPUTS", {})
        excused |= getattr(module, "NO_BAD_INPUT", {})
    return cases, excused


def test_every_public_function_has_a_bad_input_case():
    names = public_names()
    files = case_files(names)
    cases, excused = registered(files)
    missing = sorted(names - set(cases) - set(excused))
    assert not missing, "public functions without a bad-input case: " + ", ".join(
        f"{name} (add it to BAD_INPUTS or NO_BAD_INPUT in tests/{case_file(name).split('.')[1]}.py)" for name in missing
    )
    for file, module in files.items():
        for key in {**getattr(module, "BAD_INPUTS", {}), **getattr(module, "NO_BAD_INPUT", {})}:
            assert case_file(key) == file, (
                f"{key} is registered in {file}, not beside its module's tests in {case_file(key)}"
            )
    public = {
        f"{key.split(':')[0]}:{key.split(':')[1].split('.')[0]}" for key in set(cases) | set(excused)
    }  # a method's key counts as its class
    stale = sorted(
        key
        for key in public - names
        if not (
            key.split(":")[1].startswith("_") and hasattr(importlib.import_module(key.split(":")[0]), key.split(":")[1])
        )
    )
    assert not stale, "BAD_INPUTS or NO_BAD_INPUT name functions that no longer exist: " + ", ".join(
        stale
    )  # private helpers may keep cases
    assert not set(cases) & set(excused), "a function is both tested and excused"
    assert all(cases.values()), "every registered function needs at least one case"


def test_each_file_runs_every_one_of_its_cases():
    for file, module in case_files(public_names()).items():
        cases = [case for group in getattr(module, "BAD_INPUTS", {}).values() for case in group]
        if not cases:
            continue
        runner = getattr(module, "test_bad_input_raises_a_clear_error", None)
        marks = [mark for mark in getattr(runner, "pytestmark", []) if mark.name == "parametrize"]
        assert marks, f"{file} has BAD_INPUTS but no test_bad_input_raises_a_clear_error parametrized over them"
        run = [param.values[0] for param in marks[0].args[1]]
        assert sorted(map(id, run)) == sorted(map(id, cases)), f"{file} runs other cases than its BAD_INPUTS"


def test_the_enumeration_finds_a_function_added_later(monkeypatch):
    def new_plot(values):
        return values

    new_plot.__module__ = "mi_course.plotting"
    monkeypatch.setattr(plotting, "new_plot", new_plot, raising=False)
    names = public_names()
    cases, excused = registered(case_files(names))
    assert "mi_course.plotting:new_plot" in names - set(cases) - set(excused)
    assert {
        "mi_course.checkers.components:check_attention",
        "mi_course.zoo:load_model",
        "mi_course.recipes.grokking_113:train_grokking",
    } <= names
    assert case_file("mi_course.checkers.components:check_attention") == "tests.test_checkers"
