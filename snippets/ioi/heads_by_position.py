# Activation patching for IOI on gpt2-twin, head by head and position by position: where does each head's output matter?
from mi_course import load_model, seed_everything
from mi_course.interventions import patch_by_position, patch_heads
from mi_course.ioi import patching_case, position_names

seed_everything(0)
model = load_model("gpt2-twin")  # in Colab, load_model("gpt2-small") runs the same code on GPT-2 small
# 20 prompts of one held-out template, their ABC corruptions, and the IOI metric: 0 for the corrupted run, 1 for the clean one.
prompts, abc, metric = patching_case(model)

print("positions:", "  ".join(f"{position}:{name}" for position, name in position_names(prompts).items()))
by_head = patch_heads(model, prompts.tokens, abc.tokens, metric)  # as in the block above
heads = [(layer, head) for layer in range(model.cfg.n_layers) for head in range(model.cfg.n_heads)]
for layer, head in sorted(heads, key=lambda head: -by_head[head].item())[:4]:  # the four whose whole output restores the most
    by_position = patch_by_position(model, prompts.tokens, abc.tokens, [f"blocks.{layer}.attn.hook_z"], metric, head=head)[0]
    print(f"head {layer}.{head}: " + " ".join(f"{round(value, 2) + 0.0:+.2f}" for value in by_position.tolist()))
