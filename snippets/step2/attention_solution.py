# Causal multi-head attention from scratch, every contraction an einsum with named axes.
import math

import torch
from einops import einsum
from jaxtyping import Float
from torch import Tensor, nn

from mi_course import seed_everything
from mi_course.checkers import check_attention
from mi_course.scratch import ScratchConfig

seed_everything(0)


# --8<-- "mi_course/scratch.py:attention"


print(check_attention(Attention))
