# Token and positional embeddings from scratch, each checked against the reference.
import torch
from einops import repeat
from jaxtyping import Float, Int
from torch import Tensor, nn

from mi_course import seed_everything
from mi_course.checkers import check_embed, check_pos_embed
from mi_course.scratch import ScratchConfig

seed_everything(0)


# --8<-- "mi_course/scratch.py:embed"


# --8<-- "mi_course/scratch.py:pos-embed"


print(check_embed(Embed))
print(check_pos_embed(PosEmbed))
