"""Command line of the course.

``python -m mi_course check [STEP ...]`` runs the course's solutions through its checkers (with no
STEP: lists every step's success criteria, runs the automated ones, and sums up);
``python -m mi_course check STEP --file my_work.py`` runs your file and checks what it defines;
``python -m mi_course train NAME`` retrains a shipped model from its seed.
"""

from __future__ import annotations

import argparse
import runpy
import sys
import traceback
from pathlib import Path

from mi_course.checkers import STEP_CHECKS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mi_course", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser(
        "check", help="run each step's solution through its success-criterion checker"
    )
    check.add_argument(
        "steps",
        nargs="*",
        metavar="STEP",
        help=f"steps to check (default: all): {', '.join(STEP_CHECKS)}",
    )
    check.add_argument(
        "--file",
        type=Path,
        metavar="FILE",
        help="check your own work instead: run FILE and check each exercise of STEP it defines",
    )
    check.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="show what the solution snippets print",
    )
    train = commands.add_parser(
        "train",
        add_help=False,
        help="retrain a shipped model from its seed and write its weights and card",
    )
    train.add_argument("-h", "--help", action=_TrainHelp)
    train.add_argument(
        "name", help="a shipped model, listed below with the time its training took"
    )
    train.add_argument(
        "--zoo-dir",
        type=Path,
        default=None,
        help="where to write NAME/ (default: the installed zoo)",
    )
    args = parser.parse_args(argv)
    if args.command == "train":
        return _train(parser, args.name, args.zoo_dir)
    unknown = [step for step in args.steps if step not in STEP_CHECKS]
    if unknown:
        parser.error(
            f"unknown step {unknown[0]!r}; choose from {', '.join(STEP_CHECKS)}"
        )
    if args.file is not None:
        if len(args.steps) != 1:
            parser.error(
                "--file checks one step: name it, e.g. check step3 --file my_step3.py"
            )
        if not args.file.is_file():
            parser.error(f"--file: no file {str(args.file)!r}")
        return _check_file(args.steps[0], args.file)

    overview = not args.steps
    verdicts: dict[str, str] = {}
    for step in args.steps or list(STEP_CHECKS):
        step_check = STEP_CHECKS[step]
        print(f"{step_check.title}", flush=True)
        if overview or not step_check.automated:
            for criterion in step_check.criteria:
                print(f"  criterion: {criterion}")
        if not step_check.automated:
            print("  no automated check: these criteria are yours to judge")
            verdicts[step] = "self-assessed"
            continue
        report = step_check.run(echo=args.verbose)
        print(report, flush=True)
        verdicts[step] = "PASS" if report.passed else "FAIL"
    if overview:
        print(
            "summary: "
            + " · ".join(f"{step} {verdict}" for step, verdict in verdicts.items())
        )
    return 1 if "FAIL" in verdicts.values() else 0


def _check_file(step: str, path: Path) -> int:
    """Run the learner's file as a script, then check each exercise of ``step`` it defines.

    Exits 1 when a check fails, the file raises (showing the learner's traceback from their own
    file down, not the course's frames above it) or defines none of what the step checks.
    """
    step_check = STEP_CHECKS[step]
    if not step_check.automated:
        print(
            f"{step_check.title}\n  no automated check: these criteria are yours to judge"
        )
        return 0
    sys.path.insert(
        0, str(path.resolve().parent)
    )  # as `python FILE` would: its folder's modules import
    try:
        namespace = runpy.run_path(str(path), run_name="__main__")
    except (
        Exception
    ) as error:  # the learner's code: show what it raised, from their file down
        trace = error.__traceback__
        own = path.resolve()
        while (
            trace is not None
            and Path(trace.tb_frame.f_code.co_filename).resolve() != own
        ):
            trace = trace.tb_next
        print(
            f"{path.name} raised {type(error).__name__}; nothing was checked:",
            file=sys.stderr,
        )
        traceback.print_exception(type(error), error, trace or error.__traceback__)
        return 1
    print(step_check.title, flush=True)
    report, missing = step_check.run_file(step, namespace)
    if report is None:
        print(f"{path.name} defines none of what {step} checks: {', '.join(missing)}")
        return 1
    print(report)
    if missing:
        print(f"not checked: {path.name} does not define {', '.join(missing)}")
    return 0 if report.passed else 1


class _TrainHelp(argparse.Action):
    """``train -h``: the help, listing the trainable models with the training time each one's card records.

    The cards are read only then: reading them imports TransformerLens, which the other commands can do without.
    """

    def __init__(self, option_strings: list[str], dest: str, **kwargs) -> None:
        super().__init__(
            option_strings,
            dest,
            nargs=0,
            default=argparse.SUPPRESS,
            help="show this help and exit",
        )

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        from mi_course.training import TRAINERS
        from mi_course.zoo import model_card

        times = ", ".join(
            f"{name} ({_duration(model_card(name).training['seconds'])})"
            for name in TRAINERS
        )
        parser.epilog = f"training times on the CPU that trained the shipped models, from their cards: {times}"
        parser.print_help()
        parser.exit()


def _duration(seconds: float) -> str:
    """A training time as the help says it: about N s, or about N min from a minute and a half on."""
    return f"about {seconds:.0f} s" if seconds < 90 else f"about {seconds / 60:.0f} min"


def _train(parser: argparse.ArgumentParser, name: str, zoo_dir: Path | None) -> int:
    from mi_course.training import (
        TRAINERS,
        train_and_save,
    )  # imports the training stack only when asked
    from mi_course.zoo import ZOO_DIR

    if name not in TRAINERS:
        parser.error(f"unknown model {name!r}; trainable models: {', '.join(TRAINERS)}")
    card = train_and_save(name, zoo_dir or ZOO_DIR)
    print(
        f"{card.name}: trained in {card.training['seconds']} s; metrics: {card.metrics}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
