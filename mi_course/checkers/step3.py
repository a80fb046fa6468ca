"""Checkers for Step 3's exercises: an induction score, and a mean-ablation hook.

Introduced on the page "Step 3: MI tooling". Each checker runs your function and the course's
reference on the same seeded random inputs and, when they differ, compares your output with
common mistakes to say what probably went wrong.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from mi_course import induction, interventions
from mi_course.checkers.report import CheckerInputError, CheckReport, CriterionResult
from mi_course.induction import STRIPES

ATOL = 1e-5
# (batch, head, seq_len) of each random pattern: sizes differ within a case, so a swapped axis shows,
# and across cases, so a score that hard-codes one of them fails the other
_PATTERN_CASES = ((3, 4, 7), (2, 5, 9))
_Z_SHAPE = (5, 6, 4, 3)  # batch, pos, head, d_head
# several heads and single ones, first, middle and last, so a hook that hard-codes its heads fails
_HEAD_SETS = ([0, 2], [1], [3], [1, 2, 3])


def check_induction_score(induction_score: Callable[[Tensor, int], Tensor]) -> CheckReport:
    """Check ``induction_score(pattern, seq_len) -> (head,)``: mean attention on the induction stripe.

    ``pattern`` is ``(batch, head, query, key)`` for ``[BOS] x x`` with ``x`` of length ``seq_len``.
    It runs on patterns of two sizes, with two values of ``seq_len``, so a score that fixes either fails.
    """
    _check_callable(induction_score, "check_induction_score", "your induction_score function")
    generator = torch.Generator().manual_seed(0)
    for batch, n_heads, seq_len in _PATTERN_CASES:
        pattern = _random_patterns(batch, n_heads, seq_len, generator)
        expected = induction.induction_score(pattern, seq_len)  # the reference: the solution the page shows
        got = _call("induction_score", lambda: induction_score(pattern.clone(), seq_len), expected.shape,
                    f"a pattern of shape {tuple(pattern.shape)}; average over the batch and over the queries")
        failure = _failure(got, expected, _induction_score_mistakes(pattern, seq_len),
                           "the score of a head is pattern[:, head, q, q - L + 1] averaged over the batch and over q from L + 1 to 2L")
        if failure is not None:
            return _report("induction_score", False, f"with L = {seq_len}, {failure}")
    cases = "; ".join(f"{batch} sequences, {n_heads} heads, L = {seq_len}" for batch, n_heads, seq_len in _PATTERN_CASES)
    return _report("induction_score", True, f"matches the reference on random causal patterns: {cases}")


def check_mean_ablation_hook(make_hook: Callable[[list[int]], Callable]) -> CheckReport:
    """Check ``make_hook(heads)``: a hook for ``hook_z`` that replaces ``heads`` by their mean over the batch.

    It is made and run for several head sets, one head or more, so a hook that ignores ``heads`` fails.
    """
    _check_callable(make_hook, "check_mean_ablation_hook", "your mean_ablation_hook function (which makes a hook)")
    generator = torch.Generator().manual_seed(0)
    for heads in _HEAD_SETS:
        z = torch.randn(_Z_SHAPE, generator=generator)
        expected = interventions.mean_ablation_hook(heads)(z.clone(), None)  # the reference: the page's solution
        try:
            hook = make_hook(list(heads))
        except Exception as error:
            raise CheckerInputError(f"mean_ablation_hook({heads}) raised {type(error).__name__}: {error}") from error
        if not callable(hook):
            raise CheckerInputError(f"mean_ablation_hook(heads) should return a hook function, got {type(hook).__name__}")
        given = z.clone()
        got = _call("the hook", lambda: hook(given, None), expected.shape, f"z of shape {tuple(z.shape)} (batch, pos, head, d_head)")
        if got is None:
            got = given  # a hook may edit z in place and return None
        failure = _failure(got, expected, _mean_ablation_mistakes(z, heads),
                           "z[:, :, heads] should become z[:, :, heads].mean(dim=0, keepdim=True); the other heads stay as they are")
        if failure is not None:
            return _report("mean_ablation_hook", False, f"with heads {heads}, {failure}")
    head_sets = ", ".join(map(str, _HEAD_SETS[:-1])) + f" and {_HEAD_SETS[-1]}"
    return _report("mean_ablation_hook", True, f"matches the reference on random z of shape {_Z_SHAPE}, heads {head_sets}")


def _induction_score_mistakes(pattern: Tensor, seq_len: int) -> list[tuple[Tensor, str]]:
    diagonal = torch.diagonal(pattern, offset=-(seq_len - 1), dim1=-2, dim2=-1)
    second_copy, _ = STRIPES["duplicate-token"](seq_len)  # its queries are the second copy
    previous_in_second_copy = pattern[:, :, second_copy, second_copy - 1].mean(dim=(0, 2))
    return [
        (_stripe_mean(pattern, "duplicate-token", seq_len),
         "that is the duplicate-token stripe (key q - L): an induction head attends to the token after the earlier copy, key q - L + 1"),
        *((previous, "that is the previous-token stripe (key q - 1); the induction stripe is key q - L + 1")
          for previous in (_stripe_mean(pattern, "previous-token", seq_len), previous_in_second_copy)),
        (diagonal.mean(dim=(0, 2)),
         "average only over queries in the second copy (positions L + 1 to 2L), not the whole diagonal"),
        (_induction_stripe(pattern, seq_len).sum(dim=(0, 2)), "average over the batch and the queries: you summed"),
        *((_induction_stripe(pattern, fixed).mean(dim=(0, 2)), f"you used L = {fixed}: take L from the seq_len argument")
          for _, _, fixed in _PATTERN_CASES if fixed < seq_len),
    ]


def _mean_ablation_mistakes(z: Tensor, heads: list[int]) -> list[tuple[Tensor, str]]:
    others = [head for head in range(_Z_SHAPE[2]) if head not in heads]
    over_positions = z.clone()
    over_positions[:, :, heads] = z[:, :, heads].mean(dim=(0, 1), keepdim=True)
    across_heads = z.clone()
    across_heads[:, :, heads] = z[:, :, heads].mean(dim=2, keepdim=True)
    on_positions = z.clone()
    on_positions[:, heads] = z[:, heads].mean(dim=0, keepdim=True)
    return [
        (z, "z came back unchanged: change the heads' slice of z and return z"),
        (interventions.zero_ablation_hook(heads)(z.clone(), None), "that is zero ablation: replace the heads by their mean, not by 0"),
        (interventions.mean_ablation_hook(others)(z.clone(), None), "you ablated the other heads: change only those listed in heads"),
        *((interventions.mean_ablation_hook(fixed)(z.clone(), None), f"you ablated heads {fixed}: ablate the heads the hook was made for")
          for fixed in _HEAD_SETS if fixed != heads),
        (over_positions, "take the mean over the batch only (dim 0), position by position, not over positions too"),
        (across_heads, "average each listed head over the batch, not the listed heads together"),
        (on_positions, "heads are dim 2 of z (batch, pos, head, d_head); you indexed positions"),
    ]


def _check_callable(function: object, checker: str, what: str) -> None:
    if not callable(function):
        raise CheckerInputError(f"{checker} expected {what}, got {type(function).__name__}")


def _random_patterns(batch: int, n_heads: int, seq_len: int, generator: torch.Generator) -> Tensor:
    positions = 1 + 2 * seq_len
    scores = torch.randn(batch, n_heads, positions, positions, generator=generator) * 2
    causal = torch.ones(positions, positions, dtype=torch.bool).tril()
    return scores.masked_fill(~causal, float("-inf")).softmax(dim=-1)


def _stripe_mean(pattern: Tensor, kind: str, seq_len: int) -> Tensor:
    queries, keys = STRIPES[kind](seq_len)
    return pattern[:, :, queries, keys].mean(dim=(0, 2))


def _induction_stripe(pattern: Tensor, seq_len: int) -> Tensor:
    """``(batch, head, L)``: the attention from each query of the second copy to the key after its first copy.

    Unlike ``induction_score``, it takes any ``seq_len`` up to the pattern's, as a mistake may.
    """
    queries = torch.arange(seq_len + 1, 2 * seq_len + 1)
    return pattern[:, :, queries, queries - seq_len + 1]


def _call(name: str, call: Callable[[], Tensor | None], shape: torch.Size, given: str) -> Tensor | None:
    try:
        got = call()
    except Exception as error:
        raise CheckerInputError(f"{name} raised {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}") from error
    if got is not None and (not isinstance(got, Tensor) or got.shape != shape):
        described = tuple(got.shape) if isinstance(got, Tensor) else type(got).__name__
        raise CheckerInputError(f"{name}: expected shape {tuple(shape)} for {given}, got {described}")
    return got


def _failure(got: Tensor, expected: Tensor, mistakes: list[tuple[Tensor, str]], generic_hint: str) -> str | None:
    """None if ``got`` matches ``expected``; else how far it is, and the first mistake it matches (or the hint)."""
    difference = (got.float() - expected).abs().max().item()
    if difference <= ATOL:  # False for nan
        return None
    hint = next((text for wrong, text in mistakes if (got.float() - wrong).abs().max().item() <= ATOL), generic_hint)
    return f"differs from the reference by {difference:#.2g}; {hint}"


def _report(name: str, passed: bool, measured: str) -> CheckReport:
    return CheckReport("step3", (CriterionResult(name, passed, measured, f"max abs difference <= {ATOL:.0e}"),))
