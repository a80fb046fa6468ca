"""Linear probes on a residual stream, their baselines, and a random model of a shipped model's shape.

A probe is logistic regression from one position's activation vector to a label of that position.
High accuracy says the label is linearly readable there, not that the model uses it: hence the
baselines (the same probe on a randomly initialised model of the same shape, and on shuffled
labels) and the causal check on the page. Introduced on the page "Features in a language model".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from jaxtyping import Float
from torch import Tensor, nn

from mi_course import _checks
from mi_course._checks import Call, Shape, described, guard
from mi_course.baselines import Distribution
from mi_course.runtime import seed_everything

if (
    TYPE_CHECKING
):  # importing TransformerLens takes seconds; Step 1's checker should not wait for it
    from transformer_lens import TransformerBridge


def _labels(labels: object, name: str, call: Call) -> Tensor:
    """One 0.0 or 1.0 label per activation, in a float tensor."""
    activations = call.arguments["activations"]
    if (
        not isinstance(labels, Tensor)
        or labels.ndim != 1
        or len(labels) != len(activations)
    ):
        got = (
            f"shape {tuple(labels.shape)}"
            if isinstance(labels, Tensor)
            else type(labels).__name__
        )
        raise ValueError(
            f"{call.function} expected one label per activation, {name} of shape ({len(activations)},), got {got}"
        )
    if not labels.is_floating_point() or not ((labels == 0) | (labels == 1)).all():
        raise ValueError(
            f"{call.function} expected {name} of 0.0 and 1.0 (a float tensor), got {described(labels)}"
        )
    return labels


@guard(activations=Shape("n d_model"), labels=_labels)
# --8<-- [start:train-probe]
def train_probe(
    activations: Float[Tensor, "n d_model"],
    labels: Float[Tensor, "n"],
    *,
    steps: int = 500,
    lr: float = 0.01,
    seed: int = 0,
) -> nn.Linear:
    """Logistic regression from each activation to its 0/1 label: a linear layer with
    one output, its logit.

    Full-batch Adam on the binary cross-entropy of the logits; the bias lets it fit
    unbalanced labels.
    """
    seed_everything(seed)
    probe = nn.Linear(activations.shape[1], 1)  # weight (1, d_model) and bias (1,)
    optimizer = torch.optim.Adam(probe.parameters(), lr=lr)
    for _ in range(steps):
        loss = F.binary_cross_entropy_with_logits(
            probe(activations).squeeze(-1), labels
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return probe.eval()


# --8<-- [end:train-probe]


@guard(activations=Shape("n d_model"), labels=_labels)
# --8<-- [start:probe-accuracy]
@torch.no_grad()
def probe_accuracy(
    probe: nn.Linear,
    activations: Float[Tensor, "n d_model"],
    labels: Float[Tensor, "n"],
) -> float:
    """The share of activations whose label the probe gets right: it says 1 where its
    logit is above 0.
    """
    predictions = (
        probe(activations).squeeze(-1) > 0
    ).float()  # logit > 0 is probability > 0.5
    return (predictions == labels).float().mean().item()


# --8<-- [end:probe-accuracy]


def shuffled_label_accuracies(
    train_activations: Float[Tensor, "n d_model"],
    train_labels: Float[Tensor, "n"],
    test_activations: Float[Tensor, "m d_model"],
    test_labels: Float[Tensor, "m"],
    *,
    draws: int = 20,
    seed: int = 0,
    steps: int = 500,
    lr: float = 0.01,
) -> Distribution:
    """The baseline of a probe's accuracy: the held-out accuracy of ``draws`` probes, each fitted to its own shuffle of the labels.

    Each is trained as ``train_probe`` trains one (full-batch Adam on the binary cross-entropy);
    they train together, as the ``draws`` outputs of one linear layer, which Adam keeps independent.
    """
    for what, activations, labels in (
        ("train", train_activations, train_labels),
        ("test", test_activations, test_labels),
    ):
        _checks.tensor(
            activations,
            "shuffled_label_accuracies",
            f"{what}_activations",
            dims=("n", "d_model"),
        )
        if (
            not isinstance(labels, Tensor)
            or labels.shape != activations.shape[:1]
            or not labels.is_floating_point()
        ):
            raise ValueError(
                f"shuffled_label_accuracies expected {what}_labels of 0.0 and 1.0, one per activation "
                f"(shape ({len(activations)},)), got {described(labels)}"
            )
    if train_activations.shape[1] != test_activations.shape[1]:
        raise ValueError(
            f"shuffled_label_accuracies expected train and test activations of one width, got "
            f"{train_activations.shape[1]} and {test_activations.shape[1]}"
        )
    _checks.integer(
        draws, "shuffled_label_accuracies", "draws", minimum=2
    )  # a baseline is a distribution
    for what, value, minimum in (("seed", seed, 0), ("steps", steps, 1)):
        _checks.integer(value, "shuffled_label_accuracies", what, minimum=minimum)
    generator = torch.Generator().manual_seed(seed)
    shuffled = torch.stack(
        [
            train_labels[torch.randperm(len(train_labels), generator=generator)]
            for _ in range(draws)
        ],
        dim=1,
    )
    seed_everything(seed)
    probe = nn.Linear(train_activations.shape[1], draws)  # one probe per output
    optimizer = torch.optim.Adam(probe.parameters(), lr=lr)
    for _ in range(steps):
        loss = F.binary_cross_entropy_with_logits(probe(train_activations), shuffled)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        accuracies = (
            ((probe(test_activations) > 0).float() == test_labels[:, None])
            .float()
            .mean(dim=0)
        )
    return Distribution(tuple(accuracies.tolist()))


def balanced_positions(
    positive: Tensor, negative: Tensor, *, seed: int
) -> tuple[Tensor, Tensor]:
    """As many positions from ``positive`` as from ``negative`` (boolean masks), drawn with ``seed``: (positions, 0/1 labels).

    Chance is then 50%, whatever the two classes' sizes.
    """
    for what, mask in (("positive", positive), ("negative", negative)):
        if not isinstance(mask, Tensor) or mask.dtype != torch.bool or mask.ndim != 1:
            raise ValueError(
                f"balanced_positions expected {what} to be a 1-D boolean mask, got {described(mask)}"
            )
    if positive.shape != negative.shape:
        raise ValueError(
            f"balanced_positions expected masks of one length, got {len(positive)} and {len(negative)}"
        )
    _checks.integer(seed, "balanced_positions", "seed", minimum=0)
    generator = torch.Generator().manual_seed(seed)
    ones, zeros = positive.nonzero().squeeze(1), negative.nonzero().squeeze(1)
    count = min(len(ones), len(zeros))
    if count == 0:
        raise ValueError(
            f"balanced_positions needs positions of both classes, got {len(ones)} positive and {len(zeros)} negative"
        )
    chosen = [
        positions[torch.randperm(len(positions), generator=generator)[:count]]
        for positions in (ones, zeros)
    ]
    return torch.cat(chosen), torch.cat([torch.ones(count), torch.zeros(count)])


def random_model_like(name: str, *, seed: int = 0) -> TransformerBridge:
    """A shipped model's shape, tokenizer and initialisation, with none of its training: the probes' first baseline."""
    from mi_course.training import new_native_model
    from mi_course.zoo import bridge_from_state_dict, make_tokenizer, model_card

    card = model_card(name)
    _checks.integer(seed, "random_model_like", "seed", minimum=0)
    if card.tokenizer.get("kind") == "gpt2" or "kind" in card.config:
        raise ValueError(
            f"random_model_like expected a shipped model of TransformerLens' native kind, got {name!r}"
        )
    state_dict = new_native_model(card.config, seed).state_dict()
    return bridge_from_state_dict(
        card.config,
        state_dict,
        make_tokenizer(card.tokenizer),
        device="cpu",
        model_name=f"{name} (random)",
    )
