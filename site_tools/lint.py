"""``python3 dev.py lint``: ruff's lint and format checks, the snippets as readers see them, and mypy on the engine.

A snippet's source is checked with the rest of the tree (it must be valid Python; its includes are
comments). What a reader sees and runs is its script, each included section of ``mi_course``
pasted in (``site_tools.pages.Snippet.script``): that is checked in full, at the snippets' width,
under the name of its file.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from site_tools.pages import SNIPPETS_DIR, snippet_files

ROOT = Path(__file__).resolve().parents[1]


def lint_scripts(ruff: str) -> int:
    """Ruff's lint of every snippet that includes a section, on its expanded script; the exit status."""
    snippets = snippet_files(ROOT)
    with tempfile.TemporaryDirectory(prefix="mi-course-scripts-") as folder:
        for snippet in snippets:
            if snippet.includes:
                copy = Path(folder) / SNIPPETS_DIR / snippet.name
                copy.parent.mkdir(parents=True, exist_ok=True)
                copy.write_text(snippet.script, encoding="utf-8")
        config = ROOT / SNIPPETS_DIR / "ruff.toml"
        done = subprocess.run(
            [ruff, "check", "--no-cache", "--config", str(config), "."], cwd=folder, capture_output=True, text=True
        )
    print(done.stdout.rstrip(), flush=True)
    if done.returncode and done.stderr:
        print(done.stderr, file=sys.stderr)
    return done.returncode


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
