# Exercise: attribution patching. Fill in attribution_patch_heads,
# run it, and read what the checker says.
import functools

import torch

from mi_course import CheckerInputError, seed_everything
from mi_course.checkers.ioi import check_attribution_patching

seed_everything(0)


def attribution_patch_heads(model, clean_tokens, corrupted_tokens, metric):
    """The linear estimate of patching each head's clean hook_z, at each position, into
    the corrupted run: (n_layers, n_heads, pos)."""
    # Cache the clean run's hook_z. Run the corrupted tokens with hooks that keep each
    # layer's hook_z and its gradient, and differentiate metric(logits). Each entry is
    # (clean z - corrupted z) · gradient, summed over the batch and d_head.
    raise NotImplementedError("fill in attribution_patch_heads")


try:
    print(check_attribution_patching(attribution_patch_heads))
except CheckerInputError as error:
    print(error)
