# Research loop, round 2: if induction helps, it should help where the text repeats. Test that hypothesis.
import torch

from mi_course import get_device, load_model, model_card, seed_everything
from mi_course.datasets import load_shakespeare
from mi_course.interventions import mean_ablation_hook, token_losses

seed_everything(0)
device = get_device()
model = load_model("shakespeare-char", device=device)
text = load_shakespeare()[-200_000:]  # from the held-out last 10% of the corpus
windows = torch.tensor([model.to_tokens(text[i : i + 63])[0].tolist() for i in range(0, 63 * 256, 63)]).to(device)
heads = [int(name.split(".")[1]) for name in model_card("shakespeare-char").metrics["induction_heads"]]
ablate = [("blocks.2.attn.hook_z", mean_ablation_hook(heads))]


def repeats_earlier(row: list[int], position: int, context: int) -> bool:
    """Did the `context` characters ending at `position` occur earlier, followed by the same next character?"""
    target = row[position - context + 1 : position + 2]
    return any(row[start : start + context + 1] == target for start in range(1, position - context + 1))


increase = token_losses(model, windows, ablate) - token_losses(model, windows)
for context in (1, 3, 6):
    mask = torch.tensor([[repeats_earlier(row, p, context) for p in range(len(row) - 1)] for row in windows.tolist()])
    mask[:, :context] = False
    print(f"last {context} chars seen before with the same continuation: {mask.float().mean().item():5.1%} of positions; "
          f"loss increase there {increase[mask].mean().item():+.3f} nats, elsewhere {increase[~mask].mean().item():+.3f}")
