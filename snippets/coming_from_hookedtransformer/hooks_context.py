# add_hook / reset_hooks, the hooks() context
# manager and permanent hooks behave as in TL 3.
import torch
from mi_course import get_device, load_model, seed_everything
from mi_course.induction import repeated_random_tokens

seed_everything(0)
device = get_device()
# the course's 2-layer attention-only induction model
model = load_model("induction-2l", device=device)
bos = model.cfg.d_vocab - 1  # BOS is the last id; every id before it is a symbol
# BOS, then 10 random symbols twice: the repeated sequences the model was trained on.
tokens = repeated_random_tokens(
    2, 10, bos, bos, generator=torch.Generator().manual_seed(0)
).to(device)
calls = []


def count(activation, hook):
    calls.append(hook.name)


def run(label: str) -> None:
    calls.clear()
    with torch.no_grad():
        model(tokens)
    print(f"{label}: {len(calls)} hook call(s)")


model.add_hook("blocks.0.attn.hook_pattern", count)
run("after add_hook")
model.reset_hooks()
run("after reset_hooks")

with model.hooks(
    fwd_hooks=[
        ("blocks.0.attn.hook_pattern", count),
        ("blocks.1.attn.hook_pattern", count),
    ]
):
    run("inside with model.hooks(...)")
run("after the with block")

model.add_perma_hook("hook_embed", count)
model.reset_hooks()
run("permanent hook after reset_hooks")
model.reset_hooks(including_permanent=True)
run("after reset_hooks(including_permanent=True)")
