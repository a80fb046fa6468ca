# run_with_hooks with a zero-ablation hook: silence one attention head and watch the loss.
from functools import partial

import torch
from mi_course import get_device, seed_everything
from transformer_lens import TransformerBridge, TransformerBridgeConfig

seed_everything(0)
device = get_device()
cfg = TransformerBridgeConfig(
    d_model=64, d_head=16, n_heads=4, n_layers=2, n_ctx=64, d_vocab=50, d_mlp=256,
    act_fn="gelu_new", normalization_type="LN", positional_embedding_type="standard", seed=0,
)
model = TransformerBridge.boot_native(cfg, device=device)
tokens = torch.randint(0, cfg.d_vocab, (2, 12)).to(device)


def zero_head(z: torch.Tensor, hook, head: int) -> torch.Tensor:
    """z: (batch, pos, head, d_head), the heads' outputs before W_O."""
    z[:, :, head, :] = 0.0
    return z


with torch.no_grad():
    clean_logits = model(tokens)
    clean_loss = model(tokens, return_type="loss")
    for layer, head in [(0, 0), (1, 2)]:
        ablated_logits = model.run_with_hooks(
            tokens, fwd_hooks=[(f"blocks.{layer}.attn.hook_z", partial(zero_head, head=head))]
        )
        ablated_loss = model.run_with_hooks(
            tokens, return_type="loss", fwd_hooks=[(f"blocks.{layer}.attn.hook_z", partial(zero_head, head=head))]
        )
        change = (ablated_logits - clean_logits).abs().max().item()
        print(f"L{layer}H{head} zeroed: loss {clean_loss.item():.4f} -> {ablated_loss.item():.4f}, "
              f"largest logit change {change:.3f}")
    # The hooks are gone once run_with_hooks returns.
    print("after run_with_hooks, logits back to clean:", torch.equal(model(tokens), clean_logits))
