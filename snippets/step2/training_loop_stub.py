# Exercise: the training loop. Fill in train_demo_transformer,
# run it, and read what the checker says.
from collections.abc import Iterable

import torch
import torch.nn.functional as F
from einops import rearrange
from jaxtyping import Int
from torch import Tensor

from mi_course import CheckerInputError, seed_everything
from mi_course.checkers.training_loop import check_training_loop
from mi_course.scratch import DemoTransformer

seed_everything(0)


# --8<-- "mi_course/scratch.py:train-loop-signature"
    # For each batch: the logits; the cross-entropy of
    # the logits at each position against the NEXT token;
    # zero the gradients, backpropagate, step the optimizer; record the loss as a float.
    raise NotImplementedError("fill in train_demo_transformer")


try:
    print(check_training_loop(train_demo_transformer))
except CheckerInputError as error:
    print(error)
