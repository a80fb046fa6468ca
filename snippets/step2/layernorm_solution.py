# LayerNorm from scratch, checked against the course's reference on random inputs.
import torch
from einops import reduce
from jaxtyping import Float
from torch import Tensor, nn

from mi_course import seed_everything
from mi_course.checkers import check_layernorm
from mi_course.scratch import ScratchConfig

seed_everything(0)


# --8<-- "mi_course/scratch.py:layernorm"


print(check_layernorm(LayerNorm))
