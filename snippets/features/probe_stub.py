# Exercise: a linear probe. Fill in both functions,
# run it, and read what the checker says.
import torch
import torch.nn.functional as F
from jaxtyping import Float
from torch import Tensor, nn

from mi_course import CheckerInputError, seed_everything
from mi_course.checkers.features import check_probe

seed_everything(0)


def train_probe(
    activations, labels, *, steps: int = 500, lr: float = 0.01, seed: int = 0
) -> nn.Linear:
    """Logistic regression from each activation (n, d_model) to its 0/1 label (n,): a
    linear layer with one output."""
    # Seed, make nn.Linear(d_model, 1), and take `steps` full-batch
    # Adam steps on the binary cross-entropy of its logits.
    raise NotImplementedError("fill in train_probe")


def probe_accuracy(probe, activations, labels) -> float:
    """The share of activations whose label the probe gets right."""
    raise NotImplementedError("fill in probe_accuracy")


try:
    print(check_probe(train_probe, probe_accuracy))
except CheckerInputError as error:
    print(error)
