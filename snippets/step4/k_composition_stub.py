# Exercise: the K-composition score of two heads. Fill
# it in, run it, and read what the checker says.
from jaxtyping import Float
from torch import Tensor

from mi_course import CheckerInputError, seed_everything
from mi_course.checkers import check_k_composition_score

seed_everything(0)


def k_composition_score(
    W_OV_earlier: Float[Tensor, "d_model d_model"],
    W_QK_later: Float[Tensor, "d_model d_model"],
) -> float:
    """How much a later head forms its keys from what an earlier head writes, from 0
    (not at all) to 1."""
    # W_OV = W_V @ W_O and W_QK = W_Q @ W_K.T act on row vectors: the later head scores
    # a query q against a key k as q @ W_QK @ k.T. Which product of the two matrices
    # does a key written by the earlier head go through?
    raise NotImplementedError("fill in k_composition_score")


try:
    print(check_k_composition_score(k_composition_score))
except CheckerInputError as error:
    print(error)
