# Step 2's criterion: a from-scratch transformer, given a TransformerBridge's weights, reproduces its logits.
import torch
import transformer_lens.model_bridge.sources.native  # noqa: F401  registers TransformerBridge.boot_native
from transformer_lens import TransformerBridge
from transformer_lens.config import TransformerBridgeConfig

from mi_course import get_device, seed_everything
from mi_course.checkers import check_logits_match
from mi_course.scratch import DemoTransformer, ScratchConfig, bridge_state_dict

seed_everything(0)
device = get_device()

# A stand-in for the course's character-level model: the same architecture, random weights.
bridge_cfg = TransformerBridgeConfig(
    d_model=128, d_head=32, n_heads=4, n_layers=4, n_ctx=128, d_vocab=66, d_mlp=512,
    act_fn="gelu_new", normalization_type="LN", positional_embedding_type="standard", seed=0,
)
bridge = TransformerBridge.boot_native(bridge_cfg, device=device)

cfg = ScratchConfig.from_bridge(bridge)
model = DemoTransformer(cfg).to(device)  # your own DemoTransformer works too: same parameter names
model.load_state_dict(bridge_state_dict(bridge))
model.eval()
print(cfg)

tokens = torch.randint(0, cfg.d_vocab, (4, cfg.n_ctx)).to(device)
with torch.inference_mode():
    logits = model(tokens)
report = check_logits_match(logits, bridge, tokens)
print("logits:", tuple(logits.shape))
print("matches the bridge within 1e-4:", report.passed)
