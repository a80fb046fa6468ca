# Activation patching for IOI on gpt2-twin: which activations of a clean run restore IO - S in the corrupted run?
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

# The residual stream, layer by layer and position by position.
layers = range(model.cfg.n_layers)
residual = patch_by_position(model, prompts.tokens, abc.tokens, [f"blocks.{layer}.hook_resid_pre" for layer in layers], metric)
words = ["IO" if p == prompts.io_position[0] else "S1" if p == prompts.s1_position[0] else "S2" if p == prompts.s2_position[0]
         else "END" if p == prompts.end[0] else "" for p in range(prompts.tokens.shape[1])]
print("positions:", "  ".join(f"{p}:{w}" for p, w in enumerate(words) if w))
for layer in layers:
    print(f"resid_pre {layer}: " + " ".join(f"{round(value, 2) + 0.0:+.2f}" for value in residual[layer].tolist()))

# Each head's output (hook_z), at every position at once.
z_names = [f"blocks.{layer}.attn.hook_z" for layer in layers]
with torch.inference_mode():
    _, clean_cache = model.run_with_cache(prompts.tokens, names_filter=lambda name: name in z_names)
for layer in layers:
    for head in range(model.cfg.n_heads):

        def patch_head(z, hook, head=head, clean=clean_cache[z_names[layer]]):
            z = z.clone()
            z[:, :, head] = clean[:, :, head]  # every position of this head, from the clean run
            return z

        with torch.inference_mode():
            print(f"head {layer}.{head}: {round(metric(model.run_with_hooks(abc.tokens, fwd_hooks=[(z_names[layer], patch_head)])), 2) + 0.0:+.2f}")
