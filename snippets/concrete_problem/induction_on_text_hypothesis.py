# Research loop, round 2: if induction helps, it should
# help where the text repeats. Test that hypothesis.
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
ablate = [("blocks.2.attn.hook_z", mean_ablation_hook(heads))]


def earlier_continuations(row: list[int], position: int, context: int) -> set[int]:
    """What followed each earlier occurrence of the `context` characters ending at
    `position`."""
    target = row[position - context + 1 : position + 1]
    return {
        row[start + context]
        for start in range(1, position - context + 1)
        if row[start : start + context] == target
    }


increase = token_losses(model, windows, ablate) - token_losses(model, windows)
rows = windows.tolist()
for context in (1, 3, 6):
    seen = [
        [
            earlier_continuations(row, p, context) if p >= context else set()
            for p in range(len(row) - 1)
        ]
        for row in rows
    ]
    # Where the context occurred before: the next character continues the repeat
    # (copying is right), or it does not (copying is wrong).
    same = torch.tensor(
        [
            [row[p + 1] in before for p, before in enumerate(row_seen)]
            for row, row_seen in zip(rows, seen)
        ]
    )
    other = torch.tensor(
        [
            [
                bool(before) and row[p + 1] not in before
                for p, before in enumerate(row_seen)
            ]
            for row, row_seen in zip(rows, seen)
        ]
    )
    rest = ~(same | other)
    print(
        f"last {context} chars seen before: "
        f"{same.float().mean().item():5.1%} continue as before, loss increase "
        f"{increase[same].mean().item():+.3f} nats; "
        f"{other.float().mean().item():5.1%} continue otherwise, "
        f"{increase[other].mean().item():+.3f}; "
        f"the rest {increase[rest].mean().item():+.3f}"
    )
