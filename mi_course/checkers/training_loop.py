"""Checker of the training loop that ``mi_course.scratch.train_demo_transformer`` teaches.

Introduced on the page "Step 2: Understand transformers". Your loop and the reference each train
a copy of the same small random DemoTransformer with SGD on the same seeded batches; the loss of
every step and the final weights must agree, and when they do not, a common mistake that gives the
same losses or weights is named.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mi_course import _checks, scratch
from mi_course.checkers.harness import CHECK_SEED, check_callable, first_line, randomize
from mi_course.checkers.report import CheckerInputError, CheckReport, CriterionResult

TRAIN_ATOL = 1e-4
TRAIN_CONFIG = scratch.ScratchConfig(
    d_model=16, n_layers=1, n_heads=2, d_head=8, d_mlp=24, d_vocab=13, n_ctx=12
)
TRAIN_LR = 0.5  # plain SGD: a step is lr times the gradient, so every mistake moves the weights its own way
_TRAIN_BATCHES, _TRAIN_BATCH, _TRAIN_POS = (
    5,
    4,
    10,
)  # pos - 1 differs from batch and from d_vocab: a wrong axis cannot fit

Train = Callable[[nn.Module, torch.optim.Optimizer, list[Tensor]], list[float]]


class _CountingSGD(torch.optim.SGD):
    """SGD that counts its steps, so that the checker can tell a loop that never steps the optimizer it was given."""

    def __init__(self, params: Any, lr: float) -> None:
        super().__init__(params, lr=lr)
        self.steps = 0

    def step(self, closure: Any = None) -> Any:
        self.steps += 1
        return super().step(closure)


def check_training_loop(train: Train) -> CheckReport:
    """Check ``train(model, optimizer, batches) -> losses``: one step of next-token prediction per batch.

    Your loop and the reference (``mi_course.scratch.train_demo_transformer``) each train a copy of
    the same small random DemoTransformer with SGD (lr 0.5) on the same 5 batches of seeded random
    tokens; the loss of every step and the final weights must agree within 1e-4.
    """
    check_callable(train, "check_training_loop", "your training function")
    generator = torch.Generator().manual_seed(CHECK_SEED)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(CHECK_SEED)
        start = scratch.DemoTransformer(TRAIN_CONFIG)
    randomize(start, generator)
    batches = [
        torch.randint(
            0, TRAIN_CONFIG.d_vocab, (_TRAIN_BATCH, _TRAIN_POS), generator=generator
        )
        for _ in range(_TRAIN_BATCHES)
    ]
    expected_losses, expected_weights, _ = _train_copy(
        scratch.train_demo_transformer, start, batches
    )
    losses, weights, steps = _train_copy(train, start, batches, learner=True)
    loss_difference = max(abs(a - b) for a, b in zip(losses, expected_losses))
    weight_difference = _max_difference(weights, expected_weights)
    criterion = f"losses and final weights within {TRAIN_ATOL:.0e} of the reference"
    setting = f"{_TRAIN_BATCHES} SGD steps on batches of {_TRAIN_BATCH} x {_TRAIN_POS} random tokens"
    if (
        loss_difference <= TRAIN_ATOL and weight_difference <= TRAIN_ATOL
    ):  # False for nan
        measured = f"matches the reference over {setting}: losses {expected_losses[0]:.3f} -> {expected_losses[-1]:.3f}"
        return CheckReport(
            "step2", (CriterionResult("training loop", True, measured, criterion),)
        )
    hint = _training_hint(losses, weights, steps, start, batches)
    measured = (
        f"over {setting}, losses differ from the reference by up to {loss_difference:#.2g} and the final weights "
        f"by {weight_difference:#.2g}; {hint}"
    )
    return CheckReport(
        "step2", (CriterionResult("training loop", False, measured, criterion),)
    )


def _train_copy(
    train: Train, start: nn.Module, batches: list[Tensor], learner: bool = False
) -> tuple[list[float], dict[str, Tensor], int]:
    """Train a copy of ``start``: its losses, its final weights, and how often it stepped its optimizer."""
    model = copy.deepcopy(start).train()
    optimizer = _CountingSGD(model.parameters(), lr=TRAIN_LR)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(CHECK_SEED)
        try:
            losses = train(model, optimizer, [tokens.clone() for tokens in batches])
        except Exception as error:
            if not learner:
                raise
            raise CheckerInputError(
                f"your training loop raised {type(error).__name__}: {first_line(error, empty='(no message)')}{_training_error_hint(error)}"
            ) from error
    if learner:
        losses = _as_losses(losses, len(batches))
    weights = {
        name: parameter.detach().clone() for name, parameter in model.named_parameters()
    }
    return losses, weights, optimizer.steps


def _training_error_hint(error: Exception) -> str:
    text = str(error)
    if "size" in text and ("target" in text.lower() or "batch_size" in text):
        return (
            "; F.cross_entropy takes logits (N, d_vocab) and targets (N,): flatten batch and pos of logits[:, :-1] "
            "and tokens[:, 1:] (or put d_vocab on dim 1)"
        )
    if "does not require grad" in text:
        return "; the loss has no graph to backpropagate through: compute it from the model's logits, outside torch.no_grad()"
    return ""


def _as_losses(losses: object, n: int) -> list[float]:
    """The learner's losses as floats: a list (or tuple, or 1-D tensor) of numbers or one-element tensors, one per batch."""
    if isinstance(losses, Tensor) and losses.ndim == 1:
        losses = losses.tolist()
    if not isinstance(losses, (list, tuple)):
        raise CheckerInputError(
            f"your training loop should return a list with the loss of each step ({n} floats), "
            f"got {_checks.described(losses)}"
        )
    if len(losses) != n:
        raise CheckerInputError(
            f"your training loop should return one loss per batch: {n} batches, {len(losses)} losses"
        )
    values = []
    for loss in losses:
        if isinstance(loss, Tensor) and loss.numel() == 1:
            loss = loss.item()
        if not isinstance(loss, (int, float)) or isinstance(loss, bool):
            raise CheckerInputError(
                f"your training loop should return the losses as numbers (loss.item()), got {_checks.described(loss)}"
            )
        values.append(float(loss))
    return values


def _max_difference(weights: dict[str, Tensor], others: dict[str, Tensor]) -> float:
    return max((weights[name] - others[name]).abs().max().item() for name in others)


def _training_hint(
    losses: list[float],
    weights: dict[str, Tensor],
    steps: int,
    start: nn.Module,
    batches: list[Tensor],
) -> str:
    if not all(math.isfinite(loss) for loss in losses):
        return "a loss is nan or inf: is the learning rate the optimizer's, and the loss a mean over the positions?"
    initial = {name: parameter.detach() for name, parameter in start.named_parameters()}
    if _max_difference(weights, initial) == 0:
        if steps == 0:
            return "the weights never changed: call optimizer.step() after loss.backward(), once per batch"
        return (
            "the weights never changed, though you called optimizer.step(): call loss.backward() before it, and "
            "optimizer.zero_grad() before backward, not between backward and step"
        )
    if steps == 0:
        return "the optimizer you were given never stepped: use it (optimizer.step()), don't build another"
    for mistake, hint in _TRAINING_MISTAKES:
        wrong_losses, wrong_weights, _ = _train_copy(mistake, start, batches)
        # the losses alone, relative as well as absolute: a loop that sums the loss diverges, and two ways of
        # writing it then agree on the weights only roughly, on the losses to 1e-3
        if all(
            abs(a - b) <= TRAIN_ATOL + 1e-3 * abs(b)
            for a, b in zip(losses, wrong_losses)
        ):
            return hint
    return (
        "for each batch: logits = model(tokens); the cross-entropy of logits[:, :-1] against tokens[:, 1:]; "
        "optimizer.zero_grad(); loss.backward(); optimizer.step(); record loss.item()"
    )


def _loop(loss_of: Callable[[Tensor, Tensor], Tensor], zero_grad: bool = True) -> Train:
    """A training loop like the reference's, with the loss computed by ``loss_of(logits, tokens)``."""

    def train(
        model: nn.Module, optimizer: torch.optim.Optimizer, batches: list[Tensor]
    ) -> list[float]:
        losses = []
        for tokens in batches:
            loss = loss_of(model(tokens), tokens)
            if zero_grad:
                optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        return losses

    return train


def _next_token_loss(logits: Tensor, tokens: Tensor) -> Tensor:
    return F.cross_entropy(logits[:, :-1].flatten(0, 1), tokens[:, 1:].flatten())


_TRAINING_MISTAKES: list[tuple[Train, str]] = [
    (
        _loop(
            lambda logits, tokens: F.cross_entropy(
                logits.flatten(0, 1), tokens.flatten()
            )
        ),
        "you predict each token from its own position: the logits at position p predict the next token, so compare "
        "logits[:, :-1] with tokens[:, 1:]",
    ),
    (
        _loop(
            lambda logits, tokens: F.cross_entropy(
                logits[:, 1:].flatten(0, 1), tokens[:, :-1].flatten()
            )
        ),
        "you shifted the wrong way: the logits at position p predict token p + 1, logits[:, :-1] against tokens[:, 1:]",
    ),
    (
        _loop(_next_token_loss, zero_grad=False),
        "call optimizer.zero_grad() before each loss.backward(): without it, each step's gradients add to all the earlier ones",
    ),
    (
        _loop(
            lambda logits, tokens: (
                -logits[:, :-1]
                .log_softmax(dim=1)
                .gather(-1, tokens[:, 1:, None])
                .mean()
            )
        ),
        "you took the softmax over positions (dim 1): the probabilities are over the vocabulary, the last axis",
    ),
    (
        _loop(
            lambda logits, tokens: F.cross_entropy(
                logits[:, :-1].flatten(0, 1), tokens[:, 1:].flatten(), reduction="sum"
            )
        ),
        "average the loss over the batch and the positions (cross_entropy's default reduction='mean'), don't sum it",
    ),
    (
        _loop(
            lambda logits, tokens: (
                F.cross_entropy(logits[:, :-1].flatten(0, 1), tokens[:, 1:].flatten())
                * logits.shape[0]
            )
        ),
        "the loss is already a mean over the batch and positions: don't scale it by the batch size",
    ),
]
