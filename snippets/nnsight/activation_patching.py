# IOI's residual-stream patching on gpt2-twin, written with nnsight, beside
# TransformerLens' patch_by_position on the same weights.
from collections.abc import Callable, Mapping
from typing import Literal

import torch
from jaxtyping import Float, Int
from nnsight import TransformersModel
from torch import Tensor

from mi_course import get_device, load_model, seed_everything
from mi_course.interventions import patch_by_position
from mi_course.ioi import ioi_metric, patching_prompts, position_names
from mi_course.nnsight_tools import blocks, local_model

seed_everything(0)
# the twin's folder as transformers loads it, a GPT2LMHeadModel, wrapped by nnsight
model = local_model("gpt2-twin")
# nnsight shows the model's own modules, under their Hugging Face names
print(model.transformer.h[0])


# --8<-- "mi_course/nnsight_tools.py:patch-residual"


# 20 prompts of the IOI page's template, all ABBA, and their
# ABC corruptions: a position is one role in every prompt.
prompts, abc = (run.to(get_device()) for run in patching_prompts(20, order="ABBA"))
# every block's input, at every position
layers, positions = range(len(blocks(model))), range(prompts.tokens.shape[1])
with torch.inference_mode():
    with model.trace(prompts.tokens):
        # without .save(), a value is gone when the block ends
        clean_logits = model.output.logits.save()
    with model.trace(abc.tokens):
        corrupted_logits = model.output.logits.save()
    metric = ioi_metric(prompts, clean_logits, corrupted_logits)
    residual = patch_residual(
        model, prompts.tokens, abc.tokens, metric, layers, positions
    )

# The IOI page's TransformerLens sweep, on the same weights booted by TransformerLens.
bridge = load_model("gpt2-twin")
with torch.inference_mode():
    tl_metric = ioi_metric(prompts, bridge(prompts.tokens), bridge(abc.tokens))
hook_names = [f"blocks.{layer}.hook_resid_pre" for layer in layers]
reference = patch_by_position(bridge, prompts.tokens, abc.tokens, hook_names, tl_metric)

print(
    "positions:",
    "  ".join(
        f"{position}:{name}" for position, name in position_names(prompts).items()
    ),
)
for library, results in (("nnsight", residual), ("TransformerLens", reference)):
    for layer, row in enumerate(results.tolist()):
        print(
            f"{library:>15}, block {layer} input: "
            + " ".join(f"{round(value, 2) + 0.0:+.2f}" for value in row)
        )
print(
    "the two agree within 1e-5 at every layer and position: "
    f"{bool((residual - reference).abs().max() <= 1e-5)}"
)
