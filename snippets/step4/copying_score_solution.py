# A head's full OV circuit and copying score, checked against
# the course's reference, then measured on induction-2l's heads.
import torch
from jaxtyping import Float
from torch import Tensor

from mi_course import get_device, load_model, seed_everything
from mi_course.checkers import check_copying_score, check_full_ov_circuit
from mi_course.circuits import random_head_copying_score

seed_everything(0)


# --8<-- "mi_course/circuits.py:full-ov-circuit"


# --8<-- "mi_course/circuits.py:copying-score"


print(check_full_ov_circuit(full_ov_circuit))
print(check_copying_score(copying_score))

model = load_model("induction-2l", device=get_device())
# fold the LayerNorms into the weights, so each circuit is one matrix product
model.enable_compatibility_mode()
with torch.inference_mode():
    for layer in range(model.cfg.n_layers):
        scores = [
            copying_score(
                full_ov_circuit(
                    model.W_E, model.W_V[layer, head], model.W_O[layer, head], model.W_U
                )
            )
            for head in range(model.cfg.n_heads)
        ]
        print(
            f"copying score, layer {layer} heads 0-{model.cfg.n_heads - 1}: "
            + "  ".join(f"{score:.2f}" for score in scores)
        )
    # The baseline: heads with random W_V and W_O between this model's own W_E and W_U.
    mean, p95 = random_head_copying_score(
        model.W_E,
        model.W_U,
        model.cfg.d_head,
        generator=torch.Generator().manual_seed(0),
    )
print(
    f"random heads: mean {mean:.2f}, 95th percentile {p95:.2f}; "
    f"chance 1/{model.cfg.d_vocab} = {1 / model.cfg.d_vocab:.2f}"
)
