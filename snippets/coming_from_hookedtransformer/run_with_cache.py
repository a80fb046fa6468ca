# run_with_cache and the cache's shorthand indexing work
# as before; each activation is stored under two names.
import torch
from mi_course import get_device, load_model, seed_everything
from mi_course.induction import repeated_random_tokens

seed_everything(0)
device = get_device()
# the course's 2-layer attention-only induction model
model = load_model("induction-2l", device=device)
bos = model.cfg.d_vocab - 1  # BOS is the last id; every id before it is a symbol
# BOS, then 10 random symbols twice: the repeated sequences the model was trained on.
tokens = repeated_random_tokens(
    2, 10, bos, bos, generator=torch.Generator().manual_seed(0)
).to(device)

logits, cache = model.run_with_cache(tokens)
print("logits:", tuple(logits.shape), "| cache:", type(cache).__name__)
print('cache["pattern", 1]:', tuple(cache["pattern", 1].shape))
print(
    "same as blocks.1.attn.hook_pattern:",
    torch.equal(cache["pattern", 1], cache["blocks.1.attn.hook_pattern"]),
)
print(
    'cache["z", 0]:',
    tuple(cache["z", 0].shape),
    '| cache["resid_pre", -1]:',
    tuple(cache["resid_pre", -1].shape),
)

# The old name and the canonical name are two
# keys for one tensor: len(cache) counts both.
z, o_in = cache["blocks.0.attn.hook_z"], cache["blocks.0.attn.o.hook_in"]
print("hook_z and o.hook_in share memory:", z.data_ptr() == o_in.data_ptr())
old_names = [key for key in cache if model.hook_dict[key].name != key]
print(f"{len(cache)} keys, {len(old_names)} of them old names such as {old_names[0]}")

# names_filter: a string or a list keeps both
# spellings, a function keeps the names it matched.
_, by_name = model.run_with_cache(tokens, names_filter="blocks.0.attn.hook_z")
_, by_function = model.run_with_cache(
    tokens, names_filter=lambda name: name.endswith("hook_z")
)
print("string filter:", list(by_name.keys()))
print("function filter:", list(by_function.keys()))

# remove_batch_dim=True, for a batch of one, as in the old tutorials.
_, single = model.run_with_cache(tokens[:1], remove_batch_dim=True)
print("one prompt, no batch dim, pattern 0:", tuple(single["pattern", 0].shape))
