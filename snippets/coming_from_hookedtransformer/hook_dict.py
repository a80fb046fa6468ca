# hook_points() and hook_dict list new names and old
# ones; some hooks stay off until you switch them on.
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

points = list(model.hook_points())
print(
    "hook_points():",
    len(points),
    "entries,",
    len({id(point) for point in points}),
    "distinct hook points",
)
print(
    "hook_dict['blocks.0.attn.hook_z'] is hook_dict['blocks.0.attn.o.hook_in']:",
    model.hook_dict["blocks.0.attn.hook_z"]
    is model.hook_dict["blocks.0.attn.o.hook_in"],
)
print(
    "block 0's own hooks:",
    [
        name
        for name in model.hook_dict
        if name.startswith("blocks.0.") and "." not in name[9:]
    ],
)

# TL 3 habit: loop over hook_points() and add a
# hook to each. Aliased points then get it twice.
calls = []
for point in model.hook_points():
    point.add_hook(lambda activation, hook: calls.append(hook.name))
with torch.no_grad():
    model(tokens)
print("every entry hooked:", len(calls), "calls for", len(set(calls)), "hook names")
model.reset_hooks()
calls.clear()
for point in {id(point): point for point in model.hook_points()}.values():
    point.add_hook(lambda activation, hook: calls.append(hook.name))
with torch.no_grad():
    model(tokens)
print(
    "each distinct point hooked once:",
    len(calls),
    "calls for",
    len(set(calls)),
    "hook names",
)
model.reset_hooks()

# As in TL 3, some hooks are off until you switch them
# on; TL 4 refuses to add a hook that would never fire.
try:
    model.run_with_hooks(
        tokens, fwd_hooks=[("blocks.0.hook_mlp_in", lambda activation, hook: None)]
    )
except ValueError as error:
    print(f"ValueError: {error}")
model.set_use_hook_mlp_in(True)
_, cache = model.run_with_cache(tokens, names_filter="blocks.0.hook_mlp_in")
print(
    "after set_use_hook_mlp_in(True), hook_mlp_in:",
    tuple(cache["blocks.0.hook_mlp_in"].shape),
)
# On a model built with boot_native, the per-head hooks cannot be switched on at all.
for setter in ["set_use_attn_result", "set_use_split_qkv_input"]:
    try:
        getattr(model, setter)(True)
    except NotImplementedError as error:
        print(f"{setter}(True): NotImplementedError: {str(error).split('. ')[0]}")
with_flag = TransformerBridge.boot_native(
    {**cfg.to_dict(), "use_hook_tokens": True}, device=device
)
print(
    "hook_tokens in hook_dict:",
    "hook_tokens" in model.hook_dict,
    "| with use_hook_tokens=True:",
    "hook_tokens" in with_flag.hook_dict,
)
