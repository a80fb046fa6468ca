# Exercise: causal multi-head attention. Fill in forward and apply_causal_mask, then run the file.
import torch
from jaxtyping import Float
from torch import Tensor, nn

from mi_course import CheckerInputError, seed_everything
from mi_course.checkers import check_attention
from mi_course.scratch import ScratchConfig

seed_everything(0)


class Attention(nn.Module):
    def __init__(self, cfg: ScratchConfig):
        super().__init__()
        self.cfg = cfg
        self.W_Q = nn.Parameter(torch.empty(cfg.n_heads, cfg.d_model, cfg.d_head))
        self.W_K = nn.Parameter(torch.empty(cfg.n_heads, cfg.d_model, cfg.d_head))
        self.W_V = nn.Parameter(torch.empty(cfg.n_heads, cfg.d_model, cfg.d_head))
        self.W_O = nn.Parameter(torch.empty(cfg.n_heads, cfg.d_head, cfg.d_model))
        self.b_Q = nn.Parameter(torch.zeros(cfg.n_heads, cfg.d_head))
        self.b_K = nn.Parameter(torch.zeros(cfg.n_heads, cfg.d_head))
        self.b_V = nn.Parameter(torch.zeros(cfg.n_heads, cfg.d_head))
        self.b_O = nn.Parameter(torch.zeros(cfg.d_model))
        for weight in (self.W_Q, self.W_K, self.W_V, self.W_O):
            nn.init.normal_(weight, std=cfg.init_range)

    def forward(self, normalized_resid_pre: Float[Tensor, "batch pos d_model"]) -> Float[Tensor, "batch pos d_model"]:
        # q, k, v per head; scores q.k / sqrt(d_head); causal mask; softmax over keys; z = pattern @ v;
        # then W_O maps each head's z back to d_model, summed over heads, plus b_O.
        raise NotImplementedError("fill in Attention.forward")

    def apply_causal_mask(
        self, scores: Float[Tensor, "batch n_heads q_pos k_pos"]
    ) -> Float[Tensor, "batch n_heads q_pos k_pos"]:
        raise NotImplementedError("fill in Attention.apply_causal_mask")


try:
    print(check_attention(Attention))
except CheckerInputError as error:
    print(error)
