# A pre-LayerNorm transformer block: each sublayer reads a normalized copy of the
# residual stream and adds its output back to it.
from jaxtyping import Float
from torch import Tensor, nn

from mi_course import seed_everything
from mi_course.checkers import check_block
from mi_course.scratch import MLP, Attention, LayerNorm, ScratchConfig

seed_everything(0)


# --8<-- "mi_course/scratch.py:transformer-block"


print(check_block(TransformerBlock))
