# run_with_hooks with a zero-ablation hook:
# silence one attention head and watch the loss.
from functools import partial

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


def zero_head(z: torch.Tensor, hook, head: int) -> torch.Tensor:
    """z: (batch, pos, head, d_head), the heads' outputs before W_O."""
    z[:, :, head, :] = 0.0
    return z


with torch.no_grad():
    clean_logits = model(tokens)
    clean_loss = model(tokens, return_type="loss")
    for layer, head in [(0, 0), (1, 2)]:
        ablated_logits = model.run_with_hooks(
            tokens,
            fwd_hooks=[(f"blocks.{layer}.attn.hook_z", partial(zero_head, head=head))],
        )
        ablated_loss = model.run_with_hooks(
            tokens,
            return_type="loss",
            fwd_hooks=[(f"blocks.{layer}.attn.hook_z", partial(zero_head, head=head))],
        )
        change = (ablated_logits - clean_logits).abs().max().item()
        print(
            f"L{layer}H{head} zeroed: "
            f"loss {clean_loss.item():.4f} -> {ablated_loss.item():.4f}, "
            f"largest logit change {change:.3f}"
        )
    # The hooks are gone once run_with_hooks returns.
    print(
        "after run_with_hooks, logits back to clean:",
        torch.equal(model(tokens), clean_logits),
    )
