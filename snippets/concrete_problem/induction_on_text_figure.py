# Research loop, round 1b: look before averaging.
# Where in the text does the ablation hurt?
import torch

from mi_course import get_device, load_model, model_card, seed_everything
from mi_course.datasets import load_shakespeare
from mi_course.interventions import mean_ablation_hook, token_losses
from mi_course.plotting import line, show

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
ablate = [("blocks.2.attn.hook_z", mean_ablation_hook(heads))]

clean, ablated = token_losses(model, windows), token_losses(model, windows, ablate)
increase = ablated - clean
# the window holding the largest single increase
worst = int(increase.max(dim=1).values.argmax())
# predicting character `position` of the window (token 0 is BOS)
position = int(increase[worst].argmax())
passage = text[worst * 63 : worst * 63 + 63]
print(
    f"mean increase {increase.mean().item():+.3f} nats; "
    f"largest {increase[worst, position].item():+.2f}, "
    f"in window {worst}, predicting {passage[position]!r} after {passage[:position]!r}"
)
print(
    f"in this window, {(increase[worst].abs() < 0.3).float().mean().item():.0%} "
    "of characters move by less than 0.3 nats"
)
show(
    line(
        {"ablated minus clean": increase[worst]},
        x_ticks=[char.replace(" ", "␣").replace("\n", "↵") for char in passage],
        title=f"Loss added by ablating the induction heads (window {worst})",
        x_label="the predicted character (␣ a space, ↵ a new line)",
        y_label="loss increase (nats)",
    )
)
