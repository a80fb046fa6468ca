# Exercise: the induction score. Fill in induction_score,
# run it, and read what the checker says.
import torch
from jaxtyping import Float
from torch import Tensor

from mi_course import CheckerInputError, seed_everything
from mi_course.checkers import check_induction_score

seed_everything(0)


def induction_score(
    pattern: Float[Tensor, "batch head query key"], seq_len: int
) -> Float[Tensor, "head"]:
    """Mean attention each head pays from the second copy of a token to the token after
    its first copy."""
    # On [BOS] x_1..x_L x_1..x_L, query q (from
    # L + 1 to 2L) should look at key q - L + 1.
    raise NotImplementedError("fill in induction_score")


try:
    print(check_induction_score(induction_score))
except CheckerInputError as error:
    print(error)
