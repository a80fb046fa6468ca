# Weight attributes keep their TL 3 names and shapes;
# per-layer ones are views you can edit in place.
import torch
from mi_course import get_device, seed_everything
from transformer_lens import TransformerBridge, TransformerBridgeConfig

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

for name in [
    "W_Q",
    "W_K",
    "W_V",
    "W_O",
    "b_Q",
    "b_O",
    "W_in",
    "W_out",
    "W_E",
    "W_pos",
    "W_U",
    "b_U",
]:
    print(f"model.{name}: {tuple(getattr(model, name).shape)}")
print("model.blocks[0].attn.W_Q:", tuple(model.blocks[0].attn.W_Q.shape))
print("model.blocks[0].mlp.W_in:", tuple(model.blocks[0].mlp.W_in.shape))
# Underneath are nn.Linear weights with the usual (out_features, in_features) layout.
print("model.blocks[0].attn.q.weight:", tuple(model.blocks[0].attn.q.weight.shape))

with torch.no_grad():
    before = model(tokens, return_type="loss").item()
    # model.W_O stacks the layers into a new tensor
    # on every access: writing to it changes nothing.
    model.W_O[0, 0] = 0.0
    unchanged = model(tokens, return_type="loss").item()
    # model.blocks[0].attn.W_O is a view of the
    # layer's weight: writing to it edits the model.
    model.blocks[0].attn.W_O[0] = 0.0
    after = model(tokens, return_type="loss").item()
print(
    f"loss {before:.4f}; after writing to model.W_O {unchanged:.4f}; "
    f"after model.blocks[0].attn.W_O {after:.4f}"
)
