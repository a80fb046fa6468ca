# Step 2's criterion: a from-scratch transformer, given
# a TransformerBridge's weights, reproduces its logits.
import torch

from mi_course import get_device, load_model, seed_everything
from mi_course.checkers import check_logits_match
from mi_course.scratch import DemoTransformer, ScratchConfig, bridge_state_dict

seed_everything(0)
device = get_device()

# the course's character-level model
bridge = load_model("shakespeare-char", device=device)

cfg = ScratchConfig.from_bridge(bridge)
# your own DemoTransformer works too: same parameter names
model = DemoTransformer(cfg).to(device)
model.load_state_dict(bridge_state_dict(bridge))
model.eval()
print(cfg)

tokens = torch.randint(0, cfg.d_vocab, (4, cfg.n_ctx)).to(device)
with torch.inference_mode():
    logits = model(tokens)
# runs both models on its own seeded random sequences
report = check_logits_match(model, bridge)
print("logits:", tuple(logits.shape))
print("matches the bridge within 1e-4:", report.passed)
