# Sampling: run the model, turn the last position's logits into probabilities, draw a token, repeat.
import torch
import transformer_lens.model_bridge.sources.native  # noqa: F401  registers TransformerBridge.boot_native
from transformer_lens import TransformerBridge
from transformer_lens.config import TransformerBridgeConfig

from mi_course import get_device, seed_everything
from mi_course.scratch import load_weights_from_bridge, sample

seed_everything(0)
device = get_device()

# A stand-in for the course's character-level model: the same architecture, random weights.
bridge_cfg = TransformerBridgeConfig(
    d_model=128, d_head=32, n_heads=4, n_layers=4, n_ctx=128, d_vocab=66, d_mlp=512,
    act_fn="gelu_new", normalization_type="LN", positional_embedding_type="standard", seed=0,
)
bridge = TransformerBridge.boot_native(bridge_cfg, device=device)
model = load_weights_from_bridge(bridge)

prompt = torch.tensor([[10, 11, 12]], device=device)
for temperature in (0.0, 1.0, 5.0):
    tokens = sample(model, prompt, n=12, temperature=temperature, seed=0)
    print(f"temperature {temperature}: {tokens[0, prompt.shape[1]:].tolist()}")

# Temperature rescales the logits before the softmax: low sharpens the distribution, high flattens it.
with torch.inference_mode():
    last = model(prompt)[0, -1]
for temperature in (0.5, 1.0, 5.0):
    top = (last / temperature).softmax(dim=-1).max().item()
    print(f"temperature {temperature}: most likely next token has probability {top:.3f}")
