# Exercise: direct logit attribution. Fill in logit_attribution,
# run it, and read what the checker says.
import torch
from jaxtyping import Float
from torch import Tensor

from mi_course import CheckerInputError, seed_everything
from mi_course.checkers.attribution import check_logit_attribution

seed_everything(0)


def logit_attribution(
    model, cache, answer: int, rival: int, pos: int = -1
) -> tuple[Float[Tensor, "part batch"], list[str]]:
    """What each part of the residual stream adds to logit(answer) - logit(rival) at
    position pos.

    The parts: every head (cache.stack_head_results), then the embeddings and MLPs
    (cache.decompose_resid
    with mode="mlp"), then "biases" (model.b_O summed over the layers, and the
    unembedding's bias).
    """
    # Stack the parts, divide them by the final LayerNorm's scale
    # (cache.apply_ln_to_stack), then read them along W_U[:,
    # answer] - W_U[:, rival]. They must sum to the logit difference.
    raise NotImplementedError("fill in logit_attribution")


try:
    print(check_logit_attribution(logit_attribution))
except CheckerInputError as error:
    print(error)
