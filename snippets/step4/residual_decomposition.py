# The residual stream is a sum: every embedding,
# attention layer and MLP adds its output, nothing else.
import torch

from mi_course import get_device, load_model, seed_everything

seed_everything(0)
device = get_device()
# the course's character-level model
model = load_model("shakespeare-char", device=device)
tokens = model.to_tokens("To be, or not to be, that is the question")

with torch.inference_mode():
    _, cache = model.run_with_cache(tokens)
    # (part, batch, pos, d_model)
    parts, labels = cache.decompose_resid(return_labels=True)
    final = cache["resid_post", model.cfg.n_layers - 1]
    difference = (parts.sum(0) - final).abs().max().item()

print(f"{len(labels)} parts: {', '.join(labels)}")
print(
    "largest |sum of parts - final residual stream|: "
    f"{difference:.1e} (at most float32 rounding)"
)
norms = parts[:, 0, -1].norm(dim=-1)
print(
    "norm each part writes at the last position:",
    ", ".join(f"{label} {norm:.1f}" for label, norm in zip(labels, norms.tolist())),
)
