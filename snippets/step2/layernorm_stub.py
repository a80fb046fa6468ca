# Exercise: LayerNorm. Fill in forward, run it, and read what the checker says.
import torch
from jaxtyping import Float
from torch import Tensor, nn

from mi_course import CheckerInputError, seed_everything
from mi_course.checkers import check_layernorm
from mi_course.scratch import ScratchConfig

seed_everything(0)


class LayerNorm(nn.Module):
    # --8<-- "mi_course/scratch.py:layernorm-init"

    def forward(
        self, residual: Float[Tensor, "batch pos d_model"]
    ) -> Float[Tensor, "batch pos d_model"]:
        # Centre over d_model, divide by sqrt(variance
        # + eps), then scale by w and shift by b.
        raise NotImplementedError("fill in LayerNorm.forward")


try:
    print(check_layernorm(LayerNorm))
except CheckerInputError as error:
    print(error)
