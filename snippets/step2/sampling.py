# Sampling: run the model, turn the last position's
# logits into probabilities, draw a token, repeat.
import torch

from mi_course import get_device, load_model, seed_everything
from mi_course.scratch import load_weights_from_bridge, sample

seed_everything(0)
device = get_device()
# the course's character-level model
bridge = load_model("shakespeare-char", device=device)
model = load_weights_from_bridge(bridge)  # your from-scratch model, holding its weights

prompt = bridge.to_tokens("ROMEO:\n").to(device)
for temperature in (0.0, 0.8, 2.0):
    tokens = sample(model, prompt, n=40, temperature=temperature, seed=0)
    print(
        f"temperature {temperature}: "
        f"{bridge.tokenizer.decode(tokens[0, prompt.shape[1] :])!r}"
    )

# Temperature rescales the logits before the softmax:
# low sharpens the distribution, high flattens it.
with torch.inference_mode():
    last = model(prompt)[0, -1]
for temperature in (0.5, 1.0, 2.0):
    top = (last / temperature).softmax(dim=-1).max().item()
    print(
        f"temperature {temperature}: "
        f"most likely next character has probability {top:.3f}"
    )
