# Activation patching: which residual-stream
# activations carry the clue an induction head needs?
import torch

from mi_course import get_device, load_model, seed_everything
from mi_course.induction import repeated_random_tokens
from mi_course.interventions import patch_by_position
from mi_course.plotting import imshow, show

seed_everything(0)
device = get_device()
# the course's 2-layer attention-only induction model
model = load_model("induction-2l", device=device)
n_symbols = model.cfg.d_vocab - 1  # the last token is BOS
seq_len, changed = 8, 3
clean = repeated_random_tokens(
    32, seq_len, n_symbols, n_symbols, generator=torch.Generator().manual_seed(0)
).to(device)
corrupted = clean.clone()
# the first copy of x_3 becomes another symbol
corrupted[:, changed] = (clean[:, changed] + 1) % n_symbols
query = seq_len + changed  # the second copy of x_3: the model should predict x_4 here
answers = clean[:, query + 1]


def answer_log_prob(logits: torch.Tensor) -> float:
    """Mean log-probability of the right next token at the query: unlike a raw logit, it
    ignores a shift of all logits."""
    return (
        logits[:, query].log_softmax(dim=-1).gather(-1, answers[:, None]).mean().item()
    )


with torch.inference_mode():
    clean_score, corrupted_score = (
        answer_log_prob(model(clean)),
        answer_log_prob(model(corrupted)),
    )


def restored(logits: torch.Tensor) -> float:
    """0 = as bad as the corrupted run, 1 = as good as the clean run."""
    return (answer_log_prob(logits) - corrupted_score) / (clean_score - corrupted_score)


hook_names = [
    "blocks.0.hook_resid_pre",
    "blocks.1.hook_resid_pre",
    "blocks.1.hook_resid_post",
]
# + 0.0 turns -0.0 into 0.0
results = (
    patch_by_position(model, clean, corrupted, hook_names, restored).round(decimals=1)
    + 0.0
)
print(
    f"log P(answer) at the query, mean of {len(clean)} sequences: "
    f"clean {clean_score:.2f}, corrupted {corrupted_score:.2f}"
)
print(
    "share of that gap restored by patching one clean activation into the corrupted run"
)
print("position:         " + " ".join(f"{p:>4}" for p in range(results.shape[1])))
for name, row in zip(hook_names, results):
    print(
        f"{name.removeprefix('blocks.'):<17} "
        + " ".join(f"{value:4.1f}" for value in row.tolist())
    )
show(
    imshow(
        results,
        x_ticks=[str(position) for position in range(results.shape[1])],
        y_ticks=[name.removeprefix("blocks.") for name in hook_names],
        title="Share of the gap restored by one clean activation",
        x_label=f"position (the changed token at {changed}, the query at {query})",
        y_label="activation patched",
    )
)
