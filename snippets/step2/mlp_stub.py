# Exercise: the MLP. Fill in forward (GPT-2's gelu_new
# is in mi_course.scratch), then run it.
import torch
from jaxtyping import Float
from torch import Tensor, nn

from mi_course import CheckerInputError, seed_everything
from mi_course.checkers import check_mlp
from mi_course.scratch import ScratchConfig, gelu_new  # noqa: F401
# (you will need gelu_new)

seed_everything(0)


class MLP(nn.Module):
    # --8<-- "mi_course/scratch.py:mlp-init"

    def forward(
        self, normalized_resid_mid: Float[Tensor, "batch pos d_model"]
    ) -> Float[Tensor, "batch pos d_model"]:
        raise NotImplementedError("fill in MLP.forward")


try:
    print(check_mlp(MLP))
except CheckerInputError as error:
    print(error)
