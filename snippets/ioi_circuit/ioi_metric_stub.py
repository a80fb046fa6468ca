# Exercise: the IOI metric. Fill in ioi_metric,
# run it, and read what the checker says.
import torch
from torch import Tensor

from mi_course import CheckerInputError, seed_everything
from mi_course.checkers.ioi import check_ioi_metric

seed_everything(0)


def ioi_metric(prompts, clean_logits, corrupted_logits):
    """A function of the logits: the mean logit(IO) - logit(S), rescaled so that
    corrupted scores 0 and clean 1."""
    # Read each prompt at its own last position, prompts.end (the batch is
    # right-padded), and its own names, prompts.io and prompts.s. Return a 0-dim tensor,
    # not a float: attribution patching differentiates it.
    raise NotImplementedError("fill in ioi_metric")


try:
    print(check_ioi_metric(ioi_metric))
except CheckerInputError as error:
    print(error)
