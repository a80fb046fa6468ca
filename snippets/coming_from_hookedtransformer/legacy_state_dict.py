# Weights saved from a TL 3 HookedTransformer (keys like
# blocks.0.attn.W_Q) load after convert_tl_checkpoint.
import torch
from mi_course import get_device, seed_everything
from transformer_lens import TransformerBridge, TransformerBridgeConfig
from transformer_lens.utilities.tl_checkpoint_conversion import convert_tl_checkpoint

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
# Stand-in for torch.load("old_model.pt"): tl_parameters()
# uses the same keys and per-head shapes as TL 3.
trained = TransformerBridge.boot_native(cfg, device=device)
old_state_dict = {
    name: tensor.detach().clone() for name, tensor in trained.tl_parameters().items()
}
print(
    len(old_state_dict),
    "tensors, e.g.",
    {name: tuple(old_state_dict[name].shape) for name in list(old_state_dict)[2:4]},
)

# other weights
model = TransformerBridge.boot_native({**cfg.to_dict(), "seed": 1}, device=device)
converted = convert_tl_checkpoint(old_state_dict, model.cfg)
print(
    "converted, e.g.",
    {name: tuple(converted[name].shape) for name in list(converted)[2:4]},
)
print(model.load_state_dict(converted, strict=True))

tokens = torch.randint(0, cfg.d_vocab, (2, 12)).to(device)
with torch.no_grad():
    print(
        "same logits as the saved model:", torch.equal(model(tokens), trained(tokens))
    )
