# A head-ablation sweep, checked against the course's
# reference, then run on induction-2l's repeated tokens.
from collections.abc import Callable

import torch
from jaxtyping import Float, Int
from torch import Tensor
from transformer_lens import TransformerBridge

from mi_course import get_device, load_model, seed_everything
from mi_course.checkers.interventions import check_ablation_sweep
from mi_course.induction import repeated_half_loss_of, repeated_random_tokens
from mi_course.interventions import mean_ablation_hook, zero_ablation_hook

seed_everything(0)


# --8<-- "mi_course/interventions.py:ablation-sweep"


print(check_ablation_sweep(ablation_sweep))

model = load_model("induction-2l", device=get_device())
bos = model.cfg.d_vocab - 1  # the last token is BOS; the others are the symbols
tokens = repeated_random_tokens(
    32, 10, bos, bos, generator=torch.Generator().manual_seed(3)
).to(model.cfg.device)


def repeat_log_prob(logits: Tensor) -> float:
    """Mean log-probability of the right next token on the repeat: high when induction
    works."""
    return -repeated_half_loss_of(logits, tokens, 10)


with torch.inference_mode():
    print(
        f"clean: {repeat_log_prob(model(tokens)):.2f} nats; "
        "change when one head is ablated:"
    )
for kind in ("zero", "mean"):
    for layer, row in enumerate(
        ablation_sweep(model, tokens, repeat_log_prob, kind).tolist()
    ):
        print(
            f"  {kind} ablation, layer {layer}:",
            " ".join(f"{change:+.2f}" for change in row),
        )
