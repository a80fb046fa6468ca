# Exercise: causal multi-head attention. Fill in
# forward and apply_causal_mask, then run it.
import torch
from jaxtyping import Float
from torch import Tensor, nn

from mi_course import CheckerInputError, seed_everything
from mi_course.checkers import check_attention
from mi_course.scratch import ScratchConfig

seed_everything(0)


class Attention(nn.Module):
    # --8<-- "mi_course/scratch.py:attention-init"

    def forward(
        self, normalized_resid_pre: Float[Tensor, "batch pos d_model"]
    ) -> Float[Tensor, "batch pos d_model"]:
        # q, k, v per head; scores q.k / sqrt(d_head);
        # causal mask; softmax over keys; z = pattern @ v;
        # then W_O maps each head's z back to d_model, summed over heads, plus b_O.
        raise NotImplementedError("fill in Attention.forward")

    @staticmethod
    def apply_causal_mask(
        scores: Float[Tensor, "batch n_heads q_pos k_pos"],
    ) -> Float[Tensor, "batch n_heads q_pos k_pos"]:
        raise NotImplementedError("fill in Attention.apply_causal_mask")


try:
    print(check_attention(Attention))
except CheckerInputError as error:
    print(error)
