# Activation patching for IOI on gpt2-twin, head by head
# and role by role: where does each head's output matter?
from mi_course import load_model, seed_everything
from mi_course.interventions import patch_heads
from mi_course.ioi import ROLES, patch_roles, patching_case

seed_everything(0)
# in Colab, load_model("gpt2-small") runs the same code on GPT-2 small
model = load_model("gpt2-twin")
# 100 prompts of one held-out template, ABBA and BABA mixed, their
# ABC corruptions, and the IOI metric (0 corrupted, 1 clean).
prompts, abc, metric = patching_case(model)

# as in the block above, on its first draw
by_head = patch_heads(model, prompts.tokens, abc.tokens, metric)
heads = [
    (layer, head)
    for layer in range(model.cfg.n_layers)
    for head in range(model.cfg.n_heads)
]
groups = [(role,) for role in ROLES]  # S1, IO, S2, END, and every other position
print("patched at:  " + "".join(f"{role:>7}" for role in ROLES))
# at most four: those whose whole output restores more than 0.05
top = sorted(heads, key=lambda head: -by_head[head].item())[:4]
for layer, head in [head for head in top if by_head[head] > 0.05]:
    by_role = patch_roles(
        model, prompts, abc, [f"blocks.{layer}.attn.hook_z"], metric, groups, head=head
    )[0]
    print(
        f"head {layer}.{head}: "
        + "".join(f"{round(value, 2) + 0.0:+7.2f}" for value in by_role.tolist())
    )
