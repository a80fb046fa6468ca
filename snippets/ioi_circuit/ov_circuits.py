# The OV circuits of gpt2-twin's heads, read on the names: does
# a head copy the name it attends to, or write against it?
import torch

from mi_course import load_model, seed_everything
from mi_course.circuits import copying_score, full_ov_circuit, random_head_copying_score
from mi_course.ioi import NAMES, name_token

seed_everything(0)
# in Colab, load_model("gpt2-small") runs the same code on GPT-2 small
model = load_model("gpt2-twin")
model.enable_compatibility_mode()  # folded LayerNorms, as for direct logit attribution
names = torch.tensor([name_token(name) for name in NAMES], device=model.cfg.device)
# only the names: (names, d_model) and (d_model, names)
W_E, W_U = model.W_E[names], model.W_U[:, names]
mean, p95 = random_head_copying_score(
    W_E, W_U, model.cfg.d_head, generator=torch.Generator().manual_seed(0)
)
print(
    f"{len(names)} names; chance {1 / len(names):.3f}; "
    f"heads with random W_V, W_O: mean {mean:.3f}, 95th percentile {p95:.3f}"
)
print(
    "share of names whose own logit a head raises "
    "most (copies) and lowers most (suppresses):"
)
for layer in range(model.cfg.n_layers):
    for head in range(model.cfg.n_heads):
        # (names, names)
        ov = full_ov_circuit(W_E, model.W_V[layer, head], model.W_O[layer, head], W_U)
        print(
            f"  {layer}.{head}: "
            f"copies {copying_score(ov):.2f}  suppresses {copying_score(-ov):.2f}"
        )
