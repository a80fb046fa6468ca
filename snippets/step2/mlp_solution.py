# The MLP from scratch: up-project, gelu_new,
# down-project, at every position independently.
import torch
from einops import einsum
from jaxtyping import Float
from torch import Tensor, nn

from mi_course import seed_everything
from mi_course.checkers import check_mlp
from mi_course.scratch import ScratchConfig, gelu_new

seed_everything(0)


# --8<-- "mi_course/scratch.py:mlp"


print(check_mlp(MLP))
