# requires: network; offline, the tests run it on gpt2-twin
# TL 3: model = HookedTransformer.from_pretrained("gpt2")
# TL 4: boot the Hugging Face model, then ask for
# HookedTransformer's weight processing and hook names.
# load_model("gpt2-small") makes the TL 4 call,
# TransformerBridge.boot_transformers("gpt2", device=device), with GPT-2's tokenizer
# from the course package (mi_course/zoo.py, boot_gpt2).
import torch
from mi_course import get_device, load_model

device = get_device()
model = load_model("gpt2-small", device=device)
model.enable_compatibility_mode()

print(
    type(model).__name__,
    model.cfg.n_layers,
    "layers,",
    model.cfg.n_heads,
    "heads, d_model",
    model.cfg.d_model,
)
print(model.to_str_tokens("The quick brown fox"))
with torch.no_grad():
    logits, cache = model.run_with_cache("The quick brown fox")
print("logits:", tuple(logits.shape))
print("pattern, layer 0:", tuple(cache["pattern", 0].shape))
