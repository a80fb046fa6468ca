# Token and positional embeddings from scratch, each checked against the reference.
import torch
from einops import repeat
from jaxtyping import Float, Int
from torch import Tensor, nn

from mi_course import seed_everything
from mi_course.checkers import check_embed, check_pos_embed
from mi_course.scratch import ScratchConfig

seed_everything(0)


class Embed(nn.Module):
    def __init__(self, cfg: ScratchConfig):
        super().__init__()
        self.W_E = nn.Parameter(torch.empty(cfg.d_vocab, cfg.d_model))
        nn.init.normal_(self.W_E, std=cfg.init_range)

    def forward(self, tokens: Int[Tensor, "batch pos"]) -> Float[Tensor, "batch pos d_model"]:
        return self.W_E[tokens]  # one row of W_E per token id


class PosEmbed(nn.Module):
    def __init__(self, cfg: ScratchConfig):
        super().__init__()
        self.W_pos = nn.Parameter(torch.empty(cfg.n_ctx, cfg.d_model))
        nn.init.normal_(self.W_pos, std=cfg.init_range)

    def forward(self, tokens: Int[Tensor, "batch pos"]) -> Float[Tensor, "batch pos d_model"]:
        batch, pos = tokens.shape
        return repeat(self.W_pos[:pos], "pos d_model -> batch pos d_model", batch=batch)


print(check_embed(Embed))
print(check_pos_embed(PosEmbed))
