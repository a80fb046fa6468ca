# Exercise: a transformer block. Use the reference
# LayerNorm, Attention and MLP (or yours).
from jaxtyping import Float
from torch import Tensor, nn

from mi_course import CheckerInputError, seed_everything
from mi_course.checkers import check_block
from mi_course.scratch import MLP, Attention, LayerNorm, ScratchConfig

seed_everything(0)


class TransformerBlock(nn.Module):
    def __init__(self, cfg: ScratchConfig):
        super().__init__()
        self.ln1 = LayerNorm(cfg)
        self.attn = Attention(cfg)
        self.ln2 = LayerNorm(cfg)
        self.mlp = MLP(cfg)

    def forward(
        self, resid_pre: Float[Tensor, "batch pos d_model"]
    ) -> Float[Tensor, "batch pos d_model"]:
        raise NotImplementedError("fill in TransformerBlock.forward")


try:
    print(check_block(TransformerBlock))
except CheckerInputError as error:
    print(error)
