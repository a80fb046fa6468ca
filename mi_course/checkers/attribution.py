"""Checker of ``mi_course.attribution``'s exercise: direct logit attribution.

Introduced on the page "Step 3: MI tooling". It runs your ``logit_attribution`` and the course's
reference on shipped models, checks that the parts sum to the logit difference, and when they
differ from the reference compares them with common mistakes to say what probably went wrong.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
from torch import Tensor

from mi_course import attribution, induction
from mi_course.checkers.harness import (
    MODEL_ATOL,
    call_tensor,
    check_callable,
    diagnose,
    report,
    shipped,
)
from mi_course.checkers.report import CheckReport

STEP = "step3"

# (model, batch, seq_len, pos) of each attribution case: the last position, then one in the middle
_ATTRIBUTION_CASES = (("induction-2l", 3, 6, -1), ("shakespeare-char", 2, 8, 9))


def check_logit_attribution(
    logit_attribution: Callable[..., tuple[Tensor, list[str]]],
) -> CheckReport:
    """Check ``logit_attribution(model, cache, answer, rival, pos) -> (contributions (part, batch), labels)``.

    It runs on shipped models in compatibility mode, induction-2l and shakespeare-char, at the last
    position and at one in the middle: the parts must sum to the logit difference and match the reference.
    """
    check_callable(
        logit_attribution, "check_logit_attribution", "your logit_attribution function"
    )
    generator = torch.Generator().manual_seed(0)
    for name, batch, seq_len, pos in _ATTRIBUTION_CASES:
        model = shipped(name, compatibility=True)
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
            got = call_tensor(
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
            hint = diagnose(
                got,
                expected,
                mistakes,
                "every part, biases included, goes through the final LayerNorm's scale",
                MODEL_ATOL,
            )
            return report(
                STEP,
                "logit_attribution",
                False,
                f"{case}, the parts sum to {got.sum(dim=0)[0].item():.4f} for the first sequence but its logit "
                f"difference is {difference[0].item():.4f} (off by {off:#.2g}): {hint}",
                MODEL_ATOL,
            )
        failure = diagnose(
            got,
            expected,
            mistakes,
            f"the parts are in the order {labels[0]}, {labels[1]}, ..., {labels[-2]}, biases",
            MODEL_ATOL,
        )
        if failure is not None:
            return report(
                STEP,
                "logit_attribution",
                False,
                f"{case}, the parts sum right but {failure}",
                MODEL_ATOL,
            )
    models = " and ".join(
        f"{name} (pos={pos})" for name, _, _, pos in _ATTRIBUTION_CASES
    )
    return report(
        STEP,
        "logit_attribution",
        True,
        f"the parts sum to the logit difference and match the reference on {models}",
        MODEL_ATOL,
    )


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
