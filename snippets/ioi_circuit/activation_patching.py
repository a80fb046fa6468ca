# Activation patching for IOI on gpt2-twin: which activations
# of a clean run restore IO - S in the corrupted run?
from mi_course import load_model, seed_everything
from mi_course.interventions import patch_heads
from mi_course.ioi import ROLE_GROUPS, patch_roles, patching_case
from mi_course.plotting import imshow, show

seed_everything(0)
# in Colab, load_model("gpt2-small") runs the same code on GPT-2 small
model = load_model("gpt2-twin")
# 100 prompts of one held-out template, ABBA and BABA mixed, their
# ABC corruptions, and the IOI metric (0 corrupted, 1 clean).
prompts, abc, metric = patching_case(model)

# The residual stream before each layer, patched at each prompt's
# own S1, IO, S2 or end: in a BABA prompt S1 comes first.
layers = range(model.cfg.n_layers)
by_role = patch_roles(
    model, prompts, abc, [f"blocks.{layer}.hook_resid_pre" for layer in layers], metric
)
print("patched at: " + "".join(f"{'+'.join(roles):>7}" for roles in ROLE_GROUPS))
for layer in layers:
    print(
        f"resid_pre {layer}: "
        + "".join(f"{round(value, 2) + 0.0:+7.2f}" for value in by_role[layer].tolist())
    )

# Each head's output (hook_z), at every position at once.
by_head = patch_heads(model, prompts.tokens, abc.tokens, metric)
for layer in layers:
    print(
        f"layer {layer} heads: "
        + "  ".join(
            f"{layer}.{head} {round(by_head[layer, head].item(), 2) + 0.0:+.2f}"
            for head in range(model.cfg.n_heads)
        )
    )
show(
    imshow(
        by_role,
        title="The residual stream patched at each prompt's own roles",
        x_label="patched at (each prompt's own position)",
        y_label="residual stream",
        x_ticks=["+".join(roles) for roles in ROLE_GROUPS],
        y_ticks=[f"before layer {layer}" for layer in layers],
    )
)
