# An induction score measured by a hook during the run, checked
# against the scores read from a cache, then used on induction-2l.
from collections.abc import Callable

import torch
from jaxtyping import Float
from torch import Tensor
from transformer_lens.hook_points import HookPoint

from mi_course import get_device, load_model, seed_everything
from mi_course.checkers.induction import check_induction_score_hook
from mi_course.induction import induction_score, repeated_random_tokens

seed_everything(0)


# --8<-- "mi_course/induction.py:induction-score-hook"


print(check_induction_score_hook(induction_score_hook))

model = load_model("induction-2l", device=get_device())
bos = model.cfg.d_vocab - 1  # the last token is BOS; the others are the symbols
tokens = repeated_random_tokens(
    32, 10, bos, bos, generator=torch.Generator().manual_seed(3)
).to(model.cfg.device)
scores = torch.zeros(model.cfg.n_layers, model.cfg.n_heads, device=model.cfg.device)
# no cache: each layer's pattern is scored as it is made, then dropped
with torch.inference_mode():
    model.run_with_hooks(
        tokens,
        fwd_hooks=[
            (
                lambda name: name.endswith("hook_pattern"),
                induction_score_hook(10, scores),
            )
        ],
    )
for layer, row in enumerate(scores.tolist()):
    print(f"layer {layer}:", [round(score, 2) for score in row])
