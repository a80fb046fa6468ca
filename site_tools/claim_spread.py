"""Measure how far each page claim's numbers move across CPU kernel settings, and record it beside the page.

Run with `python3 dev.py claims [PAGE ...]` (``python -m site_tools.claim_spread``) (default: every Markdown page). Each claim whose
recording is missing or stale (its source changed) runs once under every setting of
``site_tools.claims.KERNEL_SETTINGS``, each run a fresh process as the tests run it, and what it printed
goes to ``<page>.claims.json``. ``--all`` re-measures every claim; ``--report N`` lists the N
claims whose numbers moved most. On a GPU machine, ``--device cuda`` adds each claim's CUDA run to
its current CPU recording, which the GPU workflow's runs are then held to. Exits non-zero if a setting printed other text than the page, or
strayed from the page's numbers beyond the tolerance the recording gives (then the claim is not
portable: print fewer digits, or something exact).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from tqdm import tqdm

from mi_course.runtime import progress
from site_tools.claims import (
    DEVICE_SETTINGS,
    KERNEL_SETTINGS,
    PageError,
    Recording,
    load_recordings,
    masked,
    masked_runs,
    relative_spreads,
    save_recording,
    spread_problem,
)
from site_tools.page_checks import MEASURE_TIMEOUT_S, command_source, run_command, run_snippet_checked
from site_tools.pages import Page
from site_tools.runs import digest

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class PageClaim:
    """One claim of a page, as this script measures it: its key, source, shown output and runner."""

    key: str
    source: str
    shown: str
    run: Callable[[dict[str, str]], str]  # kernel environment -> what the run printed
    live_timings: bool = False


def page_claims(page_path: Path, rootpath: Path) -> list[PageClaim]:
    """Every claim of a Markdown page that runs offline: included snippets with an expected output, and console commands."""
    page, claims = Page.read(page_path, rootpath), []
    for fence in page.code_blocks:
        if fence.is_include_block and fence.shown_output is not None:
            for snippet in map(page.snippet, fence.includes):
                if not snippet.needs_network:
                    claims.append(
                        PageClaim(
                            snippet.name, snippet.script, fence.shown_output, partial(printed_by_snippet, snippet)
                        )
                    )
    for fence in page.console_claims:
        command, shown = fence.console_claim()
        claims.append(
            PageClaim(
                command,
                command_source(command, rootpath),
                shown,
                partial(printed_by_command, command),
                live_timings=True,
            )
        )
    return claims


def printed_by_snippet(snippet, env: dict[str, str]) -> str:
    return run_snippet_checked(snippet, f"under {env}", MEASURE_TIMEOUT_S, env=env).stdout


def printed_by_command(command: str, env: dict[str, str]) -> str:
    done = run_command(command, env, timeout_s=MEASURE_TIMEOUT_S)
    if done.returncode != 0 and "FAIL" not in done.stdout:
        raise PageError(f"`{command}` failed under {env}:\n{done.stderr[-3000:]}")
    return done.stdout


def measure(claim: PageClaim, settings: dict[str, dict[str, str]], workers: int) -> dict[str, str]:
    """What ``claim`` prints under each of ``settings``, ``workers`` runs at a time."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(zip(settings, pool.map(claim.run, settings.values())))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pages", nargs="*", type=Path, help="Markdown pages (default: all of docs/)")
    parser.add_argument("--all", action="store_true", help="re-measure claims whose recording is current too")
    parser.add_argument("--report", type=int, default=0, metavar="N", help="list the N claims whose numbers moved most")
    parser.add_argument("--workers", type=int, default=2, help="runs at a time (each run is a fresh process)")
    parser.add_argument("--device", choices=sorted(DEVICE_SETTINGS), help="also record each claim's run on this GPU")
    options = parser.parse_args(argv)
    pages = [page.resolve() for page in options.pages] or sorted((ROOT / "docs").rglob("*.md"))
    problems, spreads = [], []
    claims = [(page, claim) for page in pages for claim in page_claims(page, ROOT)]
    recordings = {page: load_recordings(page) for page in pages}
    for page, claim in progress(claims, len(claims), "claims", unit="claim"):
        recording, wanted = recordings[page].get(claim.key), digest(claim.source)
        if options.all or recording is None or recording.digest != wanted:
            with tqdm.external_write_mode():  # the line goes above the bar, not through it
                print(f"measuring {page.name}: {claim.key}", flush=True)
            recording = Recording(wanted, measure(claim, KERNEL_SETTINGS, options.workers), claim.live_timings)
            save_recording(page, claim.key, recording, ROOT)
        if options.device and (options.all or options.device not in recording.printed):
            with tqdm.external_write_mode():
                print(f"measuring {page.name}: {claim.key} on {options.device}", flush=True)
            device_setting = {options.device: DEVICE_SETTINGS[options.device]}
            recording = Recording(wanted, recording.printed | measure(claim, device_setting, 1), claim.live_timings)
            save_recording(page, claim.key, recording, ROOT)
        shown, comparable = masked(claim.shown, claim.live_timings), masked_runs(recording, claim.live_timings)
        if problem := spread_problem(shown, comparable):
            problems.append(f"{page.relative_to(ROOT)}: {claim.key} is not portable {problem}")
        spreads += [
            (relative, absolute, f"{claim.key}: {line}")
            for relative, absolute, line in relative_spreads(shown, comparable)
        ]
    for relative, absolute, where in sorted(spreads, reverse=True)[: options.report]:
        print(f"spread {absolute:.3g} ({relative:.2%} of the value)  {where}")
    for problem in problems:
        print(problem)
    print(f"claims: {len(problems)} not portable" if problems else "claims: every measured setting matches its page")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
