# add_hook / reset_hooks, the hooks() context manager and permanent hooks behave as in TL 3.
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

with model.hooks(fwd_hooks=[("blocks.0.attn.hook_pattern", count), ("blocks.1.attn.hook_pattern", count)]):
    run("inside with model.hooks(...)")
run("after the with block")

model.add_perma_hook("hook_embed", count)
model.reset_hooks()
run("permanent hook after reset_hooks")
model.reset_hooks(including_permanent=True)
run("after reset_hooks(including_permanent=True)")
