# Exercise: the unembedding and the whole model.
# Fill in both forwards, then run it.
import torch
from jaxtyping import Float, Int
from torch import Tensor, nn

from mi_course import CheckerInputError, seed_everything
from mi_course.checkers import check_transformer, check_unembed
from mi_course.scratch import (
    Embed,
    LayerNorm,
    PosEmbed,
    ScratchConfig,
    TransformerBlock,
)

seed_everything(0)


class Unembed(nn.Module):
    # --8<-- "mi_course/scratch.py:unembed-init"

    def forward(
        self, normalized_resid_final: Float[Tensor, "batch pos d_model"]
    ) -> Float[Tensor, "batch pos d_vocab"]:
        raise NotImplementedError("fill in Unembed.forward")


class DemoTransformer(nn.Module):
    # --8<-- "mi_course/scratch.py:demo-transformer-init"

    def forward(
        self, tokens: Int[Tensor, "batch pos"]
    ) -> Float[Tensor, "batch pos d_vocab"]:
        raise NotImplementedError("fill in DemoTransformer.forward")


for check, component in [
    (check_unembed, Unembed),
    (check_transformer, DemoTransformer),
]:
    try:
        print(check(component))
    except CheckerInputError as error:
        print(error)
