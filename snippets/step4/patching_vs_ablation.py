# Ablation asks "is this head necessary?"; patching asks
# "does this head carry the difference between two inputs?".
import torch

from mi_course import get_device, load_model, seed_everything
from mi_course.induction import repeated_random_tokens
from mi_course.interventions import patch_by_position, zero_ablation_hook

seed_everything(0)
device = get_device()
# the course's 2-layer attention-only induction model
model = load_model("induction-2l", device=device)
n_symbols = model.cfg.d_vocab - 1
clean = repeated_random_tokens(
    32, 8, n_symbols, n_symbols, generator=torch.Generator().manual_seed(0)
).to(device)
corrupted = clean.clone()
# as on the Step 3 page: the first copy of x_3 changes
corrupted[:, 3] = (clean[:, 3] + 1) % n_symbols
query, answers = 11, clean[:, 12]  # at the second x_3 the model should predict x_4


def answer_logit(logits: torch.Tensor) -> float:
    return logits[:, query].gather(-1, answers[:, None]).mean().item()


def answer_log_prob(logits: torch.Tensor) -> float:
    return (
        logits[:, query].log_softmax(dim=-1).gather(-1, answers[:, None]).mean().item()
    )


def repeat_log_probs(logits: torch.Tensor) -> torch.Tensor:
    """log P of the next token at each position of the repeat that has one, mean over
    the sequences: (7,)."""
    return (
        logits[:, 9:-1]
        .log_softmax(dim=-1)
        .gather(-1, clean[:, 10:, None])[..., 0]
        .mean(dim=0)
    )


with torch.inference_mode():
    clean_logits, corrupted_logits = model(clean), model(corrupted)
    clean_score, corrupted_score = (
        answer_log_prob(clean_logits),
        answer_log_prob(corrupted_logits),
    )
    print(
        f"log P(answer), mean of {len(clean)} sequences: "
        f"clean {clean_score:.2f}, corrupted {corrupted_score:.2f}"
    )
    print(
        "      zeroed in the clean run: "
        "change in    patched into the corrupted run at the query:"
    )
    print("head  the answer's logit   log P(answer)    share of the log P gap restored")
    worst_drop = {}  # over every position of the repeat, not only the query
    for layer in range(model.cfg.n_layers):
        for head in range(model.cfg.n_heads):
            hook_name = f"blocks.{layer}.attn.hook_z"
            ablated = model.run_with_hooks(
                clean, fwd_hooks=[(hook_name, zero_ablation_hook([head]))]
            )
            worst_drop[f"{layer}.{head}"] = (
                (repeat_log_probs(ablated) - repeat_log_probs(clean_logits))
                .min()
                .item()
            )
            logit_change = answer_logit(ablated) - answer_logit(clean_logits)
            log_prob_change = answer_log_prob(ablated) - clean_score
            # Patch only this head's output: its slice of hook_z, at the query position.
            patched = patch_by_position(
                model, clean, corrupted, [hook_name], answer_log_prob, head=head
            )[0, query].item()
            restored = (patched - corrupted_score) / (clean_score - corrupted_score)
            # + 0.0: no -0.00
            cells = (
                round(value, 2) + 0.0
                for value in (logit_change, log_prob_change, restored)
            )
            print(f"{layer}.{head}   " + "   ".join(f"{cell:+13.2f}" for cell in cells))
    print(
        "zeroed, the largest drop in log P(next token) over the repeat's 7 positions:"
    )
    print(
        "  "
        + "  ".join(
            f"{head}: {round(drop, 2) + 0.0:+.2f}" for head, drop in worst_drop.items()
        )
    )
