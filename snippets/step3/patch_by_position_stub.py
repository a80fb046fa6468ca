# Exercise: activation patching from scratch. Fill in both
# functions, run it, and read what the checkers say.
import torch
from jaxtyping import Float
from torch import Tensor

from mi_course import CheckerInputError, seed_everything
from mi_course.checkers.interventions import (
    check_normalised_metric,
    check_patch_by_position,
)

seed_everything(0)


def patch_by_position(
    model,
    clean_tokens,
    corrupted_tokens,
    hook_names: list[str],
    metric,
    head: int | None = None,
):
    """metric(logits) of the corrupted run with one clean activation patched in:
    (len(hook_names), pos)."""
    # Cache the clean run. For each hook name and each position, run the corrupted
    # tokens with a hook that replaces the activation at that position only (and only
    # head `head`'s slice if given) by the clean one.
    raise NotImplementedError("fill in patch_by_position")


def normalised_metric(metric, clean_logits, corrupted_logits):
    """metric rescaled so that the corrupted run scores 0 and the clean run 1."""
    # Return a function of the logits.
    raise NotImplementedError("fill in normalised_metric")


for check, function in (
    (check_patch_by_position, patch_by_position),
    (check_normalised_metric, normalised_metric),
):
    try:
        print(check(function))
    except CheckerInputError as error:
        print(error)
