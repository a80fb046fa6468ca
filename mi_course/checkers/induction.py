"""Checkers of ``mi_course.induction``'s exercises: an induction score, three head detectors, and an
induction score measured by a hook during the run.

Introduced on the page "Step 3: MI tooling". Each checker runs your function and the course's
reference on the same seeded random attention patterns (or on the shipped model induction-2l)
and, when they differ, compares your output with common mistakes to say what probably went wrong.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from mi_course import induction
from mi_course.checkers.harness import (
    ATOL,
    call_tensor,
    check_callable,
    diagnose,
    first_line,
    report,
    shipped,
)
from mi_course.checkers.report import CheckerInputError, CheckReport, CriterionResult
from mi_course.induction import STRIPES

STEP = "step3"

# (batch, head, seq_len) of each random pattern: sizes differ within a case, so a swapped axis shows,
# and across cases, so a score that hard-codes one of them fails the other
_PATTERN_CASES = ((3, 4, 7), (2, 5, 9))

# (batch, head, pos) of each random pattern for the head detectors, and the symbols of its random tokens:
# few, so that tokens repeat often, some more than twice; position 0 holds BOS, an id of its own
_DETECTOR_CASES = ((3, 4, 11), (2, 5, 14))

_DETECTOR_SYMBOLS = 4

_HOOK_CASES = (
    (3, 7),
    (2, 10),
)  # (batch, seq_len) of the repeated tokens the hook runs on


def check_induction_score(
    induction_score: Callable[[Tensor, int], Tensor],
) -> CheckReport:
    """Check ``induction_score(pattern, seq_len) -> (head,)``: mean attention on the induction stripe.

    ``pattern`` is ``(batch, head, query, key)`` for ``[BOS] x x`` with ``x`` of length ``seq_len``.
    It runs on patterns of two sizes, with two values of ``seq_len``, so a score that fixes either fails.
    """
    check_callable(
        induction_score, "check_induction_score", "your induction_score function"
    )
    generator = torch.Generator().manual_seed(0)
    for batch, n_heads, seq_len in _PATTERN_CASES:
        pattern = _random_patterns(batch, n_heads, seq_len, generator)
        expected = induction.induction_score(
            pattern, seq_len
        )  # the reference: the solution the page shows
        got = call_tensor(
            "induction_score",
            lambda: induction_score(pattern.clone(), seq_len),
            expected.shape,
            f"a pattern of shape {tuple(pattern.shape)}; average over the batch and over the queries",
        )
        failure = diagnose(
            got,
            expected,
            _induction_score_mistakes(pattern, seq_len),
            "the score of a head is pattern[:, head, q, q - L + 1] averaged over the batch and over q from L + 1 to 2L",
        )
        if failure is not None:
            return report(
                STEP, "induction_score", False, f"with L = {seq_len}, {failure}"
            )
    cases = "; ".join(
        f"{batch} sequences, {n_heads} heads, L = {seq_len}"
        for batch, n_heads, seq_len in _PATTERN_CASES
    )
    return report(
        STEP,
        "induction_score",
        True,
        f"matches the reference on random causal patterns: {cases}",
    )


def check_head_detectors(
    previous_token_score: Callable[[Tensor], Tensor],
    duplicate_token_score: Callable[[Tensor, Tensor], Tensor],
    first_token_score: Callable[[Tensor], Tensor],
) -> CheckReport:
    """Check three head detectors, each ``(batch, head, query, key) -> (head,)``, one criterion each.

    ``previous_token_score(pattern)``: attention from query ``q`` (from 2 on) to key ``q - 1``;
    ``duplicate_token_score(pattern, tokens)``: attention from each token to its earlier copies, over the
    queries that have one; ``first_token_score(pattern)``: attention from each query but BOS to key 0.
    They run on random causal patterns of two sizes, with random tokens of few symbols.
    """
    functions = {
        "previous_token_score": previous_token_score,
        "duplicate_token_score": duplicate_token_score,
        "first_token_score": first_token_score,
    }
    for name, function in functions.items():
        check_callable(function, "check_head_detectors", f"your {name} function")
    results = []
    for name, function in functions.items():
        generator = torch.Generator().manual_seed(0)
        failure = None
        for batch, n_heads, positions in _DETECTOR_CASES:
            pattern = _random_causal(batch, n_heads, positions, generator)
            tokens = torch.randint(
                0, _DETECTOR_SYMBOLS, (batch, positions), generator=generator
            )
            tokens[0] %= (
                2  # the first sequence of only two symbols: it repeats more often than the others
            )
            tokens[:, 0] = _DETECTOR_SYMBOLS  # BOS
            arguments = (
                (pattern, tokens) if name == "duplicate_token_score" else (pattern,)
            )
            expected = getattr(induction, name)(
                *arguments
            )  # the reference: the solution the page shows
            got = call_tensor(
                name,
                lambda: function(*(argument.clone() for argument in arguments)),
                expected.shape,
                f"a pattern of shape {tuple(pattern.shape)}; average over the batch and the queries",
            )
            if got is None:
                raise CheckerInputError(
                    f"{name} returned None: return the ({n_heads},) tensor of scores, one per head"
                )
            failure = diagnose(
                got,
                expected,
                _DETECTOR_MISTAKES[name](*arguments),
                _DETECTOR_HINTS[name],
            )
            if failure is not None:
                failure = f"on a pattern of shape {tuple(pattern.shape)}, {failure}"
                break
        cases = "; ".join(
            f"{batch} sequences, {n_heads} heads, {positions} positions"
            for batch, n_heads, positions in _DETECTOR_CASES
        )
        results.append(
            CriterionResult(
                name,
                failure is None,
                failure or f"matches the reference on random causal patterns: {cases}",
                f"max abs difference <= {ATOL:.0e}",
            )
        )
    return CheckReport(STEP, tuple(results))


def check_induction_score_hook(
    make_hook: Callable[[int, Tensor], Callable],
) -> CheckReport:
    """Check ``make_hook(seq_len, scores)``: a hook for ``hook_pattern`` that writes each layer's induction scores into ``scores[layer]``.

    It runs the hook on every layer of the shipped model induction-2l, during the run, on repeated random
    tokens of two sizes, and compares ``scores`` with ``induction_scores``, which reads a cache; the run's
    logits must not change.
    """
    check_callable(
        make_hook,
        "check_induction_score_hook",
        "your induction_score_hook function (which makes a hook)",
    )
    model = shipped("induction-2l")
    n_layers, n_heads, bos = (
        model.cfg.n_layers,
        model.cfg.n_heads,
        model.cfg.d_vocab - 1,
    )
    generator = torch.Generator().manual_seed(0)
    for batch, seq_len in _HOOK_CASES:
        tokens = induction.repeated_random_tokens(
            batch, seq_len, bos, bos, generator=generator
        )
        expected = induction.induction_scores(
            model, tokens, seq_len
        )  # the reference, from a cache
        with torch.inference_mode():
            clean_logits = model(tokens)
        scores = torch.zeros(n_layers, n_heads)
        try:
            hook = make_hook(seq_len, scores)
        except Exception as error:
            raise CheckerInputError(
                f"induction_score_hook({seq_len}, scores) raised {type(error).__name__}: {first_line(error)}"
            ) from error
        if not callable(hook) or isinstance(hook, torch.nn.Module):
            raise CheckerInputError(
                f"induction_score_hook(seq_len, scores) should return a hook function, got {type(hook).__name__}"
            )
        with torch.inference_mode():
            logits = call_tensor(
                "the hook",
                lambda: model.run_with_hooks(
                    tokens,
                    fwd_hooks=[(lambda name: name.endswith("hook_pattern"), hook)],
                ),
                clean_logits.shape,
                f"tokens {tuple(tokens.shape)}",
            )
        changed = (logits - clean_logits).abs().max().item()
        if not changed <= ATOL:
            return report(
                STEP,
                "induction_score_hook",
                False,
                f"with L = {seq_len}, the hook changed the run: the logits moved by {changed:#.2g}; a hook that measures "
                "must leave the pattern as it is: return None, and do not edit the pattern",
            )
        failure = diagnose(
            scores,
            expected,
            lambda: _score_hook_mistakes(model, tokens, seq_len, expected),
            "scores[L] should be induction_score(pattern, seq_len) of layer L's pattern, for every layer L",
        )
        if failure is not None:
            return report(
                STEP, "induction_score_hook", False, f"with L = {seq_len}, {failure}"
            )
        again = _second_run(model, tokens, hook, scores, expected, seq_len)
        if again is not None:
            return report(STEP, "induction_score_hook", False, again)
    cases = "; ".join(
        f"{batch} sequences, L = {seq_len}" for batch, seq_len in _HOOK_CASES
    )
    return report(
        STEP,
        "induction_score_hook",
        True,
        f"fills scores like induction_scores, during the run and without changing it, on induction-2l: {cases}",
    )


def _induction_score_mistakes(
    pattern: Tensor, seq_len: int
) -> list[tuple[Tensor, str]]:
    diagonal = torch.diagonal(pattern, offset=-(seq_len - 1), dim1=-2, dim2=-1)
    second_copy, _ = STRIPES["duplicate-token"](
        seq_len
    )  # its queries are the second copy
    previous_in_second_copy = pattern[:, :, second_copy, second_copy - 1].mean(
        dim=(0, 2)
    )
    return [
        (
            _stripe_mean(pattern, "duplicate-token", seq_len),
            "that is the duplicate-token stripe (key q - L): an induction head attends to the token after the earlier copy, key q - L + 1",
        ),
        *(
            (
                previous,
                "that is the previous-token stripe (key q - 1); the induction stripe is key q - L + 1",
            )
            for previous in (
                _stripe_mean(pattern, "previous-token", seq_len),
                previous_in_second_copy,
            )
        ),
        (
            diagonal.mean(dim=(0, 2)),
            "average only over queries in the second copy (positions L + 1 to 2L), not the whole diagonal",
        ),
        (
            _induction_stripe(pattern, seq_len).sum(dim=(0, 2)),
            "average over the batch and the queries: you summed",
        ),
        *(
            (
                _induction_stripe(pattern, fixed).mean(dim=(0, 2)),
                f"you used L = {fixed}: take L from the seq_len argument",
            )
            for _, _, fixed in _PATTERN_CASES
            if fixed < seq_len
        ),
    ]


def _random_patterns(
    batch: int, n_heads: int, seq_len: int, generator: torch.Generator
) -> Tensor:
    """Random causal patterns for ``[BOS] x x``, with ``x`` of length ``seq_len``."""
    return _random_causal(batch, n_heads, 1 + 2 * seq_len, generator)


def _random_causal(
    batch: int, n_heads: int, positions: int, generator: torch.Generator
) -> Tensor:
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


def _previous_token_mistakes(pattern: Tensor) -> list[tuple[Tensor, str]]:
    queries = torch.arange(2, pattern.shape[-1])

    def stripe(offset: int, start: int = 2) -> Tensor:
        q = torch.arange(start, pattern.shape[-1])
        return pattern[:, :, q, q - offset].mean(dim=(0, 2))

    return [
        (
            stripe(1, start=1),
            "start at query 2: the token at position 1 has only BOS before it, where idle heads look anyway",
        ),
        (stripe(2), "off by one: the token before query q is key q - 1, not q - 2"),
        (
            stripe(0),
            "that is the attention of each query to itself (key q); the previous token is key q - 1",
        ),
        (
            torch.zeros(pattern.shape[1]),
            "every score is 0: pattern[b, h, q, k] is attention from query q to key k <= q; "
            "index pattern[:, :, q, q - 1], not [q - 1, q]",
        ),
        (
            pattern[:, :, queries, queries - 1].sum(dim=(0, 2)),
            "average over the batch and the queries: you summed",
        ),
    ]


def _duplicate_token_mistakes(
    pattern: Tensor, tokens: Tensor
) -> list[tuple[Tensor, str]]:
    same = tokens[:, :, None] == tokens[:, None, :]
    earlier, with_self, other = (
        same.tril(diagonal=-1),
        same.tril(),
        same & ~torch.eye(tokens.shape[1], dtype=torch.bool),
    )

    def score(keys: Tensor, queries: Tensor) -> Tensor:
        return (
            (pattern * keys[:, None])
            .sum(dim=-1)
            .transpose(0, 1)[:, queries]
            .mean(dim=1)
        )

    on_copies = (pattern * earlier[:, None]).sum(dim=-1)  # (batch, head, query)
    repeats = earlier.any(dim=-1)
    averaged = (
        (
            (pattern * earlier[:, None]).sum(dim=-1)
            / earlier.sum(dim=-1).clamp(min=1)[:, None]
        )
        .transpose(0, 1)[:, repeats]
        .mean(dim=1)
    )
    per_sequence = (
        (on_copies * repeats[:, None]).sum(dim=-1)
        / repeats.sum(dim=-1).clamp(min=1)[:, None]
    ).mean(dim=0)
    itself = "a token always matches itself: count only keys before the query (k < q), not the query's own position"
    return [
        (score(with_self, with_self.any(dim=-1)), itself),
        (score(with_self, repeats), itself),
        (
            score(other, other.any(dim=-1)),
            "count only earlier copies (k < q): a token whose only copy comes later has none to look back to, "
            "and must not count as a query",
        ),
        (
            on_copies.mean(dim=(0, 2)),
            "average only over the queries whose token appeared before; the others have no copy to attend to",
        ),
        (
            averaged,
            "add up the attention over all of a token's earlier copies: you averaged over them",
        ),
        (
            per_sequence,
            "average over all the (sequence, query) pairs together: you averaged each sequence first, then the sequences",
        ),
    ]


def _first_token_mistakes(pattern: Tensor) -> list[tuple[Tensor, str]]:
    return [
        (
            pattern[:, :, :, 0].mean(dim=(0, 2)),
            "leave out query 0: BOS can attend only to itself, so its row always scores 1",
        ),
        (
            pattern[:, :, 0, :].mean(dim=(0, 2)),
            "you averaged the BOS query's row over the keys: position 0 is the key, pattern[:, :, 1:, 0]",
        ),
        (
            pattern[:, :, 1:, 0].sum(dim=(0, 2)),
            "average over the batch and the queries: you summed",
        ),
    ]


_DETECTOR_MISTAKES: dict[str, Callable[..., list[tuple[Tensor, str]]]] = {
    "previous_token_score": _previous_token_mistakes,
    "duplicate_token_score": _duplicate_token_mistakes,
    "first_token_score": _first_token_mistakes,
}

_DETECTOR_HINTS = {
    "previous_token_score": "the score of a head is pattern[:, head, q, q - 1] averaged over the batch and over q from 2 to pos - 1",
    "duplicate_token_score": "for each query whose token appeared before, add the attention on all its earlier copies; "
    "average that over those (sequence, query) pairs",
    "first_token_score": "the score of a head is pattern[:, head, q, 0] averaged over the batch and over q from 1 to pos - 1",
}


@torch.inference_mode()
def _second_run(
    model,
    tokens: Tensor,
    hook: Callable,
    scores: Tensor,
    expected: Tensor,
    seq_len: int,
) -> str | None:
    """Run the same hook again, as a learner's second run would: why its scores went wrong, or None.

    A hook that counts its calls to know its layer, or adds to ``scores`` instead of setting it,
    passes one run and fails the next.
    """
    try:
        with torch.inference_mode():
            model.run_with_hooks(
                tokens, fwd_hooks=[(lambda name: name.endswith("hook_pattern"), hook)]
            )
    except Exception as error:
        return (
            f"with L = {seq_len}, a second run with the same hook raised "
            f"{type(error).__name__}: {first_line(error)}; take the layer from hook.layer(), "
            "not from a count of the hook's calls"
        )
    if torch.allclose(scores, 2 * expected, atol=ATOL) and expected.abs().max() > ATOL:
        return (
            f"with L = {seq_len}, a second run with the same hook doubled the scores: set "
            "scores[hook.layer()] = ..., do not add to it (+=)"
        )
    if not torch.allclose(scores, expected, atol=ATOL):
        return (
            f"with L = {seq_len}, a second run with the same hook left other scores than the "
            "first: the layer must come from hook.layer(), and each run must set its scores afresh"
        )
    return None


def _score_hook_mistakes(
    model, tokens: Tensor, seq_len: int, expected: Tensor
) -> list[tuple[Tensor, str]]:
    scores = induction.head_scores(model, tokens, seq_len)
    last_in_first_row = torch.zeros_like(expected)
    last_in_first_row[0] = expected[-1]
    other_row = "you wrote layer L's scores into another row: the row is hook.layer(), the L of blocks.L.attn.hook_pattern"
    return [
        (
            torch.zeros_like(expected),
            "scores stayed 0: write into the tensor you were given, scores[hook.layer()] = ..., not into a new one",
        ),
        (
            scores["previous-token"],
            "that is the previous-token stripe (key q - 1); the induction stripe is key q - L + 1",
        ),
        (
            scores["duplicate-token"],
            "that is the duplicate-token stripe (key q - L): an induction head attends to key q - L + 1",
        ),
        *(
            (expected.roll(shift, dims=0), other_row)
            for shift in range(1, expected.shape[0])
        ),
        (
            expected[-1:].expand_as(expected),
            "every row holds the last layer's scores: write only row hook.layer(), scores[hook.layer()] = ...",
        ),
        (last_in_first_row, "every layer wrote into row 0: the row is hook.layer()"),
        (
            expected * tokens.shape[0] * seq_len,
            "average over the batch and the queries: you summed",
        ),
    ]
