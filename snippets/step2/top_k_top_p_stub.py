# Exercise: top-k and nucleus (top-p) sampling. Fill in
# next_token_probs and sample_next_token, then run it.
import torch
from jaxtyping import Float, Int
from torch import Tensor

from mi_course import CheckerInputError, seed_everything
from mi_course.checkers.sampling import check_sampling

seed_everything(0)


# --8<-- "mi_course/sampling.py:next-token-probs-signature"
    # Divide the logits by the temperature. top-k: keep the k largest logits. top-p:
    # keep the smallest set of most likely tokens whose probabilities (after top-k)
    # reach p, the token that crosses p included. Set the
    # logits of the removed tokens to -inf, and softmax.
    raise NotImplementedError("fill in next_token_probs")


# --8<-- "mi_course/sampling.py:sample-next-token-signature"
    raise NotImplementedError("fill in sample_next_token")


try:
    print(check_sampling(sample_next_token, next_token_probs))
except CheckerInputError as error:
    print(error)
