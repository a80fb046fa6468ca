# Path patching on gpt2-twin, checked against the course's reference:
# which paths carry IOI to the logits, and into later heads?
import functools
from collections.abc import Callable

import torch
from jaxtyping import Float, Int
from torch import Tensor
from transformer_lens import TransformerBridge

from mi_course import load_model, seed_everything
from mi_course.checkers.ioi import check_path_patch
from mi_course.ioi import patching_case

seed_everything(0)


# --8<-- "mi_course/path_patching.py:path-patch"


print(check_path_patch(path_patch))

# in Colab, load_model("gpt2-small") runs the same code on GPT-2 small
model = load_model("gpt2-twin")
# 20 prompts of one held-out template (fewer than above, as this
# takes many runs), their ABC corruptions, and the IOI metric.
prompts, abc, metric = patching_case(model, 20)
heads = [
    (layer, head)
    for layer in range(model.cfg.n_layers)
    for head in range(model.cfg.n_heads)
]

# 1. To the logits, one sender at a time.
to_logits = {
    head: path_patch(model, prompts.tokens, abc.tokens, [head], metric).item()
    for head in heads
}
print(
    "to the logits:",
    "  ".join(
        f"{layer}.{head} {round(value, 2) + 0.0:+.2f}"
        for (layer, head), value in to_logits.items()
    ),
)

# 2. Into the heads after layer 0 that reach the logits most:
# from each earlier head alone, and from all of them together.
receivers = [head for head in heads if head[0] > 0 and to_logits[head] > 0.1]
for receiver in receivers:
    senders = [head for head in heads if head[0] < receiver[0]]
    print(
        f"into {receiver[0]}.{receiver[1]} from:",
        "".join(f"{layer}.{head:<6}" for layer, head in senders),
        "all together",
    )
    one_path = []  # one sender into any inputs, or all senders into one input
    for inputs in (("q",), ("k",), ("v",), ("q", "k", "v")):
        alone = [
            path_patch(
                model, prompts.tokens, abc.tokens, [sender], metric, [receiver], inputs
            ).item()
            for sender in senders
        ]
        together = path_patch(
            model, prompts.tokens, abc.tokens, senders, metric, [receiver], inputs
        ).item()
        one_path += alone + ([together] if len(inputs) == 1 else [])
        print(
            f"  {'/'.join(inputs):<8}",
            "".join(f"{round(value, 2) + 0.0:<+8.2f}" for value in alone),
            f"{round(together, 2) + 0.0:+.2f}",
        )
    print(
        "  the most that one sender, or one input, "
        f"carries: {max(map(abs, one_path)):.2f}"
    )
