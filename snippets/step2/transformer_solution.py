# The unembedding and the whole model: tokens in, one
# logit per vocabulary entry out, at every position.
import torch
from einops import einsum
from jaxtyping import Float, Int
from torch import Tensor, nn

from mi_course import seed_everything
from mi_course.checkers import check_transformer, check_unembed
from mi_course.scratch import (
    Embed,
    LayerNorm,
    PosEmbed,
    ScratchConfig,
    TransformerBlock,
)

seed_everything(0)


# --8<-- "mi_course/scratch.py:unembed"


# --8<-- "mi_course/scratch.py:demo-transformer"


print(check_unembed(Unembed))
print(check_transformer(DemoTransformer))
