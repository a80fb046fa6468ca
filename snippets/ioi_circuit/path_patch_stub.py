# Exercise: path patching. Fill in path_patch,
# run it, and read what the checker says.
import functools

import torch

from mi_course import CheckerInputError, seed_everything
from mi_course.checkers.ioi import check_path_patch

seed_everything(0)


def path_patch(
    model,
    clean_tokens,
    corrupted_tokens,
    senders,
    metric,
    receivers=None,
    receiver_inputs=("q",),
):
    """metric of the corrupted run when only the paths from senders to receivers carry
    the clean run."""
    # Step 1: run the corrupted tokens with a hook on every layer's hook_z that sets
    # every head to its corrupted output, but the senders (layer, head) to their clean
    # outputs. Without receivers, return metric(its logits).
    # With receivers, record their blocks.L.attn.hook_q (or _k, _v) in step 1, then
    # (step 2) run the corrupted tokens with only
    # the receivers' slices of those patched in.
    raise NotImplementedError("fill in path_patch")


try:
    print(check_path_patch(path_patch))
except CheckerInputError as error:
    print(error)
