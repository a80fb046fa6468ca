# Composition: a later head reads what an earlier head wrote. K-composition scores find the induction circuit.
import torch

from mi_course import get_device, load_model, seed_everything

seed_everything(0)
device = get_device()
model = load_model("shakespeare-char", device=device)  # the course's character-level model
model.enable_compatibility_mode()  # fold the LayerNorms into the weights, so each circuit is one matrix

with torch.inference_mode():
    # scores[l1, h1, l2, h2]: how much head (l2, h2) forms its keys from what head (l1, h1) wrote.
    scores = model.all_composition_scores("K")
    from_layer_0 = scores[0, :, 2, :]  # layer-0 heads into layer-2 heads
    # A baseline: the same score between independent random matrices of the same shapes.
    random_ov = torch.randn(model.cfg.d_model, model.cfg.d_head) @ torch.randn(model.cfg.d_head, model.cfg.d_model)
    random_qk = torch.randn(model.cfg.d_model, model.cfg.d_head) @ torch.randn(model.cfg.d_head, model.cfg.d_model)
    baseline = ((random_ov @ random_qk).norm() / (random_ov.norm() * random_qk.norm())).item()

print(f"K-composition, layer-0 head (rows) into layer-2 head (columns); random baseline {baseline:.3f}")
for head, row in enumerate(from_layer_0.tolist()):
    print(f"  0.{head}: " + "  ".join(f"{score:.3f}" for score in row))
best = from_layer_0.mean(dim=1).argmax().item()
print(f"the layer-0 head the induction heads read most: 0.{best}")
