# The IOI metric, checked against the course's reference,
# then read on gpt2-twin's clean and corrupted runs.
from collections.abc import Callable

import torch
from jaxtyping import Float
from torch import Tensor

from mi_course import load_model, seed_everything
from mi_course.checkers.ioi import check_ioi_metric
from mi_course.ioi import (
    HELD_OUT_NAMES,
    HELD_OUT_TEMPLATES,
    IOIPrompts,
    corrupted,
    ioi_prompts,
)

seed_everything(0)


# --8<-- "mi_course/ioi.py:logit-diff"


# --8<-- "mi_course/ioi.py:ioi-metric"


print(check_ioi_metric(ioi_metric))

# in Colab, load_model("gpt2-small") runs the same code on GPT-2 small
model = load_model("gpt2-twin")
prompts = ioi_prompts(
    200, templates=HELD_OUT_TEMPLATES, names=HELD_OUT_NAMES, seed=0
).to(model.cfg.device)
abc = corrupted(prompts)
with torch.inference_mode():
    clean_logits, corrupted_logits = model(prompts.tokens), model(abc.tokens)
    metric = ioi_metric(prompts, clean_logits, corrupted_logits)
    print(
        f"clean {metric(clean_logits).item():.2f}, "
        f"corrupted {metric(corrupted_logits).item():.2f}"
    )
    longest = prompts.tokens.shape[1] - 1
    print(
        "prompts shorter than the longest, whose position -1 is padding: "
        f"{(prompts.end < longest).sum().item()} of {len(prompts)}"
    )
