# model.cfg keeps the familiar field names;
# .to(device) still prints unless you ask it not to.
from mi_course import get_device, load_model, seed_everything

seed_everything(0)
device = get_device()
# loaded on the CPU, to show .to(device)
model = load_model("induction-2l", device="cpu")

c = model.cfg
print(
    f"n_layers={c.n_layers} n_heads={c.n_heads} "
    f"d_model={c.d_model} d_head={c.d_head} d_mlp={c.d_mlp}"
)
print(
    f"d_vocab={c.d_vocab} n_ctx={c.n_ctx} act_fn={c.act_fn} "
    f"normalization_type={c.normalization_type}"
)
print(
    f"attn_only={c.attn_only} "
    f"positional_embedding_type={c.positional_embedding_type} dtype={c.dtype}"
)
print(
    "cfg.n_params:",
    c.n_params,
    "| parameters counted by torch:",
    sum(p.numel() for p in model.parameters()),
)

# .to() returns the model and updates cfg.device;
# print_details=False silences "Moving model to device: ...".
moved = model.to(device, print_details=False)
print("same object:", moved is model)
print(
    "weights on the device:",
    model.W_E.device.type == device.type,
    "| cfg.device matches:",
    str(model.cfg.device).startswith(device.type),
)
# Or load it there in one step (boot_native(cfg, device=device)
# does the same for a model built from a config):
model = load_model("induction-2l", device=device)
print(
    "load_model(name, device=device) puts it there too:",
    model.W_E.device.type == device.type,
)
