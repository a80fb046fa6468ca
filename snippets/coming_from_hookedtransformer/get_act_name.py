# utils.get_act_name lives in transformer_lens.utilities
# now; it still returns the old names.
import torch
from mi_course import get_device, seed_everything
from transformer_lens import TransformerBridge, TransformerBridgeConfig
from transformer_lens.utilities import get_act_name

seed_everything(0)
device = get_device()
cfg = TransformerBridgeConfig(
    d_model=64,
    d_head=16,
    n_heads=4,
    n_layers=2,
    n_ctx=64,
    d_vocab=50,
    d_mlp=256,
    act_fn="gelu_new",
    normalization_type="LN",
    positional_embedding_type="standard",
    seed=0,
)
model = TransformerBridge.boot_native(cfg, device=device)
tokens = torch.randint(0, cfg.d_vocab, (2, 12)).to(device)
_, cache = model.run_with_cache(tokens)

for args in [
    ("z", 0),
    ("pattern", 1),
    ("resid_pre", 0),
    ("post", 1),
    ("normalized", 0, "ln1"),
    ("embed",),
]:
    name = get_act_name(*args)
    canonical = model.hook_dict[name].name
    print(f"get_act_name{args} = {name} -> {canonical} {tuple(cache[name].shape)}")
