# Activation patching for IOI on gpt2-twin, head by head and position by position: where does each head's output matter?
import torch

from mi_course import load_model, seed_everything
from mi_course.interventions import normalised_metric, patch_by_position
from mi_course.ioi import HELD_OUT_NAMES, HELD_OUT_TEMPLATES, corrupted, ioi_prompts, logit_diff

seed_everything(0)
model = load_model("gpt2-twin")  # in Colab, load_model("gpt2-small") runs the same code on GPT-2 small
prompts = ioi_prompts(20, templates=HELD_OUT_TEMPLATES[:1], names=HELD_OUT_NAMES, seed=0).to(model.cfg.device)
abc = corrupted(prompts)
with torch.inference_mode():
    clean_logits, corrupted_logits = model(prompts.tokens), model(abc.tokens)
# 1 when a patch restores the clean run's mean IO - S, 0 when it leaves the corrupted run's.
metric = normalised_metric(lambda logits: logit_diff(logits, prompts).mean().item(), clean_logits, corrupted_logits)

words = ["IO" if p == prompts.io_position[0] else "S1" if p == prompts.s1_position[0] else "S2" if p == prompts.s2_position[0]
         else "END" if p == prompts.end[0] else "" for p in range(prompts.tokens.shape[1])]
print("positions:", "  ".join(f"{p}:{w}" for p, w in enumerate(words) if w))
for layer, head in [(0, 2), (0, 3), (1, 0), (1, 3)]:  # the heads whose whole output restores the most (the block above)
    by_position = patch_by_position(model, prompts.tokens, abc.tokens, [f"blocks.{layer}.attn.hook_z"], metric, head=head)[0]
    print(f"head {layer}.{head}: " + " ".join(f"{round(value, 2) + 0.0:+.2f}" for value in by_position.tolist()))
