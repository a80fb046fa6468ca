"""Fixtures shared by the test modules: the site, built once per test session, shipped models, and gpt2-twin on IOI prompts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mi_course import ioi, load_model

ROOT = Path(__file__).resolve().parents[1]

# Lines that a test module hands to the terminal summary (the browser tests' page report).
SUMMARY: dict[str, list[str]] = {}


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """The site, built once for the whole session with ``mkdocs build --strict`` (about 2 minutes)."""
    folder = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=1200,
    )
    assert done.returncode == 0, done.stderr
    return folder


@pytest.fixture(scope="module")
def induction_model():
    return load_model("induction-2l", device="cpu")


@pytest.fixture(scope="module")
def shakespeare():
    return load_model("shakespeare-char", device="cpu")


@pytest.fixture(scope="module")
def twin():
    """gpt2-twin with 12 IOI prompts of the held-out templates, their corruptions and the IOI metric of that pair."""
    model = load_model("gpt2-twin", device="cpu")
    prompts = ioi.ioi_prompts(12, templates=ioi.HELD_OUT_TEMPLATES, names=ioi.HELD_OUT_NAMES, seed=3)
    abc = ioi.corrupted(prompts)
    with torch.inference_mode():
        metric = ioi.ioi_metric(prompts, model(prompts.tokens), model(abc.tokens))
    return model, prompts.tokens, abc.tokens, metric


def pytest_collection_modifyitems(items):
    """A test that reads the built site is marked ``built_site``: it needs the page tests' run records first."""
    for item in items:
        if "site" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.built_site)


def pytest_sessionfinish(session):
    """In a pytest-xdist worker, hand the summary's lines to the controlling process, which prints them."""
    if hasattr(session.config, "workeroutput"):
        session.config.workeroutput["summary"] = SUMMARY


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    SUMMARY.update(node.workeroutput.get("summary", {}))


def pytest_terminal_summary(terminalreporter):
    for title, lines in SUMMARY.items():
        terminalreporter.write_sep("=", title)
        for line in lines:
            terminalreporter.write_line(line)
