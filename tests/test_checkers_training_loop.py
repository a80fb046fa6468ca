"""mi_course.checkers.training_loop: the training-loop checker passes the reference and equivalent loops,
names each plausible mistake, and refuses what it cannot check in one line.

The bad-input cases that tests/test_bad_input.py scans for are in tests/test_checkers.py.
"""

import contextlib
import io
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from mi_course import scratch
from mi_course.checkers import (
    CheckerInputError,
    check_training_loop,
)
from site_tools.pages import Snippet
from tests.models import as_shown

ROOT = Path(__file__).resolve().parents[1]


# --- the training loop: the checker passes the reference and rejects plausible mistakes ---------------


def training_loop(loss_of=None, zero_grad=True, step=True, record=lambda loss: loss.item()):
    def train(model, optimizer, batches):
        losses = []
        for tokens in batches:
            logits = model(tokens)
            loss = (loss_of or (lambda l, t: F.cross_entropy(l[:, :-1].transpose(1, 2), t[:, 1:])))(logits, tokens)
            if zero_grad:
                model.zero_grad()  # the model's zero_grad is as good as the optimizer's
            loss.backward()
            if step:
                optimizer.step()
            losses.append(record(loss))
        return losses

    return train


def test_training_checker_passes_the_reference_and_equivalent_loops():
    report = check_training_loop(scratch.train_demo_transformer)
    assert report.passed and "matches the reference over 5 SGD steps" in str(report), str(report)
    assert check_training_loop(training_loop()).passed  # transposed logits, model.zero_grad, a tensor per loss
    assert check_training_loop(training_loop(record=lambda loss: loss.detach())).passed


TRAINING_MISTAKES = [
    (
        training_loop(lambda l, t: F.cross_entropy(l.flatten(0, 1), t.flatten())),
        "you predict each token from its own position",
    ),
    (
        training_loop(lambda l, t: F.cross_entropy(l[:, 1:].flatten(0, 1), t[:, :-1].flatten())),
        "you shifted the wrong way",
    ),
    (training_loop(zero_grad=False), "call optimizer.zero_grad() before each loss.backward()"),
    (training_loop(step=False), "the weights never changed: call optimizer.step()"),
    (
        training_loop(lambda l, t: -l[:, :-1].log_softmax(dim=1).gather(-1, t[:, 1:, None]).mean()),
        "softmax over positions (dim 1)",
    ),
    (training_loop(lambda l, t: F.cross_entropy(l[:, :-1].transpose(1, 2), t[:, 1:], reduction="sum")), "don't sum it"),
]


@pytest.mark.parametrize("wrong, hint", TRAINING_MISTAKES, ids=[hint for _, hint in TRAINING_MISTAKES])
def test_training_checker_rejects_plausible_mistakes_with_a_hint(wrong, hint):
    report = check_training_loop(wrong)
    assert not report.passed and "\n" not in str(report) and hint in str(report), str(report)


def own_optimizer(model, optimizer, batches):
    return training_loop()(model, torch.optim.SGD(model.parameters(), lr=0.1), batches)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (
            training_loop(lambda l, t: F.cross_entropy(l[:, :-1], t[:, 1:])),
            r"raised RuntimeError: .*; F.cross_entropy takes logits \(N, d_vocab\)",
        ),
        (
            lambda model, optimizer, batches: 0.5,
            r"should return a list with the loss of each step \(5 floats\), got float",
        ),
        (lambda model, optimizer, batches: [1.0], "one loss per batch: 5 batches, 1 losses"),
        ("train", "check_training_loop expected your training function, got str"),
    ],
)
def test_training_checker_explains_what_it_cannot_check_in_one_line(wrong, message):
    with pytest.raises(CheckerInputError, match=message) as raised:
        check_training_loop(wrong)
    assert "\n" not in str(raised.value)


def test_training_checker_says_when_the_given_optimizer_is_unused():
    assert "the optimizer you were given never stepped" in str(check_training_loop(own_optimizer))


def test_training_loop_solution_passes_and_trains():
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(
            compile(Snippet("step2/training_loop_solution.py", ROOT).script, "training_loop_solution.py", "exec"),
            {"__name__": "__main__"},
        )
    lines = printed.getvalue().splitlines()
    assert lines[0].startswith("[step2] PASS  training loop") and lines[1].startswith("loss at step 0: 3.00"), lines
    assert float(lines[1].rsplit(": ", 1)[1]) < 0.5
    stub = io.StringIO()
    with contextlib.redirect_stdout(stub):
        exec(
            compile(Snippet("step2/training_loop_stub.py", ROOT).script, "training_loop_stub.py", "exec"),
            {"__name__": "__main__"},
        )
    assert stub.getvalue() == "your training loop raised NotImplementedError: fill in train_demo_transformer\n"
    assert Snippet("step2/training_loop_solution.py", ROOT).includes == ["mi_course/scratch.py:train-loop"]
    assert as_shown(scratch.train_demo_transformer) in Snippet("step2/training_loop_solution.py", ROOT).script
