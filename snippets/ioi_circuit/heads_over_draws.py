# Does each head's patching effect hold on other prompts?
# The same patching on 5 new draws of 50 prompts.
import torch

from mi_course import load_model, seed_everything
from mi_course.baselines import Distribution
from mi_course.interventions import patch_heads
from mi_course.ioi import patching_case
from mi_course.plotting import imshow, show

seed_everything(0)
# in Colab, load_model("gpt2-small") runs the same code on GPT-2 small
model = load_model("gpt2-twin")


def heads_patched(seed: int, n: int) -> torch.Tensor:
    """Each head's whole output patched, on the ``n`` prompts (and their corruptions)
    that ``seed`` draws: (layer, head)."""
    prompts, abc, metric = patching_case(model, n, seed=seed)
    return patch_heads(model, prompts.tokens, abc.tokens, metric)


def heads_noised(seed: int, n: int) -> torch.Tensor:
    """The other direction: each head's output from the corrupted run patched into
    the clean run; 1 minus the metric is the share of the gap it removes."""
    prompts, abc, metric = patching_case(model, n, seed=seed)
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


# (draw, layer, head); seed 0 drew the block above
tables = torch.stack([heads_patched(seed, n=50) for seed in range(1, 6)])
print(
    "each head's whole output patched, "
    "over 5 draws of 50 prompts: mean, lowest and highest"
)
print_spreads("head", tables)

# The same with 20 prompts a draw: the head whose effect moves most between draws.
# (draw, layer * n_heads + head)
small = torch.stack([heads_patched(seed, n=20) for seed in range(1, 6)]).flatten(1)
widest = (small.max(0).values - small.min(0).values).argmax().item()
layer, head = divmod(widest, model.cfg.n_heads)
print(
    f"with 20 prompts a draw, head {layer}.{head} moves most: "
    f"from {round(small[:, widest].min().item(), 2) + 0.0:+.2f} "
    f"to {round(small[:, widest].max().item(), 2) + 0.0:+.2f}"
)

# Restoring asks what suffices; removing asks what is needed.
removed = torch.stack([heads_noised(seed, n=50) for seed in range(1, 6)])
print("each head's output corrupted in the clean run, same draws: share removed")
print_spreads("noised", removed)
show(
    imshow(
        tables.flatten(1),
        title="Each head's whole output patched, draw by draw (50 prompts)",
        x_label="head",
        y_label="draw",
        x_ticks=[
            f"{layer}.{head}"
            for layer in range(model.cfg.n_layers)
            for head in range(model.cfg.n_heads)
        ],
        y_ticks=[f"seed {seed}" for seed in range(1, 6)],
    )
)
