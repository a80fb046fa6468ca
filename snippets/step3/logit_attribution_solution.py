# Direct logit attribution, checked against the course's
# reference, then run on shakespeare-char's name-copying prompt.
import torch
from jaxtyping import Float
from torch import Tensor
from transformer_lens import ActivationCache, TransformerBridge

from mi_course import get_device, load_model, seed_everything
from mi_course.checkers.attribution import check_logit_attribution

seed_everything(0)


# --8<-- "mi_course/attribution.py:logit-attribution"


print(check_logit_attribution(logit_attribution))

model = load_model("shakespeare-char", device=get_device())
# fold the LayerNorms, so each part's contribution is linear
model.enable_compatibility_mode()
# the answer, "o", appears only in the first "Vexmorn"
prompt = "Thy name is Vexmorn, thou knave.\nVexm"
answer, rival = model.to_single_token("o"), model.to_single_token("i")
with torch.inference_mode():
    logits, cache = model.run_with_cache(model.to_tokens(prompt))
    contributions, labels = logit_attribution(model, cache, answer, rival)
contributions = contributions[:, 0].tolist()  # the one sequence
print(
    "logit(o) - logit(i) = "
    f"{(logits[0, -1, answer] - logits[0, -1, rival]).item():.2f}; "
    f"the {len(labels)} parts sum to {sum(contributions):.2f}"
)
print(
    "largest parts:",
    ", ".join(
        f"{labels[i]} {contributions[i]:+.2f}"
        for i in sorted(range(len(labels)), key=lambda i: -abs(contributions[i]))[:5]
    ),
)
