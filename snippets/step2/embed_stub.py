# Exercise: token and positional embeddings. Fill in both forwards, then run it.
import torch
from jaxtyping import Float, Int
from torch import Tensor, nn

from mi_course import CheckerInputError, seed_everything
from mi_course.checkers import check_embed, check_pos_embed
from mi_course.scratch import ScratchConfig

seed_everything(0)


class Embed(nn.Module):
    # --8<-- "mi_course/scratch.py:embed-init"

    def forward(
        self, tokens: Int[Tensor, "batch pos"]
    ) -> Float[Tensor, "batch pos d_model"]:
        raise NotImplementedError("fill in Embed.forward")


class PosEmbed(nn.Module):
    # --8<-- "mi_course/scratch.py:pos-embed-init"

    def forward(
        self, tokens: Int[Tensor, "batch pos"]
    ) -> Float[Tensor, "batch pos d_model"]:
        raise NotImplementedError("fill in PosEmbed.forward")


for check, component in [(check_embed, Embed), (check_pos_embed, PosEmbed)]:
    try:
        print(check(component))
    except CheckerInputError as error:
        print(error)
