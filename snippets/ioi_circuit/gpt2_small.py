# requires: network; offline, the tests run it on gpt2-twin
# The IOI chapter on GPT-2 small in Colab: the task, attribution, activation and path
# patching, each head chosen by what it measures.
import torch

from mi_course import get_device, load_model, seed_everything
from mi_course.attribution_patching import attribution_patch_heads
from mi_course.interventions import patch_heads
from mi_course.ioi import (
    HELD_OUT_TEMPLATES,
    NAMES,
    corrupted,
    ioi_metric,
    ioi_prompts,
    logit_diff,
)
from mi_course.path_patching import path_patch

seed_everything(0)
# downloads GPT-2 small from the Hugging Face Hub the first time
model = load_model("gpt2-small", device=get_device())
prompts = ioi_prompts(20, templates=HELD_OUT_TEMPLATES[:1], names=NAMES, seed=0).to(
    model.cfg.device
)
abc = corrupted(prompts)
with torch.inference_mode():
    clean_logits, corrupted_logits = model(prompts.tokens), model(abc.tokens)
clean_diffs = logit_diff(clean_logits, prompts)
print(
    f"IO above S in {(clean_diffs > 0).float().mean():.0%} of {len(prompts)} prompts, "
    f"mean logit diff IO - S {clean_diffs.mean():+.2f}"
)
metric = ioi_metric(prompts, clean_logits, corrupted_logits)
heads = [
    (layer, head)
    for layer in range(model.cfg.n_layers)
    for head in range(model.cfg.n_heads)
]


def top(scores: dict, k: int = 5) -> str:
    return "  ".join(
        f"{layer}.{head} {value:+.2f}"
        for (layer, head), value in sorted(
            scores.items(), key=lambda item: -abs(item[1])
        )[:k]
    )


# Attribution patching: one backward pass estimates
# every head's share, summed over positions.
estimates = attribution_patch_heads(model, prompts.tokens, abc.tokens, metric).sum(
    dim=-1
)
attribution = {head: estimates[head].item() for head in heads}
# Activation patching of each head's whole output: one run per head.
by_head = patch_heads(model, prompts.tokens, abc.tokens, metric)
patched = {head: by_head[head].item() for head in heads}
correlation = torch.corrcoef(
    torch.tensor([list(attribution.values()), list(patched.values())])
)[0, 1]
print(f"activation patching, top heads: {top(patched)}")
print(
    f"attribution patching, top heads: {top(attribution)}; "
    f"correlation with activation patching {correlation:.2f}"
)

# Path patching to the logits; the paper's name movers are 9.9, 9.6 and 10.0.
to_logits = {
    head: path_patch(model, prompts.tokens, abc.tokens, [head], metric).item()
    for head in heads
}
print(f"path patching to the logits, top heads: {top(to_logits)}")
# Into the queries of the three heads after layer 0 that send most to the logits; the
# paper's S-inhibition heads are 7.3, 7.9, 8.6, 8.10.
movers = sorted(
    [head for head in heads if head[0] > 0], key=lambda head: -to_logits[head]
)[:3]
senders = [head for head in heads if head[0] < min(layer for layer, _ in movers)]
to_queries = {
    sender: path_patch(
        model, prompts.tokens, abc.tokens, [sender], metric, movers, ("q",)
    ).item()
    for sender in senders
}
print(
    "path patching into the queries of "
    f"{', '.join(f'{layer}.{head}' for layer, head in movers)}, "
    f"top senders: {top(to_queries)}"
)
