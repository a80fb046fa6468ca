# Activation patching for IOI on gpt2-twin: which activations of a clean run restore IO - S in the corrupted run?
from mi_course import load_model, seed_everything
from mi_course.interventions import patch_by_position, patch_heads
from mi_course.ioi import patching_case, position_names

seed_everything(0)
model = load_model("gpt2-twin")  # in Colab, load_model("gpt2-small") runs the same code on GPT-2 small
# 20 prompts of one held-out template, their ABC corruptions, and the IOI metric: 0 for the corrupted run, 1 for the clean one.
prompts, abc, metric = patching_case(model)

# The residual stream, layer by layer and position by position.
layers = range(model.cfg.n_layers)
residual = patch_by_position(model, prompts.tokens, abc.tokens, [f"blocks.{layer}.hook_resid_pre" for layer in layers], metric)
print("positions:", "  ".join(f"{position}:{name}" for position, name in position_names(prompts).items()))
for layer in layers:
    print(f"resid_pre {layer}: " + " ".join(f"{round(value, 2) + 0.0:+.2f}" for value in residual[layer].tolist()))

# Each head's output (hook_z), at every position at once.
by_head = patch_heads(model, prompts.tokens, abc.tokens, metric)
for layer in layers:
    for head in range(model.cfg.n_heads):
        print(f"head {layer}.{head}: {round(by_head[layer, head].item(), 2) + 0.0:+.2f}")
