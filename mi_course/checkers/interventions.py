"""Checkers of ``mi_course.interventions``'s exercises: a mean-ablation hook, a head-ablation sweep,
activation patching position by position, and a normalised metric.

Introduced on the page "Step 3: MI tooling". Each checker runs your function and the course's
reference on the same seeded random inputs (or on the shipped model induction-2l) and, when they
differ, compares your output with common mistakes to say what probably went wrong.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from mi_course import induction, interventions
from mi_course.checkers.harness import (
    MODEL_ATOL,
    call_tensor,
    check_callable,
    diagnose,
    first_line,
    report,
    returned_number,
    shipped,
)
from mi_course.checkers.report import CheckerInputError, CheckReport

STEP = "step3"

_Z_SHAPE = (5, 6, 4, 3)  # batch, pos, head, d_head

# several heads and single ones, first, middle and last, so a hook that hard-codes its heads fails
_HEAD_SETS = ([0, 2], [1], [3], [1, 2, 3])

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


def check_mean_ablation_hook(make_hook: Callable[[list[int]], Callable]) -> CheckReport:
    """Check ``make_hook(heads)``: a hook for ``hook_z`` that replaces ``heads`` by their mean over the batch.

    It is made and run for several head sets, one head or more, so a hook that ignores ``heads`` fails.
    """
    check_callable(
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
        got = call_tensor(
            "the hook",
            lambda: hook(given, None),
            expected.shape,
            f"z of shape {tuple(z.shape)} (batch, pos, head, d_head)",
        )
        if got is None:
            got = given  # a hook may edit z in place and return None
        failure = diagnose(
            got,
            expected,
            _mean_ablation_mistakes(z, heads),
            "z[:, :, heads] should become z[:, :, heads].mean(dim=0, keepdim=True); the other heads stay as they are",
        )
        if failure is not None:
            return report(
                STEP, "mean_ablation_hook", False, f"with heads {heads}, {failure}"
            )
    head_sets = ", ".join(map(str, _HEAD_SETS[:-1])) + f" and {_HEAD_SETS[-1]}"
    return report(
        STEP,
        "mean_ablation_hook",
        True,
        f"matches the reference on random z of shape {_Z_SHAPE}, heads {head_sets}",
    )


def check_ablation_sweep(ablation_sweep: Callable[..., Tensor]) -> CheckReport:
    """Check ``ablation_sweep(model, tokens, metric, kind) -> (n_layers, n_heads)``: the metric's change when each head alone is ablated.

    It runs on the shipped model induction-2l, with both kinds, ``"zero"`` and ``"mean"``, on repeated
    random tokens of two sizes; the metric is the mean log-probability of the right next token on the repeat.
    """
    check_callable(
        ablation_sweep, "check_ablation_sweep", "your ablation_sweep function"
    )
    model = shipped("induction-2l")
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
                got = call_tensor(
                    "ablation_sweep",
                    lambda: ablation_sweep(model, tokens, metric, kind),
                    expected.shape,
                    f"a model of {model.cfg.n_layers} layers of {model.cfg.n_heads} heads: (n_layers, n_heads)",
                )
            if got is None:
                raise CheckerInputError(
                    "ablation_sweep returned None: return the (n_layers, n_heads) tensor of changes"
                )
            failure = diagnose(
                got,
                expected,
                lambda: _sweep_mistakes(model, tokens, metric, kind, expected),
                "entry [layer, head] is metric(the run with only that head ablated) - metric(the clean run)",
                MODEL_ATOL,
            )
            if failure is not None:
                return report(
                    STEP,
                    "ablation_sweep",
                    False,
                    f"with kind={kind!r} and {batch} sequences, {failure}",
                    MODEL_ATOL,
                )
    cases = "; ".join(
        f"{batch} sequences, L = {seq_len}" for batch, seq_len in _SWEEP_CASES
    )
    return report(
        STEP,
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
    check_callable(
        patch_by_position, "check_patch_by_position", "your patch_by_position function"
    )
    model = shipped("induction-2l")
    symbols = model.cfg.d_vocab - 1
    generator = torch.Generator().manual_seed(0)
    for batch, seq_len, names, head in _PATCH_CASES:
        clean, corrupted, metric = _patching_case(batch, seq_len, symbols, generator)
        expected = interventions.patch_by_position(
            model, clean, corrupted, list(names), metric, head
        )  # the reference
        with torch.inference_mode():
            got = call_tensor(
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
        failure = diagnose(
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
            return report(
                STEP, "patch_by_position", False, f"with {where}, {failure}", MODEL_ATOL
            )
    return report(
        STEP,
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
    check_callable(
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
                f"normalised_metric raised {type(error).__name__}: {first_line(error)}"
            ) from error
        if not callable(normalised) or isinstance(normalised, torch.nn.Module):
            raise CheckerInputError(
                f"normalised_metric should return a function of the logits, got {type(normalised).__name__}"
            )
        got = torch.tensor(
            [
                returned_number(
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
        failure = diagnose(
            got,
            expected,
            mistakes,
            "the clean logits should score 1, the corrupted 0, and the score be linear in the metric",
        )
        if failure is not None:
            return report(
                STEP,
                "normalised_metric",
                False,
                f"on logits of shape {shape}, {failure}",
            )
    return report(
        STEP,
        "normalised_metric",
        True,
        f"matches the reference on random logits of shapes {' and '.join(map(str, _LOGIT_SHAPES))}",
    )


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
