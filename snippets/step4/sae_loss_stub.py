# Exercise: the SAE loss. Fill in sae_loss, run
# the file, and read what the checker says.
import torch
from jaxtyping import Float
from torch import Tensor

from mi_course import CheckerInputError, seed_everything
from mi_course.checkers.sae import check_sae_loss
from mi_course.toy_models import SparseAutoencoder

seed_everything(0)


def sae_loss(
    sae: SparseAutoencoder, h: Float[Tensor, "batch d_in"], l1_coefficient: float
) -> Float[Tensor, ""]:
    """Squared reconstruction error plus ``l1_coefficient`` times the latents' L1 norm,
    each latent weighted by its decoder norm."""
    # reconstruction, latents = sae(h). Sum the squared error over the hidden dimension;
    # weight latent i by the norm of its decoder row sae.W_dec[i] and sum over the
    # latents; average the whole loss over the batch.
    raise NotImplementedError("fill in sae_loss")


try:
    print(check_sae_loss(sae_loss))
except CheckerInputError as error:
    print(error)
