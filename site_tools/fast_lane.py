"""``python3 dev.py test --fast``: the fast lane, for a contributor between edits.

It prints the pytest arguments of what the working tree's uncommitted changes touch, and on stderr
what it chose and why: the unit tests of each changed module (``tests/test_<module>.py`` for
``mi_course/<module>.py``, ``tests/test_checkers_<topic>.py`` and ``tests/test_checkers.py`` for
``mi_course/checkers/<topic>.py``; the engine's tests for ``site_tools/``), each changed test file, the
repository's own rules, and each page that changed or whose claims, snippets, or the ``mi_course``
modules its snippets use changed. Left to the full ``python3 dev.py test``: the site's build and
browser tests and the generated notebooks. Runs with a record of the same key are reused, as in any
run (add ``--rerun`` to run them again).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from site_tools.pages import DOCS_DIR, markdown_pages

ROOT = Path(__file__).resolve().parents[1]
ALWAYS = ("tests/test_repository.py", "tests/test_bad_input.py")  # the repository's rules: seconds
ENGINE_TESTS = ("tests/test_pipeline.py",)  # what site_tools/ changes are tested by, beside their own modules' tests
MODULE_NAME = re.compile(r"mi_course[./](\w+)")


def changed_files() -> list[str]:
    """The paths the working tree changes against HEAD, untracked files included."""
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return [line[3:].split(" -> ")[-1].strip('"') for line in status.splitlines() if line.strip()]


def touched_pages(changed: list[str]) -> dict[str, str]:
    """Each page the change touches, with why."""
    modules = {
        Path(path).stem if Path(path).parent.name == "mi_course" else Path(path).parts[1]
        for path in changed
        if path.startswith("mi_course/") and path.endswith(".py")
    }
    touched = {}
    for page in markdown_pages(ROOT):
        where = page.path.relative_to(ROOT).as_posix()
        claims = where.removesuffix(".md") + ".claims.json"
        if where in changed or claims in changed:
            touched[where] = "the page or its claims changed"
            continue
        for snippet in page.snippets:
            used = set(MODULE_NAME.findall(snippet.script))
            if f"snippets/{snippet.name}" in changed:
                touched[where] = f"snippets/{snippet.name} changed"
            elif used & modules:
                touched[where] = f"snippets/{snippet.name} uses mi_course.{sorted(used & modules)[0]}, which changed"
            else:
                continue
            break
    touched |= {
        path: "the notebook page changed"
        for path in changed
        if path.startswith(f"{DOCS_DIR}/") and path.endswith(".ipynb")
    }
    return touched


def touched_tests(changed: list[str]) -> dict[str, str]:
    """Each test module the change touches, with why."""
    touched = dict.fromkeys(ALWAYS, "the repository's rules")
    for path in changed:
        parts = Path(path).parts
        if parts[0] == "tests" and path.endswith(".py") and (ROOT / path).is_file():
            touched[path] = "it changed"
        elif parts[0] == "mi_course" and path.endswith(".py"):
            # mi_course/x.py: tests/test_x.py; mi_course/package/x.py: tests/test_package_x.py and tests/test_package.py
            stem = Path(path).stem
            names = [stem] if len(parts) == 2 else [f"{parts[1]}_{stem}", parts[1]]
            for test in (f"tests/test_{name}.py" for name in names):
                if (ROOT / test).is_file():
                    touched[test] = f"{path} changed"
        elif parts[0] == "site_tools":
            touched |= dict.fromkeys(ENGINE_TESTS, f"{path} changed")
    return touched


def main() -> int:
    changed = changed_files()
    tests, pages = touched_tests(changed), touched_pages(changed)
    print(
        f"fast lane: {len(changed)} changed files touch {len(tests)} test modules and {len(pages)} pages",
        file=sys.stderr,
    )
    for target, why in (tests | pages).items():
        print(f"  {target}: {why}", file=sys.stderr)
    print(" ".join([*tests, *pages]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
