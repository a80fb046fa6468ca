"""Checkers for Step 3's exercises: an induction score, and a mean-ablation hook.

Introduced on the page "Step 3: MI tooling". Each checker runs your function and the course's
reference on the same seeded random inputs and, when they differ, compares your output with
common mistakes to say what probably went wrong.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from mi_course.checkers.report import CheckerInputError, CheckReport, CriterionResult
from mi_course.induction import STRIPES
from mi_course.interventions import mean_ablation_hook, zero_ablation_hook

ATOL = 1e-5
_BATCH, _HEADS, _SEQ_LEN = 3, 4, 7  # every size differs, so a swapped axis shows
_Z_SHAPE = (5, 6, 4, 3)  # batch, pos, head, d_head
_ABLATED_HEADS = [0, 2]


def check_induction_score(induction_score: Callable[[Tensor, int], Tensor]) -> CheckReport:
    """Check ``induction_score(pattern, seq_len) -> (head,)``: mean attention on the induction stripe.

    ``pattern`` is ``(batch, head, query, key)`` for ``[BOS] x x`` with ``x`` of length ``seq_len``.
    """
    _check_callable(induction_score, "check_induction_score", "your induction_score function")
    pattern = _random_patterns(torch.Generator().manual_seed(0))
    expected = _stripe_mean(pattern, "induction")
    got = _call("induction_score", lambda: induction_score(pattern.clone(), _SEQ_LEN), expected.shape,
                f"a pattern of shape {tuple(pattern.shape)}; average over the batch and over the queries")
    diagonal = torch.diagonal(pattern, offset=-(_SEQ_LEN - 1), dim1=-2, dim2=-1)
    second_copy, _ = STRIPES["induction"](_SEQ_LEN)
    previous_in_second_copy = pattern[:, :, second_copy, second_copy - 1].mean(dim=(0, 2))
    mistakes = [
        (_stripe_mean(pattern, "duplicate-token"),
         "that is the duplicate-token stripe (key q - L): an induction head attends to the token after the earlier copy, key q - L + 1"),
        *((previous, "that is the previous-token stripe (key q - 1); the induction stripe is key q - L + 1")
          for previous in (_stripe_mean(pattern, "previous-token"), previous_in_second_copy)),
        (diagonal.mean(dim=(0, 2)),
         "average only over queries in the second copy (positions L + 1 to 2L), not the whole diagonal"),
        (_stripe_sum(pattern), "average over the batch and the queries: you summed"),
    ]
    return _report("induction_score", got, expected, mistakes, "on random causal patterns, 3 sequences, 4 heads, L = 7",
                   "the score of a head is pattern[:, head, q, q - L + 1] averaged over the batch and over q from L + 1 to 2L")


def check_mean_ablation_hook(make_hook: Callable[[list[int]], Callable]) -> CheckReport:
    """Check ``make_hook(heads)``: a hook for ``hook_z`` that replaces ``heads`` by their mean over the batch."""
    _check_callable(make_hook, "check_mean_ablation_hook", "your mean_ablation_hook function (which makes a hook)")
    z = torch.randn(_Z_SHAPE, generator=torch.Generator().manual_seed(0))
    expected = mean_ablation_hook(_ABLATED_HEADS)(z.clone(), None)
    try:
        hook = make_hook(list(_ABLATED_HEADS))
    except Exception as error:
        raise CheckerInputError(f"mean_ablation_hook({_ABLATED_HEADS}) raised {type(error).__name__}: {error}") from error
    if not callable(hook):
        raise CheckerInputError(f"mean_ablation_hook(heads) should return a hook function, got {type(hook).__name__}")
    given = z.clone()
    got = _call("the hook", lambda: hook(given, None), expected.shape, f"z of shape {tuple(z.shape)} (batch, pos, head, d_head)")
    if got is None:
        got = given  # a hook may edit z in place and return None
    others = [head for head in range(_Z_SHAPE[2]) if head not in _ABLATED_HEADS]
    over_positions = z.clone()
    over_positions[:, :, _ABLATED_HEADS] = z[:, :, _ABLATED_HEADS].mean(dim=(0, 1), keepdim=True)
    across_heads = z.clone()
    across_heads[:, :, _ABLATED_HEADS] = z[:, :, _ABLATED_HEADS].mean(dim=2, keepdim=True)
    on_positions = z.clone()
    on_positions[:, _ABLATED_HEADS] = z[:, _ABLATED_HEADS].mean(dim=0, keepdim=True)
    mistakes = [
        (z, "z came back unchanged: change the heads' slice of z and return z"),
        (zero_ablation_hook(_ABLATED_HEADS)(z.clone(), None), "that is zero ablation: replace the heads by their mean, not by 0"),
        (mean_ablation_hook(others)(z.clone(), None), "you ablated the other heads: change only those listed in heads"),
        (over_positions, "take the mean over the batch only (dim 0), position by position, not over positions too"),
        (across_heads, "average each listed head over the batch, not the listed heads together"),
        (on_positions, "heads are dim 2 of z (batch, pos, head, d_head); you indexed positions"),
    ]
    return _report("mean_ablation_hook", got, expected, mistakes, f"on a random z of shape {_Z_SHAPE}, heads {_ABLATED_HEADS}",
                   "z[:, :, heads] should become z[:, :, heads].mean(dim=0, keepdim=True); the other heads stay as they are")


def _check_callable(function: object, checker: str, what: str) -> None:
    if not callable(function):
        raise CheckerInputError(f"{checker} expected {what}, got {type(function).__name__}")


def _random_patterns(generator: torch.Generator) -> Tensor:
    positions = 1 + 2 * _SEQ_LEN
    scores = torch.randn(_BATCH, _HEADS, positions, positions, generator=generator) * 2
    causal = torch.ones(positions, positions, dtype=torch.bool).tril()
    return scores.masked_fill(~causal, float("-inf")).softmax(dim=-1)


def _stripe_mean(pattern: Tensor, kind: str) -> Tensor:
    queries, keys = STRIPES[kind](_SEQ_LEN)
    return pattern[:, :, queries, keys].mean(dim=(0, 2))


def _stripe_sum(pattern: Tensor) -> Tensor:
    queries, keys = STRIPES["induction"](_SEQ_LEN)
    return pattern[:, :, queries, keys].sum(dim=(0, 2))


def _call(name: str, call: Callable[[], Tensor | None], shape: torch.Size, given: str) -> Tensor | None:
    try:
        got = call()
    except Exception as error:
        raise CheckerInputError(f"{name} raised {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}") from error
    if got is not None and (not isinstance(got, Tensor) or got.shape != shape):
        described = tuple(got.shape) if isinstance(got, Tensor) else type(got).__name__
        raise CheckerInputError(f"{name}: expected shape {tuple(shape)} for {given}, got {described}")
    return got


def _report(name: str, got: Tensor, expected: Tensor, mistakes: list[tuple[Tensor, str]], where: str, generic_hint: str) -> CheckReport:
    criterion = f"max abs difference <= {ATOL:.0e}"
    difference = (got.float() - expected).abs().max().item()
    if difference <= ATOL:
        return CheckReport("step3", (CriterionResult(name, True, f"matches the reference {where}", criterion),))
    hint = next((text for wrong, text in mistakes if (got.float() - wrong).abs().max().item() <= ATOL), generic_hint)
    return CheckReport("step3", (CriterionResult(name, False, f"differs from the reference by {difference:#.2g}; {hint}", criterion),))
