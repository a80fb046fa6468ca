"""Command line: ``python -m mi_course check [STEP ...]`` runs the course's solutions through its checkers."""

from __future__ import annotations

import argparse
import sys

from mi_course.checkers import STEP_CHECKS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mi_course", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="run each step's solution through its success-criterion checker")
    check.add_argument("steps", nargs="*", metavar="STEP",
                       help=f"steps to check (default: all): {', '.join(STEP_CHECKS)}")
    check.add_argument("-v", "--verbose", action="store_true", help="show what the solution snippets print")
    args = parser.parse_args(argv)
    unknown = [step for step in args.steps if step not in STEP_CHECKS]
    if unknown:
        parser.error(f"unknown step {unknown[0]!r}; choose from {', '.join(STEP_CHECKS)}")

    failed = False
    for step in args.steps or list(STEP_CHECKS):
        step_check = STEP_CHECKS[step]
        print(f"{step_check.title}", flush=True)
        report = step_check.run(echo=args.verbose)
        print(report, flush=True)
        failed |= not report.passed
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
