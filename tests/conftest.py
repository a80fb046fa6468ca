"""Fixtures shared by the test modules: the site, built once per test session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Lines that a test module hands to the terminal summary (the browser tests' page report).
SUMMARY: dict[str, list[str]] = {}


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """The site, built once for the whole session with ``mkdocs build --strict`` (about 2 minutes)."""
    folder = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(folder)],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"}, timeout=1200,
    )
    assert done.returncode == 0, done.stderr
    return folder


def pytest_terminal_summary(terminalreporter):
    for title, lines in SUMMARY.items():
        terminalreporter.write_sep("=", title)
        for line in lines:
            terminalreporter.write_line(line)
