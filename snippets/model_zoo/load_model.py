# Load a shipped model: a TransformerLens 4
# TransformerBridge with its tokenizer, offline, in seconds.
import torch

from mi_course import get_device, load_model, seed_everything

seed_everything(0)
model = load_model("shakespeare-char", device=get_device())
print(
    type(model).__name__,
    f"{model.cfg.n_layers} layers, "
    f"d_model {model.cfg.d_model}, vocab {model.cfg.d_vocab}",
)
print(model.to_str_tokens("Thou art"))

tokens = model.to_tokens("ROMEO:\nBut soft, what light through yonder window breaks?")
with torch.inference_mode():
    loss = model(tokens, return_type="loss")
print(f"loss on a famous line: {loss.item():.2f} nats per character")
print(model.generate("ROMEO:\n", max_new_tokens=50, do_sample=False, verbose=False))
