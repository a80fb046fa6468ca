# Direct logit attribution: split a logit difference into what each head, MLP and
# embedding wrote; then again without the induction heads.
import torch

from mi_course import get_device, load_model, model_card, seed_everything
from mi_course.interventions import zero_ablation_hook
from mi_course.plotting import bars, show

seed_everything(0)
device = get_device()
# the course's character-level model
model = load_model("shakespeare-char", device=device)
# fold the LayerNorms, so each part's contribution is linear
model.enable_compatibility_mode()
# the answer, "o", appears only in the first "Vexmorn"
prompt = "Thy name is Vexmorn, thou knave.\nVexm"
# "i", a strong rival to "o" when the induction heads are gone
answer, rival = model.to_single_token("o"), model.to_single_token("i")
# reading this direction gives logit(o) - logit(i)
direction = model.W_U[:, answer] - model.W_U[:, rival]
# layer 2
induction_heads = [
    int(head.split(".")[1])
    for head in model_card("shakespeare-char").metrics["induction_heads"]
]


@torch.inference_mode()
def attribute(fwd_hooks: list) -> tuple[float, dict[str, float], float]:
    """The logit difference, each part's direct contribution to it, and what no part
    owns (the biases)."""
    with model.hooks(fwd_hooks=fwd_hooks):
        logits, cache = model.run_with_cache(model.to_tokens(prompt))
    # Every head's output, the MLPs and the embeddings, at the
    # last position; together they are the residual stream.
    heads, head_labels = cache.stack_head_results(
        layer=-1, pos_slice=-1, return_labels=True
    )
    parts, part_labels = cache.decompose_resid(
        mode="mlp", pos_slice=-1, return_labels=True
    )
    stack = torch.cat([heads, parts])[:, 0]  # (part, d_model)
    # The final LayerNorm divides by one scale for the
    # whole residual stream; apply it to each part.
    contributions = cache.apply_ln_to_stack(stack, layer=-1, pos_slice=-1) @ direction
    # What no part owns: the attention output biases, and the unembedding's bias.
    biases = (
        cache.apply_ln_to_stack(model.b_O.sum(0)[None], layer=-1, pos_slice=-1)[0]
        @ direction
    ).item()
    biases += (model.b_U[answer] - model.b_U[rival]).item()
    difference = (logits[0, -1, answer] - logits[0, -1, rival]).item()
    return (
        difference,
        dict(zip(head_labels + part_labels, contributions.tolist())),
        biases,
    )


difference, parts, biases = attribute([])
print(f"logit(o) - logit(i) = {difference:.2f}")
print(
    f"sum of the {len(parts)} parts + the biases = {sum(parts.values()) + biases:.2f}"
)
# Direct attribution sees only the direct path.
# Zero the induction heads and attribute again:
# a part whose contribution collapses was using what the heads wrote.
ablated_difference, ablated_parts, _ = attribute(
    [("blocks.2.attn.hook_z", zero_ablation_hook(induction_heads))]
)
largest_first = sorted(parts, key=lambda label: -abs(parts[label]))
print(f"{'largest parts':<16} {'clean':>6}  induction heads zeroed")
for label in largest_first[:6]:
    print(f"{label:<16} {parts[label]:+6.2f}  {ablated_parts[label]:+6.2f}")
print(f"{'logit difference':<16} {difference:+6.2f}  {ablated_difference:+6.2f}")
# The last row is the whole: the parts, plus the biases, add up to it.
clean = [parts[label] for label in largest_first] + [difference]
zeroed = [ablated_parts[label] for label in largest_first] + [ablated_difference]
show(
    bars(
        {"clean": clean, "induction heads zeroed": zeroed},
        labels=[*largest_first, "logit difference"],
        title="Each part's direct contribution, on one prompt, and their sum",
        x_label="contribution to logit(o) - logit(i)",
        y_label="part (largest first)",
    )
)
