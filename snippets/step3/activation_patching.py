# Activation patching: which residual-stream activations carry the clue an induction head needs?
import torch

from mi_course import get_device, load_model, seed_everything
from mi_course.induction import repeated_random_tokens
from mi_course.interventions import patch_by_position

seed_everything(0)
device = get_device()
model = load_model("induction-2l", device=device)  # the course's 2-layer attention-only induction model
bos, seq_len, changed = 50, 8, 3
clean = repeated_random_tokens(1, seq_len, 50, bos, generator=torch.Generator().manual_seed(0)).to(device)
corrupted = clean.clone()
corrupted[0, changed] = (clean[0, changed] + 1) % 50  # the first copy of x_3 becomes another symbol
query = seq_len + changed  # the second copy of x_3: the model should predict x_4 here
answer = clean[0, query + 1].item()

with torch.inference_mode():
    clean_logit = model(clean)[0, query, answer].item()
    corrupted_logit = model(corrupted)[0, query, answer].item()


def restored(logits: torch.Tensor) -> float:
    """0 = as bad as the corrupted run, 1 = as good as the clean run."""
    return (logits[0, query, answer].item() - corrupted_logit) / (clean_logit - corrupted_logit)


hook_names = ["blocks.0.hook_resid_pre", "blocks.1.hook_resid_pre", "blocks.1.hook_resid_post"]
results = patch_by_position(model, clean, corrupted, hook_names, restored).round(decimals=1) + 0.0  # + 0.0 turns -0.0 into 0.0
print(f"logit of the answer: clean {clean_logit:.2f}, corrupted {corrupted_logit:.2f}")
print("position:         " + " ".join(f"{p:>4}" for p in range(results.shape[1])))
for name, row in zip(hook_names, results):
    print(f"{name.removeprefix('blocks.'):<17} " + " ".join(f"{value:4.1f}" for value in row.tolist()))
