# Exercise: a head-ablation sweep. Fill in ablation_sweep,
# run it, and read what the checker says.
import torch
from jaxtyping import Float
from torch import Tensor

from mi_course import CheckerInputError, seed_everything
from mi_course.checkers.interventions import check_ablation_sweep
from mi_course.interventions import mean_ablation_hook, zero_ablation_hook

seed_everything(0)


def ablation_sweep(
    model, tokens, metric, kind: str
) -> Float[Tensor, "n_layers n_heads"]:
    """How much metric(logits) changes when each head alone is ablated: (n_layers,
    n_heads)."""
    # kind is "zero" or "mean". For each layer and head, run with only that head ablated
    # (a hook on blocks.{layer}.attn.hook_z) and store
    # metric(ablated logits) - metric(clean logits).
    raise NotImplementedError("fill in ablation_sweep")


try:
    print(check_ablation_sweep(ablation_sweep))
except CheckerInputError as error:
    print(error)
