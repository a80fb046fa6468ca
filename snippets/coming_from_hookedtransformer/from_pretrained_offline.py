# The calls of the gpt2 example, on the course's shipped
# induction-2l model, offline: load, then compatibility mode.
import torch
from mi_course import get_device, load_model, seed_everything
from mi_course.induction import repeated_random_tokens

seed_everything(0)
device = get_device()
# a TransformerBridge, like boot_transformers("gpt2")
model = load_model("induction-2l", device=device)
bos = model.cfg.d_vocab - 1  # BOS is the last id; every id before it is a symbol
tokens = repeated_random_tokens(
    2, 10, bos, bos, generator=torch.Generator().manual_seed(0)
).to(device)

with torch.no_grad():
    raw_logits, raw_cache = model.run_with_cache(tokens)
    raw_loss = model(tokens, return_type="loss")
    # fold LayerNorm weights, centre writing weights and unembed
    model.enable_compatibility_mode()
    logits, cache = model.run_with_cache(tokens)
    loss = model(tokens, return_type="loss")

print("compatibility mode:", model.compatibility_mode)
print(f"loss before {raw_loss.item():.4f}, after {loss.item():.4f}")
print(f"largest change in a logit: {(logits - raw_logits).abs().max().item():.2f}")
log_prob_change = (
    (logits.log_softmax(-1) - raw_logits.log_softmax(-1)).abs().max().item()
)
print(f"largest change in a log-probability: {log_prob_change:.4f}")
# Centred writing weights leave every residual-stream
# vector with mean zero over d_model.
print(
    "mean of resid_post (layer 1) over d_model, largest: "
    f"before {raw_cache['resid_post', 1].mean(-1).abs().max().item():.3f}, "
    f"after {cache['resid_post', 1].mean(-1).abs().max().item():.3f}"
)
