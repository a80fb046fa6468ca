"""``python3 dev.py lint``: ruff's lint and format checks, the snippets as readers see them, and mypy on the engine.

A snippet's source is checked with the rest of the tree (it must be valid Python; its includes are
comments). What a reader sees and runs is its script, each included section of ``mi_course``
pasted in (``site_tools.pages.Snippet.script``): that is checked in full, at the snippets' width,
under the name of its file.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from site_tools.pages import SNIPPETS_DIR, snippet_files

ROOT = Path(__file__).resolve().parents[1]


# A script's copy is linted outside ``snippets/``, whose per-file ignores allow a source's names
# that its includes define: in the script those must be defined. A stub's imports are for the
# learner's code, and the import order stays as the claims ran it.
SCRIPT_IGNORES = "F401,I001"
JAXTYPING = {"Float", "Int", "Bool", "Shaped", "Num", "Integer", "Real", "Inexact"}


def jaxtyping_axes(script: str) -> set[str]:
    """The axis names in a script's jaxtyping shapes (``Float[Tensor, "head"]``), which ruff reads as undefined names."""
    axes: set[str] = set()
    for node in ast.walk(ast.parse(script)):
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id in JAXTYPING:
            for part in ast.walk(node.slice):
                if isinstance(part, ast.Constant) and isinstance(part.value, str):
                    axes.update(part.value.replace("*", " ").replace("...", " ").split())
    return axes


def lint_scripts(ruff: str) -> int:
    """Ruff's lint of every snippet that includes a section, on its expanded script; the exit status."""
    scripts = {snippet.name: snippet.script for snippet in snippet_files(ROOT) if snippet.includes}
    with tempfile.TemporaryDirectory(prefix="mi-course-scripts-") as folder:
        for name, script in scripts.items():
            copy = Path(folder) / "scripts" / name
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_text(script, encoding="utf-8")
        config = ROOT / SNIPPETS_DIR / "ruff.toml"
        done = subprocess.run(
            [ruff, "check", "--no-cache", "--config", str(config), "--extend-ignore", SCRIPT_IGNORES]
            + ["--output-format", "json", "."],
            cwd=folder,
            capture_output=True,
            text=True,
        )
    if done.returncode and not done.stdout.strip():
        print(done.stderr, file=sys.stderr)
        return done.returncode
    problems = []
    for found in json.loads(done.stdout or "[]"):
        name = Path(found["filename"]).relative_to(Path(folder) / "scripts").as_posix()
        undefined = found["code"] == "F821" and found["message"].split("`")[1]
        if undefined and undefined in jaxtyping_axes(scripts[name]):
            continue  # an axis name of a shape, not a name the script uses
        row = found["location"]["row"]
        problems.append(
            f"{SNIPPETS_DIR}/{name} (its script, includes expanded) line {row}: {found['code']} {found['message']}"
        )
    print("\n".join(problems) if problems else "All checks passed!", flush=True)
    return 1 if problems else 0


def main() -> int:
    ruff = str(Path(sys.executable).with_name("ruff"))
    steps = [
        ("ruff check", [ruff, "check", "."]),
        ("ruff format --check", [ruff, "format", "--check", "."]),
    ]
    failed = []
    for name, command in steps:
        print(f"== {name}", flush=True)
        if subprocess.run(command, cwd=ROOT).returncode:
            failed.append(name)
    print("== the snippets' scripts, includes expanded", flush=True)
    if lint_scripts(ruff):
        failed.append("snippet scripts")
    print("== mypy (site_tools)", flush=True)
    if subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT).returncode:
        failed.append("mypy")
    print("lint: " + (f"FAILED: {', '.join(failed)}" if failed else "all passed"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
