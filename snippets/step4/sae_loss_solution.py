# The SAE loss, checked against the course's reference, then
# used to train an SAE that finds a toy model's 30 features.
from jaxtyping import Float
from torch import Tensor

from mi_course import seed_everything
from mi_course.checkers import check_sae_loss, check_trained_sae
from mi_course.checkers.sae import train_with
from mi_course.toy_models import SparseAutoencoder

seed_everything(0)


# --8<-- "mi_course/toy_models.py:sae-loss"


print(check_sae_loss(sae_loss))
# Then train an SAE with your loss and judge it by the
# standard metrics, beside a random SAE of its shape.
print(check_trained_sae(*train_with(sae_loss)))
