# Research loop, round 1: does the Shakespeare
# model use its induction heads on real text?
import torch

from mi_course import get_device, load_model, model_card, seed_everything
from mi_course.datasets import load_shakespeare
from mi_course.interventions import mean_ablation_hook, token_losses

seed_everything(0)
device = get_device()
model = load_model("shakespeare-char", device=device)
text = load_shakespeare()[-200_000:]  # from the held-out last 10% of the corpus
windows = torch.tensor(
    [model.to_tokens(text[i : i + 63])[0].tolist() for i in range(0, 63 * 256, 63)]
).to(device)
heads = [
    int(name.split(".")[1])
    for name in model_card("shakespeare-char").metrics["induction_heads"]
]
# the induction heads are in layer 2
ablate = [("blocks.2.attn.hook_z", mean_ablation_hook(heads))]


clean, ablated = token_losses(model, windows), token_losses(model, windows, ablate)
print(
    f"held-out loss: clean {clean.mean().item():.3f} nats/char, "
    f"induction heads mean-ablated {ablated.mean().item():.3f}"
)
print(
    "share of characters whose loss rose by more than 1 nat: "
    f"{((ablated - clean) > 1).float().mean().item():.1%}"
)
