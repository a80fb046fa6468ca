"""Results of a success-criterion check, printable one line per criterion."""

from __future__ import annotations

from dataclasses import dataclass


class CheckerInputError(ValueError):
    """What a checker was given is not what it can check; the message is one line."""


@dataclass(frozen=True)
class CriterionResult:
    """One success criterion, what was measured, and whether it passed."""

    name: str
    passed: bool
    measured: str
    criterion: str

    def __str__(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        return f"{verdict}  {self.name}: {self.measured} (criterion: {self.criterion})"


@dataclass(frozen=True)
class CheckReport:
    """The results of every criterion of one step."""

    step: str
    results: tuple[CriterionResult, ...]

    @property
    def passed(self) -> bool:
        return all(result.passed for result in self.results)

    def __str__(self) -> str:
        return "\n".join(f"[{self.step}] {result}" for result in self.results)
