# Causal multi-head attention from scratch, every contraction an einsum with named axes.
import math

import torch
from einops import einsum
from jaxtyping import Float
from torch import Tensor, nn

from mi_course import seed_everything
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
        x = normalized_resid_pre
        q = einsum(x, self.W_Q, "batch pos d_model, n_heads d_model d_head -> batch pos n_heads d_head") + self.b_Q
        k = einsum(x, self.W_K, "batch pos d_model, n_heads d_model d_head -> batch pos n_heads d_head") + self.b_K
        v = einsum(x, self.W_V, "batch pos d_model, n_heads d_model d_head -> batch pos n_heads d_head") + self.b_V
        scores = einsum(q, k, "batch q_pos n_heads d_head, batch k_pos n_heads d_head -> batch n_heads q_pos k_pos")
        pattern = self.apply_causal_mask(scores / math.sqrt(self.cfg.d_head)).softmax(dim=-1)
        z = einsum(pattern, v, "batch n_heads q_pos k_pos, batch k_pos n_heads d_head -> batch q_pos n_heads d_head")
        return einsum(z, self.W_O, "batch pos n_heads d_head, n_heads d_head d_model -> batch pos d_model") + self.b_O

    def apply_causal_mask(
        self, scores: Float[Tensor, "batch n_heads q_pos k_pos"]
    ) -> Float[Tensor, "batch n_heads q_pos k_pos"]:
        q_pos, k_pos = scores.shape[-2:]
        future = torch.triu(torch.ones(q_pos, k_pos, dtype=torch.bool, device=scores.device), diagonal=1)
        return scores.masked_fill(future, float("-inf"))  # softmax turns -inf into weight 0


print(check_attention(Attention))
