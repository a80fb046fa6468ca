# A mean-ablation hook, checked against the course's reference.
from jaxtyping import Float
from torch import Tensor

from mi_course import seed_everything
from mi_course.checkers import check_mean_ablation_hook

seed_everything(0)


def mean_ablation_hook(heads: list[int]):
    """A hook for blocks.L.attn.hook_z that replaces the outputs of ``heads`` by their mean over the batch."""

    def hook(z: Float[Tensor, "batch pos head d_head"], hook) -> Float[Tensor, "batch pos head d_head"]:
        z = z.clone()  # leave the cached activation as it was
        z[:, :, heads] = z[:, :, heads].mean(dim=0, keepdim=True)  # keepdim: broadcast over the batch
        return z

    return hook


print(check_mean_ablation_hook(mean_ablation_hook))
