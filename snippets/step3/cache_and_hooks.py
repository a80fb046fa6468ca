# Caches and hooks: read every activation of a forward
# pass, then change one and watch the output move.
import torch

from mi_course import get_device, load_model, seed_everything
from mi_course.induction import repeated_random_tokens

seed_everything(0)
device = get_device()
# the course's 2-layer attention-only induction model
model = load_model("induction-2l", device=device)
bos = model.cfg.d_vocab - 1  # BOS is the last id; every id before it is a symbol
# BOS, then 10 random symbols twice.
tokens = repeated_random_tokens(
    1, 10, bos, bos, generator=torch.Generator().manual_seed(0)
).to(device)

# 1. run_with_cache returns the logits and an
# ActivationCache: a dictionary of every hook's activation.
logits, cache = model.run_with_cache(tokens)
print(
    "cached activations:",
    len(cache),
    "e.g.",
    [name for name in cache if name.startswith("blocks.1.attn.hook")][:4],
)
# Full names, or the (kind, layer) shorthand: both give
# layer 1's attention pattern, (batch, head, query, key).
pattern = cache["blocks.1.attn.hook_pattern"]
print(
    "pattern:",
    tuple(pattern.shape),
    "same as cache['pattern', 1]:",
    torch.equal(pattern, cache["pattern", 1]),
)
print("z (each head's output before W_O):", tuple(cache["z", 1].shape))

# 2. A hook function receives the activation and the hook
# point; whatever it returns replaces the activation.
seen = {}


def record_norm(activation, hook):
    # returning None leaves the activation as it was
    seen[hook.name] = activation.norm().item()


def silence_head_0(z, hook):
    z = z.clone()
    # z is (batch, pos, head, d_head): head 0 of this layer now writes nothing
    z[:, :, 0] = 0.0
    return z


def loss(logits):
    # the repeated half
    return torch.nn.functional.cross_entropy(logits[0, 11:-1], tokens[0, 12:]).item()


with torch.inference_mode():
    model.run_with_hooks(tokens, fwd_hooks=[("blocks.1.hook_resid_post", record_norm)])
    # the hook reports its bridge name; hook_resid_post is an alias of it
    for name, norm in seen.items():
        print(f"norm at {name}: {norm:.2f}")
    # one sequence, L = 10: not the ablation table's batch
    print(f"repeat loss, one sequence: {loss(logits):.3f}")
    ablated = model.run_with_hooks(
        tokens, fwd_hooks=[("blocks.1.attn.hook_z", silence_head_0)]
    )
    print(f"with head 1.0 silenced:    {loss(ablated):.3f}")

    # 3. run_with_hooks removes its hooks when it returns;
    # hooks added with add_hook stay until reset_hooks().
    print(f"plain forward afterwards:  {loss(model(tokens)):.3f}")
    model.add_hook("blocks.1.attn.hook_z", silence_head_0)
    print(f"after add_hook:            {loss(model(tokens)):.3f}")
    model.reset_hooks()
    print(f"after reset_hooks:         {loss(model(tokens)):.3f}")
