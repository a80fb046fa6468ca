"""Page claims: what a page shows a run printing, and how closely another machine's run must match it.

A claim is the expected output a page shows under a snippet (or under a ``$ python -m mi_course``
console line). CPU kernels differ between machines, so a seeded snippet's last digits differ too.
How much they differ is measured, not guessed: ``python3 dev.py claims PAGE`` runs each claim of
the page under every kernel setting of ``KERNEL_SETTINGS`` and records what each printed in
``<page>.claims.json``, beside the page, where a diff shows it. A number then matches when it lies
within ``SPREAD_MARGIN`` times the measured spread of the page's value, and never looser than one
unit of its last printed digit; an integer that never moved must match exactly. A recording made
for other source code is stale: the test fails and names the command that refreshes it.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from site_tools.runs import digest

# What torch's and MKL's kernels can be on the CPUs a reader may have; each one changes last digits.
# Each names the CPU as the device, so that a GPU machine can record them too.
KERNEL_SETTINGS: dict[str, dict[str, str]] = {
    "default": {"MI_COURSE_DEVICE": "cpu"},
    "avx2": {
        "MI_COURSE_DEVICE": "cpu",
        "ATEN_CPU_CAPABILITY": "avx2",
        "MKL_ENABLE_INSTRUCTIONS": "AVX2",
    },  # an AVX2-only laptop
    "no-vector": {"MI_COURSE_DEVICE": "cpu", "ATEN_CPU_CAPABILITY": "default"},
    "mkl-avx2": {"MI_COURSE_DEVICE": "cpu", "MKL_ENABLE_INSTRUCTIONS": "AVX2"},
}
# A GPU rounds differently again: its runs are recorded on a GPU machine (`dev.py claims --device cuda`),
# and a run on CUDA is held to the spread of the CPU settings and that recording together.
DEVICE_SETTINGS: dict[str, dict[str, str]] = {"cuda": {"MI_COURSE_DEVICE": "cuda"}}
# Another machine may stray further than the settings measured here: allow twice their spread.
SPREAD_MARGIN = 2.0
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")
# A live timing (``24.7 s``) in a console claim: only its format is compared.
DURATION = re.compile(r"\b\d+(?:\.\d+)? ?(?:s|ms|seconds)\b")
VERDICT = re.compile(r"\b(?:PASS|FAIL)\b")
CLAIMS_SUFFIX = ".claims.json"


def claims_file(page: Path) -> Path:
    """Where the measured spreads of ``page``'s claims are recorded: beside it."""
    return page.with_name(page.stem + CLAIMS_SUFFIX)


def refresh_command(page: Path, rootpath: Path, device: str = "cpu") -> str:
    option = f" --device {device}" if device in DEVICE_SETTINGS else ""
    return f"python3 dev.py claims{option} {page.relative_to(rootpath).as_posix()}"


@dataclass(frozen=True)
class Recording:
    """What one claim's source printed under each kernel setting, and for which version of it."""

    digest: str
    printed: dict[str, str]  # setting name -> the run's stdout
    live_timings: bool = False  # a console claim: its durations are the machine's speed, not a result


def load_recordings(page: Path) -> dict[str, Recording]:
    path = claims_file(page)
    if not path.is_file():
        return {}
    claims = json.loads(path.read_text(encoding="utf-8"))["claims"]
    return {
        key: Recording(
            entry["digest"],
            {name: "\n".join(lines) for name, lines in entry["printed"].items()},
            entry.get("live_timings", False),
        )
        for key, entry in claims.items()
    }


def save_recording(page: Path, key: str, recording: Recording, rootpath: Path) -> None:
    """Record (or replace) one claim's runs in the page's claims file, keeping the others."""
    path = claims_file(page)
    recordings = load_recordings(page) | {key: recording}
    document = {
        "about": f"What each claim of {page.name} printed under each CPU kernel setting; "
        f"written by `{refresh_command(page, rootpath)}` (site_tools/claims.py).",
        "summary": precision_summary(recordings),
        "settings": {
            name: " ".join(f"{k}={v}" for k, v in env.items())
            for name, env in (KERNEL_SETTINGS | DEVICE_SETTINGS).items()
        },
        "claims": {
            key: {
                "digest": entry.digest,
                **({"live_timings": True} if entry.live_timings else {}),
                "printed": {name: text.strip().splitlines() for name, text in entry.printed.items()},
            }
            for key, entry in sorted(recordings.items())
        },
    }
    path.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")


def masked(output: str, mask_durations: bool) -> str:
    """``output`` with its live timings masked, and on their lines the PASS or FAIL they earn (a machine's speed)."""
    if not mask_durations:
        return output
    lines = [VERDICT.sub("<verdict>", line) if DURATION.search(line) else line for line in output.split("\n")]
    return DURATION.sub("<duration>", "\n".join(lines))


def masked_runs(recording: Recording, mask_durations: bool) -> Recording:
    """``recording`` with each run's live timings masked (see ``masked``)."""
    printed = {name: masked(text, mask_durations) for name, text in recording.printed.items()}
    return Recording(recording.digest, printed, recording.live_timings)


def structure(line: str) -> list[str]:
    return NUMBER.sub("#", line).split()


NUMBER_LIST = re.compile(r"#(?:, #)+")


def structure_mismatch(shown: str, printed: str) -> str | None:
    """Compare only the structure of two outputs: every line and word, with each number, and each list of numbers, masked.

    A hub snippet's page shows what GPT-2 small prints in Colab; offline the tests run the same file
    on GPT-2's twin, whose numbers differ but whose lines, shapes' ranks, verdicts and non-empty
    lists of heads must not.
    """
    masked_lines = lambda text: [
        NUMBER_LIST.sub("#", NUMBER.sub("#", line)).rstrip() for line in text.strip().split("\n")
    ]  # noqa: E731
    expected, actual = masked_lines(shown), masked_lines(printed)
    for number, (want, got) in enumerate(zip(expected, actual, strict=False), start=1):
        if want != got:
            return f"line {number} reads {got!r} where the page's structure is {want!r} (numbers masked)"
    if len(expected) != len(actual):
        return f"it printed {len(actual)} lines where the page shows {len(expected)}"
    return None


def last_digit_unit(shown: str) -> float:
    """One unit of the last printed digit of a decimal (0.0811 -> 0.0001); 0 for an integer."""
    mantissa, _, exponent = shown.lower().partition("e")
    if "." not in mantissa and not exponent:
        return 0.0
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    return 10.0 ** (int(exponent or 0) - decimals)


def running_device() -> str:
    """``cuda`` where the course runs on a GPU (``MI_COURSE_DEVICE``, as ``get_device`` reads it), else ``cpu``."""
    return "cuda" if os.environ.get("MI_COURSE_DEVICE", "").startswith("cuda") else "cpu"


def for_device(recording: Recording, device: str) -> Recording | None:
    """The runs a claim is held to on ``device``: the CPU settings', and the device's own on a GPU; None if unrecorded."""
    names = [*KERNEL_SETTINGS, *([device] if device in DEVICE_SETTINGS else [])]
    if not all(name in recording.printed for name in names):
        return None
    return Recording(recording.digest, {name: recording.printed[name] for name in names})


def measured_spreads(shown: str, recording: Recording) -> list[list[float]]:
    """For each number of ``shown`` (per line), the range of the values the recorded runs printed there."""
    runs = [[NUMBER.findall(line) for line in text.strip().splitlines()] for text in recording.printed.values()]
    spreads = []
    for index, line in enumerate(shown.strip().splitlines()):
        row = []
        for position in range(len(NUMBER.findall(line))):
            values = [float(run[index][position]) for run in runs if index < len(run) and position < len(run[index])]
            row.append(max(values) - min(values) if values else 0.0)
        spreads.append(row)
    return spreads


def tolerances(shown: str, recording: Recording) -> list[list[float]]:
    """For each number of ``shown`` (per line), how far a run may print it from the page's value."""
    return [
        [max(last_digit_unit(number), SPREAD_MARGIN * spread) for number, spread in zip(NUMBER.findall(line), row)]
        for line, row in zip(shown.strip().splitlines(), measured_spreads(shown, recording))
    ]


def output_mismatch(expected: str, actual: str, allowed: list[list[float]]) -> str | None:
    """Compare a run's output with a page's claim: text exactly, each number within its allowed distance.

    Returns a description of the first difference, or None.
    """
    expected_lines, actual_lines = expected.strip().splitlines(), actual.strip().splitlines()
    if len(expected_lines) != len(actual_lines):
        return f"the page shows {len(expected_lines)} lines of output, the run printed {len(actual_lines)}"
    for number, (claim, printed, row) in enumerate(zip(expected_lines, actual_lines, allowed), start=1):
        if structure(claim) != structure(printed):
            return f"line {number}: page shows {claim!r}, the run printed {printed!r}"
        for shown, measured, distance in zip(NUMBER.findall(claim), NUMBER.findall(printed), row):
            if abs(float(shown) - float(measured)) > distance:
                bound = "exactly" if distance == 0 else f"within {distance:.2g}"
                return f"line {number}: page shows {shown} where the run printed {measured}, not {bound} ({printed!r})"
    return None


def spread_problem(shown: str, recording: Recording) -> str | None:
    """Why a recording cannot make a claim portable: a setting printed other text, or strayed from the page."""
    allowed = tolerances(shown, recording)
    for setting, printed in recording.printed.items():
        mismatch = output_mismatch(shown, printed, allowed)
        if mismatch:
            return f"under the kernel setting {setting!r}: {mismatch}"
    return None


def relative_spreads(shown: str, recording: Recording) -> list[tuple[float, float, str]]:
    """Each number's measured spread, relative to its size and absolute, with its line: (relative, absolute, line)."""
    return [
        (spread / abs(float(number)) if float(number) else spread, spread, line.strip())
        for line, row in zip(shown.strip().splitlines(), measured_spreads(shown, recording))
        for number, spread in zip(NUMBER.findall(line), row)
    ]


def precision_summary(recordings: dict[str, Recording]) -> dict:
    """How far the numbers of a page's claims moved across the recorded CPU settings, for the page to say."""
    numbers, moved, widest, widest_in = 0, 0, 0.0, None
    for key, recording in sorted(recordings.items()):
        runs = masked_runs(Recording(recording.digest, _cpu_runs(recording)), recording.live_timings)
        for relative, absolute, _ in relative_spreads(runs.printed["default"], runs):
            numbers += 1
            moved += absolute > 0
            if relative > widest:
                widest, widest_in = relative, key
    return {
        "settings": len(KERNEL_SETTINGS),
        "numbers": numbers,
        "moved": moved,
        "widest_relative_spread": round(widest, 6),
        "widest_in": widest_in,
        "margin": SPREAD_MARGIN,
    }


def _cpu_runs(recording: Recording) -> dict[str, str]:
    return {name: text for name, text in recording.printed.items() if name in KERNEL_SETTINGS}


class PageError(AssertionError):
    """A page's code is broken, would not be run, or no longer shows what it prints; the message says where."""


def claim_mismatch(
    page: Path, rootpath: Path, key: str, source: str, shown: str, printed: str, *, live_timings: bool = False
) -> str | None:
    """Compare a run with a page's claim, within the spread recorded for this source; fail if none is recorded."""
    recording, device = load_recordings(page).get(key), running_device()
    if recording is None or recording.digest != digest(source):
        state = "has no recorded spread" if recording is None else "changed since its spread was recorded"
        raise PageError(
            f"{page.name}: {key} {state} across CPU kernel settings, so its claim has no tolerance; "
            f"record it with: {refresh_command(page, rootpath)}"
        )
    recording = for_device(recording, device)
    if recording is None:
        raise PageError(
            f"{page.name}: {key} has no recorded run on {device}, so its claim has no tolerance there; "
            f"record it on a {device} machine with: {refresh_command(page, rootpath, device)}"
        )
    shown, printed = masked(shown, live_timings), masked(printed, live_timings)
    return output_mismatch(shown, printed, tolerances(shown, masked_runs(recording, live_timings)))
