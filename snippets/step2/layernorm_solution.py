# LayerNorm from scratch, checked against the course's reference on random inputs.
import torch
from einops import reduce
from jaxtyping import Float
from torch import Tensor, nn

from mi_course import seed_everything
from mi_course.checkers import check_layernorm
from mi_course.scratch import ScratchConfig

seed_everything(0)


class LayerNorm(nn.Module):
    def __init__(self, cfg: ScratchConfig):
        super().__init__()
        self.eps = cfg.layer_norm_eps
        self.w = nn.Parameter(torch.ones(cfg.d_model))
        self.b = nn.Parameter(torch.zeros(cfg.d_model))

    def forward(self, residual: Float[Tensor, "batch pos d_model"]) -> Float[Tensor, "batch pos d_model"]:
        centred = residual - reduce(residual, "batch pos d_model -> batch pos 1", "mean")
        variance = reduce(centred.pow(2), "batch pos d_model -> batch pos 1", "mean")  # divide by d_model
        return centred / torch.sqrt(variance + self.eps) * self.w + self.b


print(check_layernorm(LayerNorm))
