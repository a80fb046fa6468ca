# The K-composition score, checked against the course's
# reference, then measured between induction-2l's two layers.
import torch
from jaxtyping import Float
from torch import Tensor

from mi_course import get_device, load_model, seed_everything
from mi_course.checkers import check_k_composition_score
from mi_course.circuits import random_composition_baseline
from mi_course.plotting import imshow, show

seed_everything(0)


# --8<-- "mi_course/circuits.py:k-composition"


print(check_k_composition_score(k_composition_score))

# Layer-0 heads into the layer of each model's induction
# heads (and previous-token heads in layer 0).
for name, late_layer in (("induction-2l", 1), ("shakespeare-char", 2)):
    model = load_model(name, device=get_device())
    # fold the LayerNorms into the weights, so each circuit is one matrix product
    model.enable_compatibility_mode()
    n_heads = model.cfg.n_heads
    with torch.inference_mode():
        # (head, d_model, d_model): what each layer-0 head writes
        W_OV = model.W_V[0] @ model.W_O[0]
        # how each later head scores query and key
        W_QK = model.W_Q[late_layer] @ model.W_K[late_layer].transpose(-2, -1)
        scores = torch.tensor(
            [
                [
                    k_composition_score(W_OV[early], W_QK[late])
                    for late in range(n_heads)
                ]
                for early in range(n_heads)
            ]
        )
    # The baseline: the same score between independent
    # random matrices of the heads' shapes and rank.
    mean, p95 = random_composition_baseline(
        model.cfg.d_model, model.cfg.d_head, generator=torch.Generator().manual_seed(0)
    )
    print(
        f"{name}: K-composition, "
        f"layer-0 head (rows) into layer-{late_layer} head (columns)"
    )
    print(f"  random pairs: mean {mean:.3f}, 95th percentile {p95:.3f}")
    for early, row in enumerate(scores.tolist()):
        print(
            f"  0.{early}: "
            + "  ".join(f"{score:.3f}" for score in row)
            + f"   mean {sum(row) / n_heads:.3f}"
        )
    above = (scores > p95).sum().item()
    print(f"  {above} of {n_heads * n_heads} pairs above the random 95th percentile")
    show(
        imshow(
            scores,
            x_ticks=[f"{late_layer}.{head}" for head in range(n_heads)],
            y_ticks=[f"0.{head}" for head in range(n_heads)],
            title=f"K-composition in {name} (random pairs' 95th percentile {p95:.3f})",
            x_label=f"layer-{late_layer} head (reads the key)",
            y_label="layer-0 head (writes)",
            diverging=False,  # scores from 0 up
        )
    )
