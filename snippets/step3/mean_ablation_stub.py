# Exercise: a mean-ablation hook. Fill in the hook,
# run it, and read what the checker says.
from jaxtyping import Float
from torch import Tensor

from mi_course import CheckerInputError, seed_everything
from mi_course.checkers import check_mean_ablation_hook

seed_everything(0)


def mean_ablation_hook(heads: list[int]):
    """A hook for blocks.L.attn.hook_z that replaces the outputs of ``heads`` by their
    mean over the batch."""

    def hook(
        z: Float[Tensor, "batch pos head d_head"], hook
    ) -> Float[Tensor, "batch pos head d_head"]:
        # Replace z[:, :, heads] by its mean over the batch,
        # position by position; leave the other heads alone.
        raise NotImplementedError("fill in the hook")

    return hook


try:
    print(check_mean_ablation_hook(mean_ablation_hook))
except CheckerInputError as error:
    print(error)
