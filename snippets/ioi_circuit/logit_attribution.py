# Direct logit attribution for IOI: what each head and MLP
# of gpt2-twin writes along IO - S at the last position.
import torch

from mi_course import load_model, seed_everything
from mi_course.ioi import HELD_OUT_NAMES, HELD_OUT_TEMPLATES, ioi_prompts, logit_diff

seed_everything(0)
# in Colab, load_model("gpt2-small") runs the same code on GPT-2 small
model = load_model("gpt2-twin")
# folded LayerNorms: each part's contribution is linear
model.enable_compatibility_mode()
# One template, so that every prompt's last position is the same one.
prompts = ioi_prompts(
    100, templates=HELD_OUT_TEMPLATES[:1], names=HELD_OUT_NAMES, seed=0
).to(model.cfg.device)
end = prompts.end[0].item()

with torch.no_grad():
    logits, cache = model.run_with_cache(prompts.tokens)
    # (head, batch, d_model)
    heads, head_labels = cache.stack_head_results(
        layer=-1, pos_slice=end, return_labels=True
    )
    # embeddings, MLPs
    others, other_labels = cache.decompose_resid(
        mode="mlp", pos_slice=end, return_labels=True
    )
    # divided by the final LN scale
    parts = cache.apply_ln_to_stack(torch.cat([heads, others]), layer=-1, pos_slice=end)
    # (d_model, batch): one direction per prompt
    direction = model.W_U[:, prompts.io] - model.W_U[:, prompts.s]
    contributions = torch.einsum("pbd,db->pb", parts, direction).mean(dim=1)
labels = head_labels + other_labels
total = logit_diff(logits, prompts).mean().item()
print(
    f"logit diff IO - S: {total:.2f}; "
    f"the parts sum to {contributions.sum():.2f} (the rest is the biases)"
)
for layer in range(model.cfg.n_layers):
    row = contributions[layer * model.cfg.n_heads : (layer + 1) * model.cfg.n_heads]
    print(
        f"layer {layer} heads: "
        + "  ".join(
            f"{label} {round(value, 2) + 0.0:+.2f}"
            for label, value in zip(
                head_labels[layer * model.cfg.n_heads :], row.tolist()
            )
        )
    )
print(
    "embeddings and MLPs: "
    + "  ".join(
        f"{label} {round(value, 2) + 0.0:+.2f}"
        for label, value in zip(
            other_labels, contributions[len(head_labels) :].tolist()
        )
    )
)

# Where each head looks from the last position:
# at IO, at S's first mention, at S's second.
rows = torch.arange(len(prompts))
print(
    f"attention from the last position (uniform would give {1 / (end + 1):.2f} each):"
)
for layer in range(model.cfg.n_layers):
    pattern = cache["pattern", layer][rows, :, end]  # (batch, head, key)
    for head in range(model.cfg.n_heads):
        io, s1, s2 = (
            pattern[rows, head, where].mean().item()
            for where in (prompts.io_position, prompts.s1_position, prompts.s2_position)
        )
        print(f"  {layer}.{head}: IO {io:.2f}  S1 {s1:.2f}  S2 {s2:.2f}")
