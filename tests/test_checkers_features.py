"""mi_course.checkers.features: the probe checker passes the course's probe and a learner's own correct ones, and
names each plausible mistake.

The functions it checks are tested in tests/test_probes.py; the bad-input cases of the checker that
tests/test_bad_input.py scans for are in tests/test_checkers.py.
"""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mi_course import probes
from mi_course.checkers.features import check_probe


def test_the_courses_probe_passes_its_checker():
    report = check_probe(probes.train_probe, probes.probe_accuracy)
    assert report.passed, str(report)


def accuracy_variant(rule):
    @torch.no_grad()
    def probe_accuracy(probe, activations, labels):
        return (rule(probe(activations).squeeze(-1)).float() == labels).float().mean().item()

    return probe_accuracy


def training_variant(
    bias=True, step=True, flip=False, seed_offset=0, optimizer=torch.optim.Adam, lr=0.01, hidden=None, steps=500
):
    def train_probe(activations, labels, *, steps=steps, lr=lr, seed=0):
        torch.manual_seed(seed + seed_offset)
        if hidden is None:
            probe = nn.Linear(activations.shape[1], 1, bias=bias)
        else:  # a two-layer MLP: not a probe, whatever it scores
            probe = nn.Sequential(nn.Linear(activations.shape[1], hidden), nn.ReLU(), nn.Linear(hidden, 1))
        optimizer_ = optimizer(probe.parameters(), lr=lr)
        targets = 1 - labels if flip else labels
        for _ in range(steps):
            loss = F.binary_cross_entropy_with_logits(probe(activations).squeeze(-1), targets)
            optimizer_.zero_grad()
            loss.backward()
            if step:
                optimizer_.step()
        return probe

    return train_probe


class SigmoidProbe(nn.Module):
    """A linear layer with a sigmoid after it: its output is a probability, not the logit the exercise asks for."""

    def __init__(self, linear):
        super().__init__()
        self.linear = linear

    def forward(self, x):
        return self.linear(x).sigmoid()


@pytest.mark.parametrize(
    ("train", "accuracy", "hint"),
    [
        (probes.train_probe, accuracy_variant(lambda logits: logits > 0.5), "you compared the logit with 0.5"),
        (
            probes.train_probe,
            accuracy_variant(lambda logits: logits.sigmoid() > 0),
            "every prediction is the same class",
        ),
        (training_variant(step=False), probes.probe_accuracy, "as if it had not trained"),
        (training_variant(flip=True), probes.probe_accuracy, "it learned the labels the wrong way round"),
        # Wrong answers that score as well as the reference: a non-linear probe, and one without a bias.
        (
            training_variant(hidden=32, steps=200),
            probes.probe_accuracy,
            "your probe has 2 linear layers: a probe must be linear",
        ),
        (training_variant(bias=False), probes.probe_accuracy, "it has no bias, so it cannot set its threshold"),
        (
            lambda x, y: SigmoidProbe(probes.train_probe(x, y)),
            probes.probe_accuracy,
            "your probe's output is not its linear layer's logit",
        ),
        (lambda x, y: nn.Linear(x.shape[1], 2), probes.probe_accuracy, "the exercise's is nn.Linear(128, 1)"),
        (training_variant(lr=0.001), probes.probe_accuracy, "it reads another direction than the reference"),
    ],
)
def test_the_probe_checker_names_each_mistake(train, accuracy, hint):
    report = check_probe(train, accuracy)
    assert not report.passed and hint in str(report), str(report)


def test_an_mlp_probe_scores_as_well_as_the_reference_so_only_its_shape_rejects_it():
    from mi_course.checkers.features import _case

    train_x, train_y, test_x, test_y = _case()
    mlp = training_variant(hidden=32, steps=200)(train_x, train_y)
    assert (
        probes.probe_accuracy(mlp, test_x, test_y)
        >= probes.probe_accuracy(probes.train_probe(train_x, train_y), test_x, test_y) - 0.02
    )


@pytest.mark.parametrize(
    "variant",
    [
        dict(),
        dict(seed_offset=1),
        dict(seed_offset=2),
        dict(optimizer=torch.optim.AdamW),
        dict(optimizer=torch.optim.SGD, lr=0.1, steps=2000),
    ],
    ids=["own", "seed 1", "seed 2", "adamw", "sgd"],
)
def test_a_learners_own_correct_probe_passes(variant):
    report = check_probe(training_variant(**variant), accuracy_variant(lambda logits: logits > 0))
    assert report.passed, str(report)
