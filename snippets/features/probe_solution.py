# A linear probe for "inside a speaker's name", checked, then
# fitted at each layer of shakespeare-char beside two baselines.
import torch
import torch.nn.functional as F
from jaxtyping import Float
from torch import Tensor, nn

from mi_course import load_model, seed_everything
from mi_course.checkers.features import check_probe
from mi_course.plotting import line, show
from mi_course.probes import (
    balanced_positions,
    random_model_like,
    shuffled_label_accuracies,
)
from mi_course.text_labels import speaker_name, text_windows, uppercase

seed_everything(0)


# --8<-- "mi_course/probes.py:train-probe"


# --8<-- "mi_course/probes.py:probe-accuracy"


print(check_probe(train_probe, probe_accuracy))

model, untrained = (
    load_model("shakespeare-char", device="cpu"),
    random_model_like("shakespeare-char"),
)
# Capital letters only, half inside a speaker's
# name ("FIRST SOLDIER.") and half elsewhere.
data = {}
for split, windows, seed in (("training", 1_000, 0), ("held-out", 300, 1)):
    tokens, text = text_windows(split, windows)
    positions, labels = balanced_positions(
        uppercase(text) & speaker_name(text),
        uppercase(text) & ~speaker_name(text),
        seed=seed,
    )
    data[split] = tokens, text, positions, labels
(
    (train_tokens, train_text, train_positions, train_labels),
    (test_tokens, test_text, test_positions, test_labels),
) = data["training"], data["held-out"]
print(
    f"{len(train_labels)} training and {len(test_labels)} held-out capitals; chance 50%"
)

# What the current letter alone tells: a lookup table
# from each capital to its majority label in training.
votes = {}
for position, label in zip(train_positions.tolist(), train_labels.tolist()):
    votes[train_text[position]] = votes.get(train_text[position], 0) + (
        1 if label else -1
    )
guesses = torch.tensor(
    [
        float(votes.get(test_text[position], 0) > 0)
        for position in test_positions.tolist()
    ]
)
lookup = (guesses == test_labels).float().mean().item()
print(f"the current letter alone (a lookup table): {lookup:.1%}")

hooks = [f"blocks.{layer}.hook_resid_pre" for layer in range(model.cfg.n_layers)] + [
    f"blocks.{model.cfg.n_layers - 1}.hook_resid_post"
]


def activations(candidate, tokens, positions) -> dict[str, Tensor]:
    """Each hook's activation at ``positions`` (BOS left out), from one pass over
    ``tokens``."""
    with torch.no_grad():
        _, cache = candidate.run_with_cache(
            tokens, names_filter=lambda name: name in hooks
        )
    return {
        hook: cache[hook][:, 1:].reshape(-1, candidate.cfg.d_model)[positions]
        for hook in hooks
    }


trained = (
    activations(model, train_tokens, train_positions),
    activations(model, test_tokens, test_positions),
)
untrained_x = (
    activations(untrained, train_tokens, train_positions),
    activations(untrained, test_tokens, test_positions),
)
print(
    "held-out accuracy      trained model  shuffled "
    "labels (95th percentile of 20)  random model"
)
curves = {name: [] for name in ("trained model", "shuffled labels", "random model")}
for hook in hooks:
    (train_x, test_x), (random_train_x, random_test_x) = [
        (train[hook], test[hook]) for train, test in (trained, untrained_x)
    ]
    score = probe_accuracy(train_probe(train_x, train_labels), test_x, test_labels)
    shuffled = shuffled_label_accuracies(
        train_x, train_labels, test_x, test_labels, draws=20
    ).p95
    random_score = probe_accuracy(
        train_probe(random_train_x, train_labels), random_test_x, test_labels
    )
    print(f"{hook:<24}{score:>15.1%}{shuffled:>41.1%}{random_score:>14.1%}")
    for name, value in zip(curves, (score, shuffled, random_score)):
        curves[name].append(100 * value)
curves["the current letter alone"] = [100 * lookup] * len(hooks)
show(
    line(
        curves,
        x_ticks=[hook.removeprefix("blocks.") for hook in hooks],
        title="Probing for 'inside a speaker's name', held out",
        x_label="residual stream read (shuffled labels: 95th percentile of 20)",
        y_label="held-out accuracy (%)",
    )
)
