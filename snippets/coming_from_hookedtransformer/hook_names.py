# Old hook names still work when you add a hook,
# but hook.name inside the hook is another matter.
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
legacy_names = [
    "hook_embed",
    "blocks.0.hook_resid_pre",
    "blocks.0.attn.hook_q",
    "blocks.0.attn.hook_pattern",
    "blocks.0.attn.hook_z",
    "blocks.0.hook_attn_out",
    "blocks.0.mlp.hook_post",
    "blocks.1.hook_resid_post",
]


def show_names(mode: str) -> None:
    print(f"{mode}: old name -> hook.name inside the hook, shape")
    matches = []
    for old in legacy_names:

        def report(activation, hook, old=old):
            print(f"  {old} -> {hook.name} {tuple(activation.shape)}")
            # A check that holds in both modes: ask
            # the model what the hook point is called.
            matches.append(hook.name == model.hook_dict[old].name)

        model.run_with_hooks(tokens, fwd_hooks=[(old, report)])
    print(
        "  hook.name == model.hook_dict[old].name: "
        f"{sum(matches)} of {len(legacy_names)}"
    )


show_names("default")
model.enable_compatibility_mode()
show_names("compatibility mode")
