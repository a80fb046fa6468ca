# The MLP from scratch: up-project, gelu_new, down-project, at every position independently.
import torch
from einops import einsum
from jaxtyping import Float
from torch import Tensor, nn

from mi_course import seed_everything
from mi_course.checkers import check_mlp
from mi_course.scratch import ScratchConfig, gelu_new

seed_everything(0)


class MLP(nn.Module):
    def __init__(self, cfg: ScratchConfig):
        super().__init__()
        self.W_in = nn.Parameter(torch.empty(cfg.d_model, cfg.d_mlp))
        self.b_in = nn.Parameter(torch.zeros(cfg.d_mlp))
        self.W_out = nn.Parameter(torch.empty(cfg.d_mlp, cfg.d_model))
        self.b_out = nn.Parameter(torch.zeros(cfg.d_model))
        nn.init.normal_(self.W_in, std=cfg.init_range)
        nn.init.normal_(self.W_out, std=cfg.init_range)

    def forward(self, normalized_resid_mid: Float[Tensor, "batch pos d_model"]) -> Float[Tensor, "batch pos d_model"]:
        pre = einsum(normalized_resid_mid, self.W_in, "batch pos d_model, d_model d_mlp -> batch pos d_mlp") + self.b_in
        post = gelu_new(pre)  # not torch's default GELU: GPT-2 uses the tanh approximation
        return einsum(post, self.W_out, "batch pos d_mlp, d_mlp d_model -> batch pos d_model") + self.b_out


print(check_mlp(MLP))
