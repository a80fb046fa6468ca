# Exercise: the unembedding and the whole model. Fill in both forwards, then run the file.
import torch
from jaxtyping import Float, Int
from torch import Tensor, nn

from mi_course import CheckerInputError, seed_everything
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
        raise NotImplementedError("fill in Unembed.forward")


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
        raise NotImplementedError("fill in DemoTransformer.forward")


for check, component in [(check_unembed, Unembed), (check_transformer, DemoTransformer)]:
    try:
        print(check(component))
    except CheckerInputError as error:
        print(error)
