"""What every checker shares: running a learner's function, judging its output, reporting the result.

A checker runs the learner's function and the course's reference on the same seeded inputs. These
helpers turn whatever the learner's code raises or returns that cannot be judged into a one-line
``CheckerInputError`` (``call``, ``call_tensor``, ``returned_number``, ``as_number``), compare an
output with the reference and name the first common mistake it matches (``diagnose``), and make
the one-criterion report of a checker (``report``). They also load the shipped models the checkers
run on, once per process (``shipped``), and give a reference module its random weights
(``randomize``).
"""

from __future__ import annotations

import contextlib
import functools
import math
import numbers
from collections.abc import Callable, Iterator

import torch
from torch import Tensor, nn

from mi_course import _checks
from mi_course.checkers.report import CheckerInputError, CheckReport, CriterionResult

ATOL = (
    1e-5  # what a checker's output may differ from the reference's by, on random inputs
)
MODEL_ATOL = 1e-4  # what a shipped model's float32 sums may differ by when computed in another order
CHECK_SEED = 0  # the seed of every checker's random inputs and weights

# A common mistake: what it would output, and what to say about it.
Mistakes = list[tuple[Tensor, str]]


def first_line(error: BaseException, *, empty: str = "") -> str:
    """The first line of ``error``'s message, or ``empty`` if it has none."""
    text = str(error).strip()
    return text.splitlines()[0] if text else empty


@contextlib.contextmanager
def as_checker_input_error() -> Iterator[None]:
    """Turn the TypeError or ValueError of an input check (``mi_course._checks``) into a CheckerInputError."""
    try:
        yield
    except (TypeError, ValueError) as error:
        if isinstance(error, CheckerInputError):
            raise
        raise CheckerInputError(str(error)) from None


def check_callable(function: object, checker: str, what: str) -> None:
    """Refuse what is not a function: ``checker`` expected ``what`` (a model is callable, but not a function)."""
    if isinstance(function, nn.Module):
        raise CheckerInputError(
            f"{checker} expected {what}, got a model ({type(function).__name__}): pass your function itself"
        )
    if not callable(function):
        raise CheckerInputError(
            f"{checker} expected {what}, got {type(function).__name__}"
        )


def call(name: str, call: Callable[[], object], *, chain: str | None = None) -> object:
    """What ``call()`` returns; if it raises, a CheckerInputError that says what ``name`` raised.

    ``chain``, if given, is how the shapes of the inputs chain, added to a matrix product's shape error.
    """
    try:
        return call()
    except Exception as error:
        message = first_line(error)
        if chain is not None and "cannot be multiplied" in message:
            message += f"; the shapes chain as {chain}"
        raise CheckerInputError(
            f"{name} raised {type(error).__name__}: {message}"
        ) from error


def call_tensor(
    name: str, call_: Callable[[], Tensor | None], shape: torch.Size, given: str
) -> Tensor | None:
    """What ``call_()`` returns, if it is None or a tensor of ``shape`` (for the inputs ``given``)."""
    got = call(name, call_)
    if got is not None and (not isinstance(got, Tensor) or got.shape != shape):
        shown = tuple(got.shape) if isinstance(got, Tensor) else type(got).__name__
        raise CheckerInputError(
            f"{name}: expected shape {tuple(shape)} for {given}, got {shown}"
        )
    return got


def returned_number(name: str, call_: Callable[[], object]) -> float:
    """What ``call_()`` returns, as a float; a CheckerInputError if it raises or is no number."""
    try:
        return float(call_())
    except Exception as error:
        raise CheckerInputError(
            f"{name} raised {type(error).__name__}: {first_line(error)}; it should return a number"
        ) from error


def as_number(name: str, got: object, given: str) -> float:
    """``got`` as a float if it is a real number or a one-element tensor, else a CheckerInputError."""
    if (
        isinstance(got, Tensor)
        and got.numel() == 1
        and not got.dtype.is_complex
        and got.dtype != torch.bool
    ):
        return float(got.item())
    if isinstance(got, numbers.Real) and not isinstance(got, bool):
        return float(got)
    raise CheckerInputError(
        f"{name}: expected a number (a float, or a tensor of one element) for {given}, got {_checks.described(got)}"
    )


def diagnose(
    got: Tensor,
    expected: Tensor,
    mistakes: Mistakes | Callable[[], Mistakes],
    generic_hint: str,
    atol: float = ATOL,
    *,
    relative: bool = False,
) -> str | None:
    """None if ``got`` matches ``expected``; else how far it is, and the first mistake it matches (or the hint).

    ``mistakes`` may be a function that makes the list, called only on a mismatch (some cost model
    runs). With ``relative``, the tolerance is ``atol`` times the largest entry of what ``got`` is
    compared with, where that is above 1.
    """
    got, expected = got.detach().double().cpu(), expected.detach().double().cpu()
    difference = (got - expected).abs().max().item()
    if difference <= _tolerance(expected, atol, relative):  # False for nan
        return None
    if callable(mistakes):
        mistakes = mistakes()
    hint = next(
        (
            text
            for wrong, text in mistakes
            if _close(got, wrong.detach().double().cpu(), atol, relative)
        ),
        generic_hint,
    )
    return f"differs from the reference by {difference:#.2g}; {hint}"


def _close(got: Tensor, wrong: Tensor, atol: float, relative: bool) -> bool:
    return (got - wrong).abs().max().item() <= _tolerance(wrong, atol, relative)


def _tolerance(reference: Tensor, atol: float, relative: bool) -> float:
    scale = reference.abs().max().item() if relative else 1.0
    return atol * max(1.0, scale) if math.isfinite(scale) else atol


def report(
    step: str,
    name: str,
    passed: bool,
    measured: str,
    atol: float = ATOL,
    *,
    criterion: str | None = None,
) -> CheckReport:
    """The report of one criterion; unless ``criterion`` says otherwise, a max abs difference within ``atol``."""
    return CheckReport(
        step,
        (
            CriterionResult(
                name,
                passed,
                measured,
                criterion or f"max abs difference <= {atol:.0e}",
            ),
        ),
    )


@functools.cache
def shipped(name: str, *, compatibility: bool = False):
    """A shipped model on the CPU, loaded once per process (in compatibility mode if asked, a copy of its own)."""
    from mi_course.zoo import load_model

    model = load_model(name, device="cpu")
    if compatibility:
        model.enable_compatibility_mode()
    return model


def randomize(module: nn.Module, generator: torch.Generator) -> None:
    """Weights large enough that every mistake shows: std 0.2 for matrices, 0.1 around 1 and 0 for vectors."""
    with torch.no_grad():
        for key, parameter in module.named_parameters():
            noise = torch.randn(parameter.shape, generator=generator)
            if key.endswith(".w") or key == "w":  # LayerNorm scale
                parameter.copy_(1 + 0.1 * noise)
            elif parameter.dim() == 1 or key.split(".")[-1].startswith("b_"):
                parameter.copy_(0.1 * noise)
            else:
                parameter.copy_(0.2 * noise)
