# Exercise: head detectors. Fill in the three scores,
# run it, and read what the checker says.
import torch
from jaxtyping import Float, Int
from torch import Tensor

from mi_course import CheckerInputError, seed_everything
from mi_course.checkers.induction import check_head_detectors

seed_everything(0)


def previous_token_score(
    pattern: Float[Tensor, "batch head query key"],
) -> Float[Tensor, "head"]:
    """Mean attention each head pays from a token to the one just before it."""
    # Query q looks at key q - 1. Start at q = 2: position 1 has only BOS before it.
    raise NotImplementedError("fill in previous_token_score")


def duplicate_token_score(
    pattern: Float[Tensor, "batch head query key"], tokens: Int[Tensor, "batch pos"]
) -> Float[Tensor, "head"]:
    """Mean attention each head pays from a token to the earlier positions that hold the
    same token."""
    # Use the tokens, not positions: for each query whose token appeared before, add up
    # its attention on all the earlier copies; average
    # that over those (sequence, query) pairs.
    raise NotImplementedError("fill in duplicate_token_score")


def first_token_score(
    pattern: Float[Tensor, "batch head query key"],
) -> Float[Tensor, "head"]:
    """Mean attention each head pays from a token to position 0, BOS."""
    # Leave out the BOS query itself: it can attend only to itself.
    raise NotImplementedError("fill in first_token_score")


try:
    print(
        check_head_detectors(
            previous_token_score, duplicate_token_score, first_token_score
        )
    )
except CheckerInputError as error:
    print(error)
