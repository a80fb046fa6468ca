"""Checkers for Step 3's exercises: an induction score, a mean-ablation hook, head detectors, an induction score
measured by a hook during the run, a head-ablation sweep, activation patching and direct logit attribution.

Introduced on the page "Step 3: MI tooling". Each checker runs your function and the course's
reference on the same seeded random inputs and, when they differ, compares your output with
common mistakes to say what probably went wrong.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
from torch import Tensor

from mi_course import attribution, induction, interventions
from mi_course.checkers.report import CheckerInputError, CheckReport, CriterionResult
from mi_course.induction import STRIPES

ATOL = 1e-5
# (batch, head, seq_len) of each random pattern: sizes differ within a case, so a swapped axis shows,
# and across cases, so a score that hard-codes one of them fails the other
_PATTERN_CASES = ((3, 4, 7), (2, 5, 9))
_Z_SHAPE = (5, 6, 4, 3)  # batch, pos, head, d_head
# several heads and single ones, first, middle and last, so a hook that hard-codes its heads fails
_HEAD_SETS = ([0, 2], [1], [3], [1, 2, 3])


def check_induction_score(
    induction_score: Callable[[Tensor, int], Tensor],
) -> CheckReport:
    """Check ``induction_score(pattern, seq_len) -> (head,)``: mean attention on the induction stripe.

    ``pattern`` is ``(batch, head, query, key)`` for ``[BOS] x x`` with ``x`` of length ``seq_len``.
    It runs on patterns of two sizes, with two values of ``seq_len``, so a score that fixes either fails.
    """
    _check_callable(
        induction_score, "check_induction_score", "your induction_score function"
    )
    generator = torch.Generator().manual_seed(0)
    for batch, n_heads, seq_len in _PATTERN_CASES:
        pattern = _random_patterns(batch, n_heads, seq_len, generator)
        expected = induction.induction_score(
            pattern, seq_len
        )  # the reference: the solution the page shows
        got = _call(
            "induction_score",
            lambda: induction_score(pattern.clone(), seq_len),
            expected.shape,
            f"a pattern of shape {tuple(pattern.shape)}; average over the batch and over the queries",
        )
        failure = _failure(
            got,
            expected,
            _induction_score_mistakes(pattern, seq_len),
            "the score of a head is pattern[:, head, q, q - L + 1] averaged over the batch and over q from L + 1 to 2L",
        )
        if failure is not None:
            return _report("induction_score", False, f"with L = {seq_len}, {failure}")
    cases = "; ".join(
        f"{batch} sequences, {n_heads} heads, L = {seq_len}"
        for batch, n_heads, seq_len in _PATTERN_CASES
    )
    return _report(
        "induction_score",
        True,
        f"matches the reference on random causal patterns: {cases}",
    )


def check_mean_ablation_hook(make_hook: Callable[[list[int]], Callable]) -> CheckReport:
    """Check ``make_hook(heads)``: a hook for ``hook_z`` that replaces ``heads`` by their mean over the batch.

    It is made and run for several head sets, one head or more, so a hook that ignores ``heads`` fails.
    """
    _check_callable(
        make_hook,
        "check_mean_ablation_hook",
        "your mean_ablation_hook function (which makes a hook)",
    )
    generator = torch.Generator().manual_seed(0)
    for heads in _HEAD_SETS:
        z = torch.randn(_Z_SHAPE, generator=generator)
        expected = interventions.mean_ablation_hook(heads)(
            z.clone(), None
        )  # the reference: the page's solution
        try:
            hook = make_hook(list(heads))
        except Exception as error:
            raise CheckerInputError(
                f"mean_ablation_hook({heads}) raised {type(error).__name__}: {error}"
            ) from error
        if not callable(hook):
            raise CheckerInputError(
                f"mean_ablation_hook(heads) should return a hook function, got {type(hook).__name__}"
            )
        given = z.clone()
        got = _call(
            "the hook",
            lambda: hook(given, None),
            expected.shape,
            f"z of shape {tuple(z.shape)} (batch, pos, head, d_head)",
        )
        if got is None:
            got = given  # a hook may edit z in place and return None
        failure = _failure(
            got,
            expected,
            _mean_ablation_mistakes(z, heads),
            "z[:, :, heads] should become z[:, :, heads].mean(dim=0, keepdim=True); the other heads stay as they are",
        )
        if failure is not None:
            return _report(
                "mean_ablation_hook", False, f"with heads {heads}, {failure}"
            )
    head_sets = ", ".join(map(str, _HEAD_SETS[:-1])) + f" and {_HEAD_SETS[-1]}"
    return _report(
        "mean_ablation_hook",
        True,
        f"matches the reference on random z of shape {_Z_SHAPE}, heads {head_sets}",
    )


# (batch, head, pos) of each random pattern for the head detectors, and the symbols of its random tokens:
# few, so that tokens repeat often, some more than twice; position 0 holds BOS, an id of its own
_DETECTOR_CASES = ((3, 4, 11), (2, 5, 14))
_DETECTOR_SYMBOLS = 4
_HOOK_CASES = (
    (3, 7),
    (2, 10),
)  # (batch, seq_len) of the repeated tokens the hook runs on
_SWEEP_CASES = (
    (4, 6),
    (3, 9),
)  # (batch, seq_len) of the repeated tokens the sweep runs on
# (batch, seq_len, hook names, head) of each patching case: residual stream, then one head's hook_z
_PATCH_CASES = (
    (3, 6, ("blocks.0.hook_resid_pre", "blocks.1.hook_resid_pre"), None),
    (2, 5, ("blocks.0.attn.hook_z", "blocks.1.attn.hook_z"), 2),
)
_LOGIT_SHAPES = (
    (2, 5, 7),
    (3, 4, 11),
)  # (batch, pos, d_vocab) of the random logits the normalised metric reads
# (model, batch, seq_len, pos) of each attribution case: the last position, then one in the middle
_ATTRIBUTION_CASES = (("induction-2l", 3, 6, -1), ("shakespeare-char", 2, 8, 9))
MODEL_ATOL = 1e-4  # what a shipped model's float32 sums may differ by when computed in another order


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
        _check_callable(function, "check_head_detectors", f"your {name} function")
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
            got = _call(
                name,
                lambda: function(*(argument.clone() for argument in arguments)),
                expected.shape,
                f"a pattern of shape {tuple(pattern.shape)}; average over the batch and the queries",
            )
            if got is None:
                raise CheckerInputError(
                    f"{name} returned None: return the ({n_heads},) tensor of scores, one per head"
                )
            failure = _failure(
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
    return CheckReport("step3", tuple(results))


def check_induction_score_hook(
    make_hook: Callable[[int, Tensor], Callable],
) -> CheckReport:
    """Check ``make_hook(seq_len, scores)``: a hook for ``hook_pattern`` that writes each layer's induction scores into ``scores[layer]``.

    It runs the hook on every layer of the shipped model induction-2l, during the run, on repeated random
    tokens of two sizes, and compares ``scores`` with ``induction_scores``, which reads a cache; the run's
    logits must not change.
    """
    _check_callable(
        make_hook,
        "check_induction_score_hook",
        "your induction_score_hook function (which makes a hook)",
    )
    model = _shipped("induction-2l")
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
                f"induction_score_hook({seq_len}, scores) raised {type(error).__name__}: {_first_line(error)}"
            ) from error
        if not callable(hook) or isinstance(hook, torch.nn.Module):
            raise CheckerInputError(
                f"induction_score_hook(seq_len, scores) should return a hook function, got {type(hook).__name__}"
            )
        with torch.inference_mode():
            logits = _call(
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
            return _report(
                "induction_score_hook",
                False,
                f"with L = {seq_len}, the hook changed the run: the logits moved by {changed:#.2g}; a hook that measures "
                "must leave the pattern as it is: return None, and do not edit the pattern",
            )
        failure = _failure(
            scores,
            expected,
            lambda: _score_hook_mistakes(model, tokens, seq_len, expected),
            "scores[L] should be induction_score(pattern, seq_len) of layer L's pattern, for every layer L",
        )
        if failure is not None:
            return _report(
                "induction_score_hook", False, f"with L = {seq_len}, {failure}"
            )
    cases = "; ".join(
        f"{batch} sequences, L = {seq_len}" for batch, seq_len in _HOOK_CASES
    )
    return _report(
        "induction_score_hook",
        True,
        f"fills scores like induction_scores, during the run and without changing it, on induction-2l: {cases}",
    )


def check_ablation_sweep(ablation_sweep: Callable[..., Tensor]) -> CheckReport:
    """Check ``ablation_sweep(model, tokens, metric, kind) -> (n_layers, n_heads)``: the metric's change when each head alone is ablated.

    It runs on the shipped model induction-2l, with both kinds, ``"zero"`` and ``"mean"``, on repeated
    random tokens of two sizes; the metric is the mean log-probability of the right next token on the repeat.
    """
    _check_callable(
        ablation_sweep, "check_ablation_sweep", "your ablation_sweep function"
    )
    model = _shipped("induction-2l")
    bos = model.cfg.d_vocab - 1
    generator = torch.Generator().manual_seed(0)
    for batch, seq_len in _SWEEP_CASES:
        tokens = induction.repeated_random_tokens(
            batch, seq_len, bos, bos, generator=generator
        )

        def metric(
            logits: Tensor, tokens: Tensor = tokens, seq_len: int = seq_len
        ) -> float:
            return -induction.repeated_half_loss_of(logits, tokens, seq_len)

        for kind in ("zero", "mean"):
            expected = interventions.ablation_sweep(
                model, tokens, metric, kind
            )  # the reference: the page's solution
            with torch.inference_mode():
                got = _call(
                    "ablation_sweep",
                    lambda: ablation_sweep(model, tokens, metric, kind),
                    expected.shape,
                    f"a model of {model.cfg.n_layers} layers of {model.cfg.n_heads} heads: (n_layers, n_heads)",
                )
            if got is None:
                raise CheckerInputError(
                    "ablation_sweep returned None: return the (n_layers, n_heads) tensor of changes"
                )
            failure = _failure(
                got,
                expected,
                lambda: _sweep_mistakes(model, tokens, metric, kind, expected),
                "entry [layer, head] is metric(the run with only that head ablated) - metric(the clean run)",
                MODEL_ATOL,
            )
            if failure is not None:
                return _report(
                    "ablation_sweep",
                    False,
                    f"with kind={kind!r} and {batch} sequences, {failure}",
                    MODEL_ATOL,
                )
    cases = "; ".join(
        f"{batch} sequences, L = {seq_len}" for batch, seq_len in _SWEEP_CASES
    )
    return _report(
        "ablation_sweep",
        True,
        f"matches the reference on induction-2l, zero and mean ablation: {cases}",
        MODEL_ATOL,
    )


def check_patch_by_position(patch_by_position: Callable[..., Tensor]) -> CheckReport:
    """Check ``patch_by_position(model, clean_tokens, corrupted_tokens, hook_names, metric, head=None) -> (len(hook_names), pos)``.

    It runs on the shipped model induction-2l: once on residual-stream hooks, once on one head's
    ``hook_z``; the corrupted tokens change one token of the first copy, and the metric is the
    log-probability of the right next token where the second copy needs it.
    """
    _check_callable(
        patch_by_position, "check_patch_by_position", "your patch_by_position function"
    )
    model = _shipped("induction-2l")
    symbols = model.cfg.d_vocab - 1
    generator = torch.Generator().manual_seed(0)
    for batch, seq_len, names, head in _PATCH_CASES:
        clean, corrupted, metric = _patching_case(batch, seq_len, symbols, generator)
        expected = interventions.patch_by_position(
            model, clean, corrupted, list(names), metric, head
        )  # the reference
        with torch.inference_mode():
            got = _call(
                "patch_by_position",
                lambda: patch_by_position(
                    model,
                    clean.clone(),
                    corrupted.clone(),
                    list(names),
                    metric,
                    head=head,
                ),
                expected.shape,
                f"{len(names)} hook names and tokens of shape {tuple(clean.shape)}: (len(hook_names), pos)",
            )
        if got is None:
            raise CheckerInputError(
                "patch_by_position returned None: return the (len(hook_names), pos) tensor of metrics"
            )
        failure = _failure(
            got,
            expected,
            lambda: _patching_mistakes(
                model, clean, corrupted, list(names), metric, head
            ),
            "entry [i, p] is metric(the corrupted run with the clean activation of hook i at position p patched in)",
            MODEL_ATOL,
        )
        if failure is not None:
            where = f"hooks {', '.join(names)}" + (
                f", head {head}" if head is not None else ""
            )
            return _report(
                "patch_by_position", False, f"with {where}, {failure}", MODEL_ATOL
            )
    return _report(
        "patch_by_position",
        True,
        "matches the reference on induction-2l: residual-stream hooks, and one head's hook_z",
        MODEL_ATOL,
    )


def check_normalised_metric(
    normalised_metric: Callable[..., Callable[[Tensor], float]],
) -> CheckReport:
    """Check ``normalised_metric(metric, clean_logits, corrupted_logits)``: ``metric`` rescaled so that corrupted is 0 and clean is 1.

    It runs on random logits of two shapes; the function it returns is judged on the clean and the
    corrupted logits and on three others.
    """
    _check_callable(
        normalised_metric, "check_normalised_metric", "your normalised_metric function"
    )
    generator = torch.Generator().manual_seed(0)
    for shape in _LOGIT_SHAPES:
        clean, corrupted, *others = (
            torch.randn(shape, generator=generator) * 3 for _ in range(5)
        )

        def metric(logits: Tensor) -> float:  # a logit difference at the last position
            return (logits[:, -1, 0] - logits[:, -1, 1]).mean().item()

        runs = [clean, corrupted, *others]
        reference = interventions.normalised_metric(metric, clean, corrupted)
        expected = torch.tensor([reference(logits) for logits in runs])
        try:
            normalised = normalised_metric(metric, clean.clone(), corrupted.clone())
        except Exception as error:
            raise CheckerInputError(
                f"normalised_metric raised {type(error).__name__}: {_first_line(error)}"
            ) from error
        if not callable(normalised) or isinstance(normalised, torch.nn.Module):
            raise CheckerInputError(
                f"normalised_metric should return a function of the logits, got {type(normalised).__name__}"
            )
        got = torch.tensor(
            [
                _number(
                    "the function normalised_metric returns",
                    lambda: normalised(logits.clone()),
                )
                for logits in runs
            ]
        )
        raw = torch.tensor([metric(logits) for logits in runs])
        high, low = raw[0], raw[1]
        mistakes = [
            (
                raw,
                "that is the metric itself: rescale it, (metric(logits) - corrupted) / (clean - corrupted)",
            ),
            (
                1 - expected,
                "clean and corrupted are swapped: the corrupted run should score 0 and the clean run 1",
            ),
            (
                raw - low,
                "divide by the gap, clean - corrupted, so that the clean run scores 1",
            ),
            (
                raw / high,
                "subtract the corrupted run's score first, so that it scores 0: (metric - corrupted) / (clean - corrupted)",
            ),
            (
                expected - 1,
                "subtract the corrupted run's score, not the clean one's: the corrupted run should score 0",
            ),
        ]
        failure = _failure(
            got,
            expected,
            mistakes,
            "the clean logits should score 1, the corrupted 0, and the score be linear in the metric",
        )
        if failure is not None:
            return _report(
                "normalised_metric", False, f"on logits of shape {shape}, {failure}"
            )
    return _report(
        "normalised_metric",
        True,
        f"matches the reference on random logits of shapes {' and '.join(map(str, _LOGIT_SHAPES))}",
    )


def check_logit_attribution(
    logit_attribution: Callable[..., tuple[Tensor, list[str]]],
) -> CheckReport:
    """Check ``logit_attribution(model, cache, answer, rival, pos) -> (contributions (part, batch), labels)``.

    It runs on shipped models in compatibility mode, induction-2l and shakespeare-char, at the last
    position and at one in the middle: the parts must sum to the logit difference and match the reference.
    """
    _check_callable(
        logit_attribution, "check_logit_attribution", "your logit_attribution function"
    )
    generator = torch.Generator().manual_seed(0)
    for name, batch, seq_len, pos in _ATTRIBUTION_CASES:
        model = _shipped(name, compatibility=True)
        bos = model.cfg.d_vocab - 1
        tokens = induction.repeated_random_tokens(
            batch, seq_len, bos, bos, generator=generator
        )
        answer, rival = torch.randperm(bos, generator=generator)[:2].tolist()
        with torch.inference_mode():
            logits, cache = model.run_with_cache(tokens)
        expected, labels = attribution.logit_attribution(
            model, cache, answer, rival, pos
        )  # the reference
        with torch.inference_mode():
            got = _call(
                "logit_attribution",
                lambda: _contributions(
                    logit_attribution(model, cache, answer, rival, pos), labels
                ),
                expected.shape,
                f"{name} with {batch} sequences: (part, batch), one row per label",
            )
        difference = logits[:, pos, answer] - logits[:, pos, rival]
        case = f"on {name} at pos={pos} with answer {answer} and rival {rival}"
        mistakes = functools.partial(
            _attribution_mistakes, model, cache, answer, rival, pos
        )
        off = (got.sum(dim=0) - difference).abs().max().item()
        if not off <= MODEL_ATOL:
            hint = _failure(
                got,
                expected,
                mistakes,
                "every part, biases included, goes through the final LayerNorm's scale",
                MODEL_ATOL,
            )
            return _report(
                "logit_attribution",
                False,
                f"{case}, the parts sum to {got.sum(dim=0)[0].item():.4f} for the first sequence but its logit "
                f"difference is {difference[0].item():.4f} (off by {off:#.2g}): {hint}",
                MODEL_ATOL,
            )
        failure = _failure(
            got,
            expected,
            mistakes,
            f"the parts are in the order {labels[0]}, {labels[1]}, ..., {labels[-2]}, biases",
            MODEL_ATOL,
        )
        if failure is not None:
            return _report(
                "logit_attribution",
                False,
                f"{case}, the parts sum right but {failure}",
                MODEL_ATOL,
            )
    models = " and ".join(
        f"{name} (pos={pos})" for name, _, _, pos in _ATTRIBUTION_CASES
    )
    return _report(
        "logit_attribution",
        True,
        f"the parts sum to the logit difference and match the reference on {models}",
        MODEL_ATOL,
    )


def _random_causal(
    batch: int, n_heads: int, positions: int, generator: torch.Generator
) -> Tensor:
    scores = torch.randn(batch, n_heads, positions, positions, generator=generator) * 2
    causal = torch.ones(positions, positions, dtype=torch.bool).tril()
    return scores.masked_fill(~causal, float("-inf")).softmax(dim=-1)


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


@torch.inference_mode()
def _sweep_mistakes(
    model,
    tokens: Tensor,
    metric: Callable[[Tensor], float],
    kind: str,
    expected: Tensor,
) -> list[tuple[Tensor, str]]:
    n_layers, n_heads = model.cfg.n_layers, model.cfg.n_heads
    clean = metric(model(tokens))

    def sweep(make_hook: Callable[[int], Callable]) -> Tensor:
        return torch.tensor(
            [
                [
                    metric(
                        model.run_with_hooks(
                            tokens,
                            fwd_hooks=[
                                (f"blocks.{layer}.attn.hook_z", make_hook(head))
                            ],
                        )
                    )
                    - clean
                    for head in range(n_heads)
                ]
                for layer in range(n_layers)
            ]
        )

    def mean_over(dims: tuple[int, ...]) -> Callable[[int], Callable]:
        def make_hook(head: int) -> Callable:
            def hook(z: Tensor, hook) -> Tensor:
                z = z.clone()
                z[:, :, head] = z[:, :, head].mean(dim=dims, keepdim=True)
                return z

            return hook

        return make_hook

    make_layer_hook = {
        "zero": interventions.zero_ablation_hook,
        "mean": interventions.mean_ablation_hook,
    }[kind]
    whole_layers = torch.tensor(
        [
            metric(
                model.run_with_hooks(
                    tokens,
                    fwd_hooks=[
                        (
                            f"blocks.{layer}.attn.hook_z",
                            make_layer_hook(list(range(n_heads))),
                        )
                    ],
                )
            )
            - clean
            for layer in range(n_layers)
        ]
    )
    other = "mean" if kind == "zero" else "zero"
    with torch.inference_mode():
        mistakes = [
            (
                expected + clean,
                "that is the ablated run's metric: return its change, metric(ablated) - metric(clean)",
            ),
            (
                -expected,
                "the sign is flipped: return metric(ablated) - metric(clean), not clean - ablated",
            ),
            (
                whole_layers[:, None].expand(n_layers, n_heads),
                "you ablated all the heads of the layer at once: ablate one head per run",
            ),
            (
                interventions.ablation_sweep(model, tokens, metric, other),
                f"that is {other} ablation: kind={kind!r} asks for {kind} ablation",
            ),
        ]
        if kind == "mean":
            mistakes += [
                (
                    sweep(mean_over((1,))),
                    "take the mean over the batch (dim 0), position by position, not over the positions (dim 1)",
                ),
                (
                    sweep(mean_over((0, 1))),
                    "take the mean over the batch only (dim 0), position by position, not over positions too",
                ),
            ]
    return mistakes


def _patching_case(
    batch: int, seq_len: int, symbols: int, generator: torch.Generator
) -> tuple[Tensor, Tensor, Callable[[Tensor], float]]:
    """Repeated tokens, the same with one token of the first copy changed, and the metric that notices it."""
    clean = induction.repeated_random_tokens(
        batch, seq_len, symbols, symbols, generator=generator
    )
    changed = 2
    corrupted = clean.clone()
    corrupted[:, changed] = (clean[:, changed] + 1) % symbols
    query = (
        seq_len + changed
    )  # the second copy of the changed token: the model predicts the token after it here
    answers = clean[:, query + 1]

    def metric(logits: Tensor) -> float:
        return (
            logits[:, query]
            .log_softmax(dim=-1)
            .gather(-1, answers[:, None])
            .mean()
            .item()
        )

    return clean, corrupted, metric


@torch.inference_mode()
def _patching_mistakes(
    model,
    clean: Tensor,
    corrupted: Tensor,
    names: list[str],
    metric: Callable[[Tensor], float],
    head: int | None,
) -> list[tuple[Tensor, str]]:
    positions = clean.shape[1]
    with torch.inference_mode():
        _, clean_cache = model.run_with_cache(clean)
        _, corrupted_cache = model.run_with_cache(corrupted)

        def run(name: str, positions_patched: slice) -> float:
            def patch(activation: Tensor, hook) -> Tensor:
                activation = activation.clone()
                where = (
                    (slice(None), positions_patched)
                    if head is None
                    else (slice(None), positions_patched, head)
                )
                activation[where] = clean_cache[name][where]
                return activation

            return metric(model.run_with_hooks(corrupted, fwd_hooks=[(name, patch)]))

        all_at_once = torch.tensor(
            [[run(name, slice(None))] * positions for name in names]
        )
        cumulative = torch.tensor(
            [
                [run(name, slice(0, position + 1)) for position in range(positions)]
                for name in names
            ]
        )
        mistakes = [
            (
                interventions.patch_by_position(
                    model, corrupted, clean, names, metric, head
                ),
                "you patched the corrupted activation into the clean run: run the corrupted tokens, with the clean run's activation patched in",
            ),
            (
                all_at_once,
                "you patched every position at once: patch one position per run, so that entry [i, p] patches position p only",
            ),
            (
                cumulative,
                "your patches add up: position p's run also had positions 0..p-1 patched. A tensor from a cache is shared "
                "between runs: clone it before you edit it",
            ),
        ]
        if head is not None:
            mistakes.append(
                (
                    interventions.patch_by_position(
                        model, clean, corrupted, names, metric
                    ),
                    f"you patched every head at that position: patch only head {head}'s slice, activation[:, position, head]",
                )
            )
    del corrupted_cache
    return mistakes


def _attribution_variant(
    model,
    cache,
    direction: Tensor,
    bias: Tensor,
    pos: int,
    *,
    scale: bool = True,
    b_O: bool = True,
) -> Tensor:
    """A logit attribution computed the reference's way, or with one of its steps left out."""
    heads = cache.stack_head_results(layer=-1, pos_slice=pos)
    others = cache.decompose_resid(mode="mlp", pos_slice=pos)
    biases = model.b_O.sum(dim=0).expand(1, heads.shape[1], -1) * (1.0 if b_O else 0.0)
    stack = torch.cat([heads, others, biases])
    contributions = (
        cache.apply_ln_to_stack(stack, layer=-1, pos_slice=pos) if scale else stack
    ) @ direction
    contributions[-1] += bias
    return contributions


@torch.inference_mode()
def _attribution_mistakes(
    model, cache, answer: int, rival: int, pos: int
) -> list[tuple[Tensor, str]]:
    W_U, b_U = model.W_U, model.b_U
    difference, bias = W_U[:, answer] - W_U[:, rival], b_U[answer] - b_U[rival]
    with torch.inference_mode():
        mistakes = [
            (
                _attribution_variant(model, cache, difference, bias, pos, scale=False),
                "the parts do not go through the final LayerNorm: divide each by its scale, cache.apply_ln_to_stack(stack, layer=-1, pos_slice=pos)",
            ),
            (
                _attribution_variant(model, cache, W_U[:, answer], b_U[answer], pos),
                "that is logit(answer) alone: attribute the difference, along W_U[:, answer] - W_U[:, rival]",
            ),
            (
                _attribution_variant(model, cache, -difference, -bias, pos),
                "the sign is flipped: that is logit(rival) - logit(answer)",
            ),
            (
                _attribution_variant(model, cache, difference, 0 * bias, pos),
                "the biases part misses the unembedding's bias, b_U[answer] - b_U[rival]",
            ),
            (
                _attribution_variant(model, cache, difference, bias, pos, b_O=False),
                "the biases part misses the attention output biases, model.b_O summed over the layers, through the LayerNorm",
            ),
        ]
        for wrong in (-1, 0):
            if wrong != pos:
                mistakes.append(
                    (
                        _attribution_variant(model, cache, difference, bias, wrong),
                        f"you attributed at position {wrong}: use pos, as pos_slice=pos",
                    )
                )
    return mistakes


def _contributions(returned: object, labels: list[str]) -> Tensor:
    """The contributions of what logit_attribution returned, once its labels are the reference's."""
    if not (
        isinstance(returned, tuple)
        and len(returned) == 2
        and isinstance(returned[0], Tensor)
    ):
        raise ValueError(
            f"expected it to return (contributions, labels), a tensor and a list, got {type(returned).__name__}"
        )
    contributions, got_labels = returned
    if list(got_labels) != labels:
        raise ValueError(
            f"expected the labels {labels[0]}, {labels[1]}, ..., {labels[-1]} ({len(labels)}), "
            f"got {', '.join(map(str, list(got_labels)[:3]))}, ... ({len(got_labels)})"
        )
    return contributions


def _number(name: str, call: Callable[[], object]) -> float:
    try:
        value = call()
        return float(value)
    except Exception as error:
        raise CheckerInputError(
            f"{name} raised {type(error).__name__}: {_first_line(error)}; it should return a number"
        ) from error


def _first_line(error: BaseException) -> str:
    return str(error).splitlines()[0] if str(error) else ""


@functools.cache
def _shipped(name: str, *, compatibility: bool = False):
    """A shipped model on the CPU, loaded once per process (in compatibility mode if asked, a copy of its own)."""
    from mi_course.zoo import load_model

    model = load_model(name, device="cpu")
    if compatibility:
        model.enable_compatibility_mode()
    return model


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
        (
            interventions.zero_ablation_hook(heads)(z.clone(), None),
            "that is zero ablation: replace the heads by their mean, not by 0",
        ),
        (
            interventions.mean_ablation_hook(others)(z.clone(), None),
            "you ablated the other heads: change only those listed in heads",
        ),
        *(
            (
                interventions.mean_ablation_hook(fixed)(z.clone(), None),
                f"you ablated heads {fixed}: ablate the heads the hook was made for",
            )
            for fixed in _HEAD_SETS
            if fixed != heads
        ),
        (
            over_positions,
            "take the mean over the batch only (dim 0), position by position, not over positions too",
        ),
        (
            across_heads,
            "average each listed head over the batch, not the listed heads together",
        ),
        (
            on_positions,
            "heads are dim 2 of z (batch, pos, head, d_head); you indexed positions",
        ),
    ]


def _check_callable(function: object, checker: str, what: str) -> None:
    if isinstance(
        function, torch.nn.Module
    ):  # a model is callable, but it is not the function the exercise asks for
        raise CheckerInputError(
            f"{checker} expected {what}, got a model ({type(function).__name__}): pass your function itself"
        )
    if not callable(function):
        raise CheckerInputError(
            f"{checker} expected {what}, got {type(function).__name__}"
        )


def _random_patterns(
    batch: int, n_heads: int, seq_len: int, generator: torch.Generator
) -> Tensor:
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


def _call(
    name: str, call: Callable[[], Tensor | None], shape: torch.Size, given: str
) -> Tensor | None:
    try:
        got = call()
    except Exception as error:
        raise CheckerInputError(
            f"{name} raised {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
        ) from error
    if got is not None and (not isinstance(got, Tensor) or got.shape != shape):
        described = tuple(got.shape) if isinstance(got, Tensor) else type(got).__name__
        raise CheckerInputError(
            f"{name}: expected shape {tuple(shape)} for {given}, got {described}"
        )
    return got


def _failure(
    got: Tensor,
    expected: Tensor,
    mistakes: list[tuple[Tensor, str]] | Callable[[], list[tuple[Tensor, str]]],
    generic_hint: str,
    atol: float = ATOL,
) -> str | None:
    """None if ``got`` matches ``expected``; else how far it is, and the first mistake it matches (or the hint).

    ``mistakes`` may be a function that makes the list, called only on a mismatch (some cost model runs).
    """
    got, expected = got.detach().float().cpu(), expected.detach().float().cpu()
    difference = (got - expected).abs().max().item()
    if difference <= atol:  # False for nan
        return None
    if callable(mistakes):
        mistakes = mistakes()
    hint = next(
        (
            text
            for wrong, text in mistakes
            if (got - wrong.detach().float().cpu()).abs().max().item() <= atol
        ),
        generic_hint,
    )
    return f"differs from the reference by {difference:#.2g}; {hint}"


def _report(name: str, passed: bool, measured: str, atol: float = ATOL) -> CheckReport:
    return CheckReport(
        "step3",
        (CriterionResult(name, passed, measured, f"max abs difference <= {atol:.0e}"),),
    )
