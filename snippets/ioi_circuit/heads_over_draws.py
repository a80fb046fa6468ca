# Does each head's patching effect hold on other prompts?
# The same patching on 5 new draws of 50 prompts.
import torch

from mi_course import load_model, seed_everything
from mi_course.baselines import Distribution
from mi_course.interventions import patch_heads
from mi_course.ioi import patching_case
from mi_course.plotting import bars, imshow, show

seed_everything(0)
# in Colab, load_model("gpt2-small") runs the same code on GPT-2 small
model = load_model("gpt2-twin")


def restored(prompts, abc, metric) -> torch.Tensor:
    """Each head's whole output patched clean into the corrupted run: the share of the
    gap it restores, (layer, head)."""
    return patch_heads(model, prompts.tokens, abc.tokens, metric)


def removed(prompts, abc, metric) -> torch.Tensor:
    """The other direction: each head's output from the corrupted run patched into
    the clean run; 1 minus the metric is the share of the gap it removes."""
    return 1 - patch_heads(model, abc.tokens, prompts.tokens, metric)


def print_spreads(prefix: str, table: torch.Tensor) -> None:
    """Print each head's mean, lowest and highest over the draws of ``table``."""
    for layer in range(model.cfg.n_layers):
        for head in range(model.cfg.n_heads):
            spread = Distribution(tuple(table[:, layer, head].tolist()))
            print(
                f"{prefix} {layer}.{head}: "
                + "  ".join(
                    f"{round(value, 2) + 0.0:+.2f}"
                    for value in (spread.mean, spread.low, spread.high)
                )
            )


# 5 draws of 50 prompts, their corruptions and the metric; seed 0 drew the block above
draws = [patching_case(model, 50, seed=seed) for seed in range(1, 6)]
tables = torch.stack([restored(*draw) for draw in draws])  # (draw, layer, head)
print(
    "each head's whole output patched, "
    "over 5 draws of 50 prompts: mean, lowest and highest"
)
print_spreads("head", tables)

# The same with 20 prompts a draw: the head whose effect moves most between draws.
# (draw, layer * n_heads + head)
small = torch.stack(
    [restored(*patching_case(model, 20, seed=seed)) for seed in range(1, 6)]
).flatten(1)
widest = (small.max(0).values - small.min(0).values).argmax().item()
layer, head = divmod(widest, model.cfg.n_heads)
print(
    f"with 20 prompts a draw, head {layer}.{head} moves most: "
    f"from {round(small[:, widest].min().item(), 2) + 0.0:+.2f} "
    f"to {round(small[:, widest].max().item(), 2) + 0.0:+.2f}"
)

# Restoring asks what suffices; removing asks what is needed.
noised = torch.stack([removed(*draw) for draw in draws])
print("each head's output corrupted in the clean run, same draws: share removed")
print_spreads("noised", noised)
heads = [
    f"{layer}.{head}"
    for layer in range(model.cfg.n_layers)
    for head in range(model.cfg.n_heads)
]
show(
    imshow(
        tables.flatten(1),
        title="Each head's whole output patched, draw by draw (50 prompts)",
        x_label="head",
        y_label="draw",
        x_ticks=heads,
        y_ticks=[f"seed {seed}" for seed in range(1, 6)],
    )
)
show(
    bars(
        {
            "restored (clean into corrupted)": tables.mean(0).flatten(),
            "removed (corrupted into clean)": noised.mean(0).flatten(),
        },
        labels=heads,
        title="Each head's share of the gap, restored and removed (mean of 5 draws)",
        x_label="share of the gap",
        y_label="head",
    )
)
