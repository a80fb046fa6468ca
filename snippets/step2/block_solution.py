# A pre-LayerNorm transformer block: each sublayer reads a normalized copy of the residual stream
# and adds its output back to it.
from jaxtyping import Float
from torch import Tensor, nn

from mi_course import seed_everything
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

    def forward(self, resid_pre: Float[Tensor, "batch pos d_model"]) -> Float[Tensor, "batch pos d_model"]:
        resid_mid = resid_pre + self.attn(self.ln1(resid_pre))
        return resid_mid + self.mlp(self.ln2(resid_mid))


print(check_block(TransformerBlock))
