# TL 3: model = HookedTransformer(HookedTransformerConfig(...))
# TL 4: the same fields in a TransformerBridgeConfig, and boot_native builds the model.
import torch
from mi_course import get_device
from transformer_lens import TransformerBridge, TransformerBridgeConfig

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
    seed=0,  # seeds the weight initialisation, without touching the global random state
)
model = TransformerBridge.boot_native(cfg, device=device)
print(type(model).__name__, "with a", type(model.cfg).__name__)
print(model)

# The same seed gives the same weights; a plain dict works as a config too.
again = TransformerBridge.boot_native({**cfg.to_dict(), "seed": 0}, device=device)
other = TransformerBridge.boot_native({**cfg.to_dict(), "seed": 1}, device=device)
print("seed 0 twice, same weights:", torch.equal(model.W_E, again.W_E))
print("seed 1, same weights:", torch.equal(model.W_E, other.W_E))

# An attention-only model, like the course's induction-2l, is one flag away.
attn_only = TransformerBridge.boot_native(
    {**cfg.to_dict(), "attn_only": True}, device=device
)
print("attn_only blocks have an mlp:", hasattr(attn_only.blocks[0], "mlp"))
