# The unembedding and the whole model: tokens in, one logit per vocabulary entry out, at every position.
import torch
from einops import einsum
from jaxtyping import Float, Int
from torch import Tensor, nn

from mi_course import seed_everything
from mi_course.checkers import check_transformer, check_unembed
from mi_course.scratch import Embed, LayerNorm, PosEmbed, ScratchConfig, TransformerBlock

seed_everything(0)


class Unembed(nn.Module):
    def __init__(self, cfg: ScratchConfig):
        super().__init__()
        self.W_U = nn.Parameter(torch.empty(cfg.d_model, cfg.d_vocab))
        self.b_U = nn.Parameter(torch.zeros(cfg.d_vocab))
        nn.init.normal_(self.W_U, std=cfg.init_range)

    def forward(self, normalized_resid_final: Float[Tensor, "batch pos d_model"]) -> Float[Tensor, "batch pos d_vocab"]:
        return einsum(normalized_resid_final, self.W_U, "batch pos d_model, d_model d_vocab -> batch pos d_vocab") + self.b_U


class DemoTransformer(nn.Module):
    def __init__(self, cfg: ScratchConfig):
        super().__init__()
        self.cfg = cfg
        self.embed = Embed(cfg)
        self.pos_embed = PosEmbed(cfg)
        self.blocks = nn.ModuleList([TransformerBlock(cfg) for _ in range(cfg.n_layers)])
        self.ln_final = LayerNorm(cfg)
        self.unembed = Unembed(cfg)

    def forward(self, tokens: Int[Tensor, "batch pos"]) -> Float[Tensor, "batch pos d_vocab"]:
        residual = self.embed(tokens) + self.pos_embed(tokens)
        for block in self.blocks:
            residual = block(residual)
        return self.unembed(self.ln_final(residual))


print(check_unembed(Unembed))
print(check_transformer(DemoTransformer))
