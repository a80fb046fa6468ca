"""Fault injection, not a test: break the course one way at a time and check that the tests notice.

Run with `python3 dev.py faults` (a few minutes). Each fault is applied to a fresh copy of the
repository's tracked files, then the tests that guard that kind of fault run in the copy: first
unbroken (they must pass, or the fault's result would mean nothing), then broken (they must fail).
Prints one line per fault and the score, caught/total; exits non-zero unless every fault is caught.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from mi_course.runtime import progress

ROOT = Path(__file__).resolve().parents[1]
CONCRETE_PAGE = "docs/paths/concrete-problem.md"
LOSS_SNIPPET = "snippets/concrete_problem/induction_on_text_loss.py"
CHECKPOINT = "mi_course/weights/induction-2l/model.safetensors"
INDUCTION_CHECKERS = "mi_course/checkers/induction.py"
STEP2_PAGE = "docs/fundamentals/step2-transformers.md"
STEP3_PAGE = "docs/fundamentals/step3-mi-tooling.md"
STEP3_ABLATION_PAGE = "docs/fundamentals/step3-ablation-and-attribution.md"
STEP4_NOTEBOOK = "docs/fundamentals/step4-superposition.ipynb"


@dataclass(frozen=True)
class Fault:
    name: str
    break_it: Callable[[Path], None]  # mutates the copy of the repository it is given
    tests: tuple[str, ...]  # pytest arguments that must catch it


def replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    if text.count(old) < 1:
        raise ValueError(f"{path.name} no longer holds {old!r}: update the fault")
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def flip_one_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def accept_everything(path: Path) -> None:
    """Make the induction-score checker pass any function: its first statement returns a passing report."""
    text = path.read_text(encoding="utf-8")
    match = re.search(
        r"^def check_induction_score\(.*?\).*?:\n(    \"\"\".*?\"\"\"\n)?", text, re.MULTILINE | re.DOTALL
    )
    if match is None:
        raise ValueError(f"{path.name} no longer defines check_induction_score: update the fault")
    passing = '    return CheckReport("step3", [CriterionResult("induction score", True, "accepted", "anything")])\n'
    path.write_text(text[: match.end()] + passing + text[match.end() :], encoding="utf-8")


FAULTS = [
    Fault(
        "a snippet computes something else (fewer held-out windows)",
        lambda repo: replace_once(repo / LOSS_SNIPPET, "range(0, 63 * 256, 63)", "range(0, 63 * 128, 63)"),
        (CONCRETE_PAGE, "-k", "induction_on_text_loss"),
    ),
    Fault(
        "a docs block is labelled py, which pytest-codeblocks would skip",
        lambda repo: replace_once(
            repo / CONCRETE_PAGE,
            '```python\n--8<-- "concrete_problem/induction_on_text_loss.py"',
            '```py\n--8<-- "concrete_problem/induction_on_text_loss.py"',
        ),
        (CONCRETE_PAGE, "-k", "grammar"),
    ),
    Fault(
        "an include path points to a file that does not exist",
        lambda repo: replace_once(
            repo / CONCRETE_PAGE,
            '"concrete_problem/induction_on_text_loss.py"',
            '"concrete_problem/induction_on_text_los.py"',
        ),
        (CONCRETE_PAGE, "-k", "grammar or induction_on_text_los"),
    ),
    Fault(
        "a checker accepts everything",
        lambda repo: accept_everything(repo / INDUCTION_CHECKERS),
        ("tests/test_checkers_induction.py", "-k", "induction_score_checker"),
    ),
    Fault(
        "one byte of a shipped checkpoint changes",
        lambda repo: flip_one_byte(repo / CHECKPOINT),
        ("tests/test_zoo.py",),
    ),
    Fault(
        "a page claims a number the snippet no longer prints",
        lambda repo: replace_once(repo / CONCRETE_PAGE, "held-out loss: clean 1.785", "held-out loss: clean 1.885"),
        (CONCRETE_PAGE, "-k", "induction_on_text_loss"),
    ),
    Fault(
        "a claim beside the prose says the opposite of what the run printed (mean ablation hurts less)",
        lambda repo: replace_once(
            repo / STEP3_ABLATION_PAGE,
            'after="shakespeare-char:", nth=2) > printed("step3/ablation.py", "induction heads zeroed"',
            'after="shakespeare-char:", nth=2) < printed("step3/ablation.py", "induction heads zeroed"',
        ),
        (STEP3_ABLATION_PAGE, "-k", "grammar or ablation.py"),
    ),
    Fault(
        "a claim in a notebook page says the opposite of what its cell printed (the SAE misses the features)",
        lambda repo: replace_once(repo / STEP4_NOTEBOOK, "nth=5)) > 0.99-->", "nth=5)) < 0.99-->"),
        (STEP4_NOTEBOOK, "-k", "run"),
    ),
    Fault(
        "the shipped attention forgets to divide its scores by sqrt(d_head)",
        lambda repo: replace_once(repo / "mi_course/scratch.py", "scores / math.sqrt(self.cfg.d_head)", "scores"),
        (STEP2_PAGE, "-k", "logit_match"),
    ),
    Fault(
        "the induction score reads the stripe one position off",
        lambda repo: replace_once(
            repo / "mi_course/induction.py", "keys = queries - seq_len + 1", "keys = queries - seq_len"
        ),
        (STEP3_PAGE, "-k", "head_scores"),
    ),
]


def copy_of_repository(destination: Path) -> Path:
    """The tracked files of the working tree (as they are now, edits included) under ``destination``."""
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for name in filter(None, tracked.split("\0")):
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


def tests_pass(repo: Path, tests: tuple[str, ...]) -> bool:
    """Run ``tests`` in ``repo`` with its own ``mi_course`` first on the path (``pythonpath = ["."]``)."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    return done.returncode == 0


def main() -> int:
    caught = 0
    for fault in progress(FAULTS, len(FAULTS), "faults", unit="fault"):
        start = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="mi-course-fault-") as folder:
            repo = copy_of_repository(Path(folder))
            if not tests_pass(repo, fault.tests):
                with tqdm.external_write_mode():  # the line goes above the bar, not through it
                    print(
                        f"INVALID  {fault.name}: its tests fail before the fault ({' '.join(fault.tests)})", flush=True
                    )
                continue
            fault.break_it(repo)
            noticed = not tests_pass(repo, fault.tests)
        caught += noticed
        verdict = "caught" if noticed else "MISSED"
        with tqdm.external_write_mode():
            print(
                f"{verdict:7}  {fault.name} ({' '.join(fault.tests)}; {time.perf_counter() - start:.0f} s)", flush=True
            )
    print(f"fault injection: {caught}/{len(FAULTS)} caught")
    return 0 if caught == len(FAULTS) else 1


if __name__ == "__main__":
    sys.exit(main())
