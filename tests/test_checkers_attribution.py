"""mi_course.checkers.attribution: the logit-attribution checker names each plausible mistake.

The bad-input cases that tests/test_bad_input.py scans for are in tests/test_checkers.py.
"""

from pathlib import Path

import pytest
import torch

from mi_course.checkers import (
    check_logit_attribution,
)

ROOT = Path(__file__).resolve().parents[1]


# --- logit attribution ----------------------------------------------------------------------------------------------


def attribution_variant(scale=True, single=False, fixed_pos=None, unembed_bias=True):
    def logit_attribution(model, cache, answer, rival, pos=-1):
        pos = pos if fixed_pos is None else fixed_pos
        heads, head_labels = cache.stack_head_results(layer=-1, pos_slice=pos, return_labels=True)
        others, other_labels = cache.decompose_resid(mode="mlp", pos_slice=pos, return_labels=True)
        stack = torch.cat([heads, others, model.b_O.sum(dim=0).expand(1, heads.shape[1], -1)])
        if scale:
            stack = cache.apply_ln_to_stack(stack, layer=-1, pos_slice=pos)
        direction = model.W_U[:, answer] - (0 if single else model.W_U[:, rival])
        contributions = stack @ direction
        if unembed_bias:
            contributions[-1] += model.b_U[answer] - (0 if single else model.b_U[rival])
        return contributions, head_labels + other_labels + ["biases"]

    return logit_attribution


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (attribution_variant(scale=False), "the parts do not go through the final LayerNorm: divide each by its scale"),
        (attribution_variant(scale=False), "but its logit difference is"),  # the sum rule fails first, and says so
        (attribution_variant(single=True), "that is logit(answer) alone: attribute the difference"),
        (attribution_variant(fixed_pos=-1), "on shakespeare-char at pos=9"),
        (attribution_variant(fixed_pos=-1), "you attributed at position -1: use pos"),
        (attribution_variant(unembed_bias=False), "the biases part misses the unembedding's bias"),
    ],
)
def test_the_logit_attribution_checker_names_each_mistake(wrong, hint):
    report = check_logit_attribution(wrong)
    assert not report.passed and hint in str(report), str(report)
