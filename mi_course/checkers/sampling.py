"""Checker of ``mi_course.sampling``'s exercise: temperature, top-k and top-p sampling.

Introduced on the page "Step 2: Understand transformers". ``next_token_probs`` is compared with
the course's reference on seeded random logits, and ``sample_next_token`` is drawn from many
times with a seeded generator; when they differ, a common mistake that gives the same output is named.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from mi_course import _checks
from mi_course.checkers.harness import CHECK_SEED, check_callable, first_line
from mi_course.checkers.report import CheckerInputError, CheckReport, CriterionResult

PROBS_ATOL = 1e-5
SAMPLE_DRAWS = (
    20_000  # draws per row: a kept token of probability 0.01 is drawn about 200 times
)
MAX_SAMPLE_TV = 0.02  # total variation between the draws and the reference; its noise is about 0.005
# (batch, d_vocab), temperature, top_k, top_p: two vocabulary sizes; each cut alone, then both, each with a
# temperature away from 1 somewhere, so that a temperature applied in the wrong place shows
_PROBS_CASES = (
    ((3, 10), 0.5, None, None),
    ((3, 10), 1.0, 4, None),
    ((2, 50), 2.0, 7, None),
    ((3, 10), 1.0, None, 0.7),
    ((2, 50), 0.8, None, 0.9),
    ((2, 50), 1.5, 12, 0.6),
    ((3, 10), 0.7, 5, 0.8),
)
# one row of logits each, drawn SAMPLE_DRAWS times: d_vocab, temperature, top_k, top_p, and the seed of the
# logits, chosen so that every kept token has probability 0.019 or more
_SAMPLE_CASES = ((10, 0.8, 6, None, 101), (50, 1.3, 12, 0.9, 100))


def check_sampling(
    sample_next_token: Callable[..., Tensor], next_token_probs: Callable[..., Tensor]
) -> CheckReport:
    """Check ``next_token_probs(logits, temperature, top_k, top_p)`` and ``sample_next_token(..., generator)``.

    ``next_token_probs`` is compared with the reference (``mi_course.sampling``) on seeded random
    logits of two vocabulary sizes, with each cut alone and both together; ``sample_next_token`` is
    drawn from 20,000 times per case with a seeded generator: it must draw only the tokens the
    reference keeps, every one of them, at frequencies within 0.02 (total variation) of the
    reference's probabilities, and the same tokens again from a generator with the same seed.
    """
    check_callable(
        sample_next_token, "check_sampling", "your sample_next_token function"
    )
    check_callable(next_token_probs, "check_sampling", "your next_token_probs function")
    with torch.random.fork_rng(
        devices=[]
    ):  # a learner's draw from the global generator must not move the caller's
        torch.manual_seed(CHECK_SEED)
        return CheckReport(
            "step2", (_check_probs(next_token_probs), _check_samples(sample_next_token))
        )


def _sampling_logits(batch: int, d_vocab: int, seed: int) -> Tensor:
    return 2 * torch.randn(
        batch, d_vocab, generator=torch.Generator().manual_seed(seed)
    )


def _settings(temperature: float, top_k: int | None, top_p: float | None) -> str:
    return f"temperature={temperature}, top_k={top_k}, top_p={top_p}"


def _check_probs(next_token_probs: Callable[..., Tensor]) -> CriterionResult:
    from mi_course import sampling

    criterion = f"max abs difference <= {PROBS_ATOL:.0e}"
    for index, ((batch, d_vocab), temperature, top_k, top_p) in enumerate(_PROBS_CASES):
        logits = _sampling_logits(batch, d_vocab, index)
        expected = sampling.next_token_probs(logits, temperature, top_k, top_p)
        settings = _settings(temperature, top_k, top_p)
        try:
            got = next_token_probs(logits.clone(), temperature, top_k, top_p)
        except Exception as error:
            raise CheckerInputError(
                f"next_token_probs raised {type(error).__name__}: {first_line(error, empty='(no message)')} ({settings})"
            ) from error
        if not isinstance(got, Tensor) or got.shape != expected.shape:
            raise CheckerInputError(
                f"next_token_probs: expected probabilities of shape {tuple(expected.shape)} (batch, d_vocab) for logits "
                f"of shape {tuple(logits.shape)}, got {_checks.described(got)}"
            )
        got = got.detach().float()
        difference = (got - expected).abs().max().item()
        if difference <= PROBS_ATOL:  # False for nan
            continue
        hint = _probs_hint(got, expected, logits, temperature, top_k, top_p)
        measured = f"with {settings} on {batch} x {d_vocab} logits, differs from the reference by {difference:#.2g}; {hint}"
        return CriterionResult("next_token_probs", False, measured, criterion)
    measured = f"matches the reference on random logits with d_vocab 10 and 50, {len(_PROBS_CASES)} settings of temperature, top_k and top_p"
    return CriterionResult("next_token_probs", True, measured, criterion)


def _probs_hint(
    got: Tensor,
    expected: Tensor,
    logits: Tensor,
    temperature: float,
    top_k: int | None,
    top_p: float | None,
) -> str:
    for wrong, hint in _sampling_mistakes(logits, temperature, top_k, top_p):
        if torch.allclose(
            got, wrong, rtol=0, atol=PROBS_ATOL, equal_nan=True
        ):  # nan where the mistake removes every token
            return hint
    if not torch.isfinite(got).all():
        return (
            "your probabilities have nan or inf: is every token of a row removed? top-p keeps at least the most likely "
            "token, and the token that crosses p"
        )
    sums = got.sum(dim=-1)
    if (sums - 1).abs().max().item() > 1e-4:
        return f"each row should sum to 1, yours sum to {', '.join(f'{s:.3g}' for s in sums.tolist())}: renormalise what you keep"
    kept, reference_kept = (got > 0).sum(dim=-1), (expected > 0).sum(dim=-1)
    if not torch.equal(kept, reference_kept):
        return (
            f"you keep {kept.tolist()} tokens per row, the reference {reference_kept.tolist()}: "
            "top-k keeps the k largest logits, top-p the smallest set whose probability reaches p"
        )
    return "the same tokens are kept, with other probabilities: divide the logits by the temperature, then softmax what is kept"


def _sampling_mistakes(
    logits: Tensor, temperature: float, top_k: int | None, top_p: float | None
) -> list[tuple[Tensor, str]]:
    """Each plausible mistake's probabilities for these arguments, with what to say about it."""

    def variant(**changes: Any) -> Tensor:
        return _sampling_variant(logits, temperature, top_k, top_p, **changes)

    mistakes = []
    if top_k is not None:
        mistakes += [
            (
                variant(k_offset=-1),
                "you kept top_k - 1 tokens: keep every logit >= the k-th largest, topk(top_k).values[:, -1:]",
            ),
            (
                variant(k_offset=+1),
                "you kept top_k + 1 tokens: the k-th largest logit is topk(top_k).values[:, -1:], keep it and those above",
            ),
        ]
    if top_p is not None:
        mistakes += [
            (
                variant(crossing=False),
                "you dropped the token that crosses p: the nucleus is the smallest set whose probability reaches top_p, so keep "
                "a token while the probability ranked above it is below p (shift the cumulative-sum mask right by one)",
            ),
        ]
        if temperature != 1:
            mistakes.append(
                (
                    variant(p_from_tempered=False),
                    "apply the temperature first, then cut top-p from the tempered probabilities",
                )
            )
    if top_p is not None and top_k is not None:
        mistakes.append(
            (
                variant(p_after_k=False),
                "apply top-k first, then top-p on the renormalised probabilities of the top_k tokens (Hugging Face's order)",
            )
        )
    if temperature != 1:
        mistakes += [
            (
                variant(temper="after softmax"),
                "divide the logits by the temperature before the softmax, not the probabilities after it",
            ),
            (
                variant(temper="ignored"),
                "divide the logits by the temperature before the softmax: dividing the probabilities after it, then "
                "renormalising, undoes the temperature",
            ),
            (
                variant(temper="multiplied"),
                "divide the logits by the temperature, don't multiply them",
            ),
        ]
    if top_k is not None or top_p is not None:
        mistakes.append(
            (
                variant(renormalise=False),
                "renormalise what you keep: the kept probabilities must sum to 1 (softmax the logits after "
                "masking the removed tokens with -inf)",
            )
        )
    return mistakes


def _sampling_variant(
    logits: Tensor,
    temperature: float,
    top_k: int | None,
    top_p: float | None,
    *,
    k_offset: int = 0,
    crossing: bool = True,
    p_from_tempered: bool = True,
    p_after_k: bool = True,
    temper: str = "logits",
    renormalise: bool = True,
) -> Tensor:
    """The reference's probabilities, or those of one mistake: see ``_sampling_mistakes``."""
    tempered = {"logits": logits / temperature, "multiplied": logits * temperature}.get(
        temper, logits
    )
    keep = torch.ones_like(logits, dtype=torch.bool)
    if top_k is not None:
        k = min(max(top_k + k_offset, 1), logits.shape[-1])
        keep &= tempered >= tempered.topk(k, dim=-1).values[:, -1:]
    if top_p is not None:
        base = tempered if p_from_tempered else logits
        base = base.masked_fill(~keep, float("-inf")) if p_after_k else base
        sorted_probs, order = base.softmax(dim=-1).sort(dim=-1, descending=True)
        cumulative = sorted_probs.cumsum(dim=-1)
        remove_sorted = (
            cumulative - sorted_probs >= top_p if crossing else cumulative > top_p
        )
        keep &= ~torch.zeros_like(remove_sorted).scatter(-1, order, remove_sorted)
    if renormalise:
        probs = tempered.masked_fill(~keep, float("-inf")).softmax(dim=-1)
    else:
        probs = tempered.softmax(dim=-1) * keep
    return probs / temperature if temper == "after softmax" else probs


def _check_samples(sample_next_token: Callable[..., Tensor]) -> CriterionResult:
    from mi_course import sampling

    criterion = f"only and every kept token drawn, total variation <= {MAX_SAMPLE_TV} over {SAMPLE_DRAWS:,} draws, repeatable"
    for d_vocab, temperature, top_k, top_p, seed in _SAMPLE_CASES:
        row = _sampling_logits(1, d_vocab, seed)
        logits = row.expand(SAMPLE_DRAWS, d_vocab).contiguous()
        expected = sampling.next_token_probs(row, temperature, top_k, top_p)[0]
        settings = _settings(temperature, top_k, top_p)
        draws = _draw(sample_next_token, logits, temperature, top_k, top_p, settings)
        frequencies = torch.bincount(draws, minlength=d_vocab).float() / SAMPLE_DRAWS
        distance = 0.5 * (frequencies - expected).abs().sum().item()
        same_support = torch.equal(frequencies > 0, expected > 0)
        if not same_support or distance > MAX_SAMPLE_TV:
            hint = _samples_hint(frequencies, expected, row, temperature, top_k, top_p)
            measured = f"with {settings} on one row of {d_vocab} logits, {hint}"
            return CriterionResult("sample_next_token", False, measured, criterion)
        torch.manual_seed(
            CHECK_SEED + 1
        )  # the global generator moves on; a draw from a seeded generator must not
        again = _draw(sample_next_token, logits, temperature, top_k, top_p, settings)
        if not torch.equal(draws, again):
            measured = (
                f"with {settings}, two generators seeded alike drew different tokens: pass generator to "
                "torch.multinomial(probs, 1, generator=generator)"
            )
            return CriterionResult("sample_next_token", False, measured, criterion)
    cases = "; ".join(
        f"d_vocab {d}, {_settings(t, k, p)}" for d, t, k, p, _ in _SAMPLE_CASES
    )
    return CriterionResult(
        "sample_next_token",
        True,
        f"draws match the reference's distribution ({cases})",
        criterion,
    )


def _draw(
    sample_next_token: Callable[..., Tensor],
    logits: Tensor,
    temperature: float,
    top_k: int | None,
    top_p: float | None,
    settings: str,
) -> Tensor:
    generator = torch.Generator().manual_seed(CHECK_SEED)
    try:
        draws = sample_next_token(logits.clone(), temperature, top_k, top_p, generator)
    except Exception as error:
        raise CheckerInputError(
            f"sample_next_token raised {type(error).__name__}: {first_line(error, empty='(no message)')} ({settings})"
        ) from error
    batch = logits.shape[0]
    if isinstance(draws, Tensor) and tuple(draws.shape) == (batch, 1):
        raise CheckerInputError(
            f"sample_next_token: expected one token id per row, shape ({batch},), got ({batch}, 1): "
            "squeeze the sample axis, torch.multinomial(...).squeeze(-1)"
        )
    if (
        not isinstance(draws, Tensor)
        or tuple(draws.shape) != (batch,)
        or draws.is_floating_point()
        or draws.is_complex()
    ):
        raise CheckerInputError(
            f"sample_next_token: expected int64 token ids of shape ({batch},) for logits of shape "
            f"{tuple(logits.shape)}, got {_checks.described(draws)}"
        )
    draws = draws.long().cpu()
    if draws.numel() and (draws.min() < 0 or draws.max() >= logits.shape[1]):
        raise CheckerInputError(
            f"sample_next_token: expected token ids in 0..{logits.shape[1] - 1}, got ids "
            f"{draws.min().item()}..{draws.max().item()}"
        )
    return draws


def _samples_hint(
    frequencies: Tensor,
    expected: Tensor,
    row: Tensor,
    temperature: float,
    top_k: int | None,
    top_p: float | None,
) -> str:
    drawn, kept = int((frequencies > 0).sum()), int((expected > 0).sum())
    distance = 0.5 * (frequencies - expected).abs().sum().item()
    said = f"your draws use {drawn} tokens, the reference keeps {kept}, total variation {distance:.3f}"
    for wrong, hint in _sampling_mistakes(row, temperature, top_k, top_p):
        wrong = (
            wrong[0] / wrong[0].sum()
        )  # torch.multinomial renormalises what it is given
        if (
            torch.equal(frequencies > 0, wrong > 0)
            and 0.5 * (frequencies - wrong).abs().sum().item() <= MAX_SAMPLE_TV
        ):
            return f"{said}; {hint}"
    return f"{said}; draw with torch.multinomial(next_token_probs(logits, temperature, top_k, top_p), 1, generator=generator)"
