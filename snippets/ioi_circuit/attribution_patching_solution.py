# Attribution patching on gpt2-twin, checked against the
# course's reference, then compared with activation patching.
import functools
from collections.abc import Callable

import torch
from jaxtyping import Float, Int
from torch import Tensor
from transformer_lens import TransformerBridge

from mi_course import load_model, seed_everything
from mi_course.checkers.ioi import check_attribution_patching
from mi_course.interventions import patch_by_position
from mi_course.ioi import patching_case

seed_everything(0)


# --8<-- "mi_course/attribution_patching.py:attribution-patch-heads"


print(check_attribution_patching(attribution_patch_heads))

# in Colab, load_model("gpt2-small") runs the same code on GPT-2 small
model = load_model("gpt2-twin")
# 20 prompts of one held-out template (fewer than above, as this
# takes many runs), their ABC corruptions, and the IOI metric.
prompts, abc, metric = patching_case(model, 20)
# (layer, head, pos)
estimates = attribution_patch_heads(model, prompts.tokens, abc.tokens, metric)
with torch.inference_mode():  # the same, measured: one run per head and position
    patched = torch.stack(
        [
            torch.stack(
                [
                    patch_by_position(
                        model,
                        prompts.tokens,
                        abc.tokens,
                        [f"blocks.{layer}.attn.hook_z"],
                        metric,
                        head=head,
                    )[0]
                    for head in range(model.cfg.n_heads)
                ]
            )
            for layer in range(model.cfg.n_layers)
        ]
    )
print(
    f"activation patching: {patched.numel()} runs; "
    "attribution patching: 2 forward passes and 1 backward"
)
correlation = torch.corrcoef(torch.stack([estimates.flatten(), patched.flatten()]))[
    0, 1
]
print(f"correlation over every head and position: {correlation:.2f}")
print("each head at the last position, attribution / activation:")
for layer in range(model.cfg.n_layers):
    print(
        "  "
        + "  ".join(
            f"{layer}.{head} {round(estimates[layer, head, -1].item(), 2) + 0.0:+.2f} "
            f"/ {round(patched[layer, head, -1].item(), 2) + 0.0:+.2f}"
            for head in range(model.cfg.n_heads)
        )
    )
