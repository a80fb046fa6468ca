# Activation patching from scratch, checked against
# the course's reference, then run on induction-2l.
from collections.abc import Callable

import torch
from jaxtyping import Float, Int
from torch import Tensor
from transformer_lens import TransformerBridge

from mi_course import get_device, load_model, seed_everything
from mi_course.checkers.interventions import (
    check_normalised_metric,
    check_patch_by_position,
)
from mi_course.induction import repeated_random_tokens

seed_everything(0)


# --8<-- "mi_course/interventions.py:patch-by-position"


# --8<-- "mi_course/interventions.py:normalised-metric"


print(check_patch_by_position(patch_by_position))
print(check_normalised_metric(normalised_metric))

model = load_model("induction-2l", device=get_device())
seq_len, changed = 8, 3
symbols = model.cfg.d_vocab - 1  # the last token is BOS
clean = repeated_random_tokens(
    32, seq_len, symbols, symbols, generator=torch.Generator().manual_seed(0)
).to(model.cfg.device)
corrupted = clean.clone()
# the first copy of x_3 becomes another symbol
corrupted[:, changed] = (clean[:, changed] + 1) % symbols
# the second copy of x_3 should predict x_4
query, answers = seq_len + changed, clean[:, seq_len + changed + 1]


def answer_log_prob(logits: Tensor) -> float:
    return (
        logits[:, query].log_softmax(dim=-1).gather(-1, answers[:, None]).mean().item()
    )


with torch.inference_mode():
    restored = normalised_metric(answer_log_prob, model(clean), model(corrupted))
    results = patch_by_position(
        model,
        clean,
        corrupted,
        ["blocks.0.hook_resid_pre", "blocks.1.hook_resid_pre"],
        restored,
    )
print("share restored, position:", " ".join(f"{p:>4}" for p in range(results.shape[1])))
for name, row in zip(
    ["blocks.0.hook_resid_pre", "blocks.1.hook_resid_pre"], results.tolist()
):
    # + 0.0 turns -0.0 into 0.0
    print(f"{name:<25}", " ".join(f"{round(value, 1) + 0.0:4.1f}" for value in row))
