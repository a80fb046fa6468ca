# requires: network; offline, the tests run it on gpt2-twin
# The same from-scratch code with GPT-2 small's weights
# (12 layers, 12 heads, a 50,257-token vocabulary).
import torch

from mi_course import seed_everything
from mi_course.checkers import check_logits_match
from mi_course.scratch import DemoTransformer, ScratchConfig, bridge_state_dict
from mi_course.zoo import load_model

seed_everything(0)

# downloads GPT-2 small from the Hugging Face Hub the first time
bridge = load_model("gpt2-small")
cfg = ScratchConfig.from_bridge(bridge)
model = DemoTransformer(cfg).to(bridge.W_E.device)
model.load_state_dict(bridge_state_dict(bridge))
model.eval()
print(cfg)

tokens = bridge.to_tokens(
    "Mechanistic interpretability reverse-engineers "
    "the algorithms a network has learned."
)
with torch.inference_mode():
    logits = model(tokens.to(bridge.W_E.device))
# runs both models on its own seeded random sequences
report = check_logits_match(model, bridge)
print("vocabulary size:", logits.shape[-1])
print("matches the bridge within 1e-4:", report.passed)
