# Three head detectors, checked against the course's reference,
# then run on shakespeare-char reading a line of verse.
import torch
from jaxtyping import Float, Int
from torch import Tensor

from mi_course import get_device, load_model, seed_everything
from mi_course.checkers.induction import check_head_detectors

seed_everything(0)


# --8<-- "mi_course/induction.py:head-detectors"


print(
    check_head_detectors(previous_token_score, duplicate_token_score, first_token_score)
)

model = load_model("shakespeare-char", device=get_device())
text = (
    "To be, or not to be, that is the question: "
    "whether 'tis nobler in the mind to suffer"
)
# BOS, then one token per character: letters repeat,
# so duplicate_token_score has queries
tokens = model.to_tokens(text)
with torch.inference_mode():
    _, cache = model.run_with_cache(
        tokens, names_filter=lambda name: name.endswith("hook_pattern")
    )
print("head:            " + " ".join(f"{head:>5}" for head in range(model.cfg.n_heads)))
for layer in range(model.cfg.n_layers):
    pattern = cache["pattern", layer]
    for label, scores in (
        ("previous", previous_token_score(pattern)),
        ("duplicate", duplicate_token_score(pattern, tokens)),
        ("first", first_token_score(pattern)),
    ):
        print(
            f"layer {layer} {label:<9} "
            + " ".join(f"{score:5.2f}" for score in scores.tolist())
        )
