"""The checker of the features page's probe exercise: logistic regression on shakespeare-char's residual stream.

Introduced on the page "Features in a language model". ``probe_accuracy`` must match the
reference exactly on the reference probe and on random ones; ``train_probe`` must fit a probe whose
held-out accuracy is within ``ACCURACY_MARGIN`` of the reference's, on capitals inside and outside
speakers' names.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
from torch import Tensor, nn

from mi_course import probes
from mi_course.checkers.report import CheckerInputError, CheckReport, CriterionResult
from mi_course.checkers.step3 import _check_callable, _shipped

ACCURACY_MARGIN = 0.02  # how far below the reference probe's held-out accuracy a learner's may be
HOOK = "blocks.2.hook_resid_pre"


@functools.cache
def _case() -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Training and held-out activations of shakespeare-char at ``HOOK``, with balanced labels (computed once per process)."""
    from mi_course.residual_sae import residual_activations
    from mi_course.text_labels import speaker_name, text_windows, uppercase

    model = _shipped("shakespeare-char")
    data = []
    for split, windows, seed in (("training", 300, 0), ("held-out", 150, 1)):
        tokens, text = text_windows(split, windows)
        positions, labels = probes.balanced_positions(uppercase(text) & speaker_name(text), uppercase(text) & ~speaker_name(text), seed=seed)
        data += [residual_activations(model, tokens, HOOK)[positions], labels]
    return tuple(data)


def check_probe(train_probe: Callable[..., nn.Module], probe_accuracy: Callable[..., float]) -> CheckReport:
    """Check ``probe_accuracy(probe, activations, labels)``, then ``train_probe(activations, labels)`` by what its probe scores."""
    _check_callable(train_probe, "check_probe", "your train_probe function")
    _check_callable(probe_accuracy, "check_probe", "your probe_accuracy function")
    train_x, train_y, test_x, test_y = _case()
    reference_probe = probes.train_probe(train_x, train_y)
    generator = torch.Generator().manual_seed(0)
    candidates = [reference_probe, *(_random_probe(train_x.shape[1], generator) for _ in range(2))]
    results = []
    for index, probe in enumerate(candidates):
        expected = probes.probe_accuracy(probe, test_x, test_y)
        got = _accuracy(probe_accuracy, probe, test_x, test_y)
        if abs(got - expected) > 1e-6:
            hint = next((text for value, text in _accuracy_mistakes(probe, test_x, test_y) if abs(got - value) <= 1e-6),
                        "predict 1 where the probe's logit is above 0, and count the share of predictions equal to the labels")
            which = "the reference probe" if index == 0 else "a random probe"
            results.append(CriterionResult("probe_accuracy", False, f"on {which}, you got {got:.4f} and the reference {expected:.4f}: {hint}",
                                           "the same share within 1e-6"))
            break
    else:
        results.append(CriterionResult("probe_accuracy", True, f"matches the reference on {len(candidates)} probes", "the same share within 1e-6"))
    reference = probes.probe_accuracy(reference_probe, test_x, test_y)
    try:
        probe = train_probe(train_x.clone(), train_y.clone())
    except Exception as error:
        raise CheckerInputError(f"train_probe raised {type(error).__name__}: {error}") from error
    if not isinstance(probe, nn.Module):
        raise CheckerInputError(f"train_probe should return the probe, an nn.Linear(d_model, 1), got {type(probe).__name__}")
    scored = _accuracy(probes.probe_accuracy, probe, test_x, test_y)
    passed = scored >= reference - ACCURACY_MARGIN
    measured = f"your probe scores {scored:.1%} on held-out capitals, the reference {reference:.1%}"
    if not passed:
        measured += ": " + _training_hint(probe, scored)
    results.append(CriterionResult("train_probe", passed, measured, f"at least the reference's accuracy - {ACCURACY_MARGIN:.0%}"))
    return CheckReport("features", tuple(results))


def _accuracy(probe_accuracy: Callable[..., float], probe: nn.Module, activations: Tensor, labels: Tensor) -> float:
    try:
        with torch.no_grad():
            return float(probe_accuracy(probe, activations.clone(), labels.clone()))
    except Exception as error:
        raise CheckerInputError(f"probe_accuracy raised {type(error).__name__}: {error}; it should return a number") from error


def _random_probe(d_model: int, generator: torch.Generator) -> nn.Linear:
    probe = nn.Linear(d_model, 1)
    with torch.no_grad():
        probe.weight.copy_(torch.randn(probe.weight.shape, generator=generator) * 0.1)
        probe.bias.copy_(torch.randn(1, generator=generator))
    return probe


@torch.no_grad()
def _accuracy_mistakes(probe: nn.Module, activations: Tensor, labels: Tensor) -> list[tuple[float, str]]:
    logits = probe(activations).squeeze(-1)
    share = lambda predictions: (predictions.float() == labels).float().mean().item()  # noqa: E731
    return [
        (share(logits > 0.5), "you compared the logit with 0.5: a logit is above 0 where the probability is above 0.5"),
        *((share(always), "every prediction is the same class: argmax over one output is always 0, and a sigmoid is always above 0; "
                          "compare the single logit with 0") for always in (probe(activations).argmax(dim=-1), logits.sigmoid() > 0)),
    ]


def _training_hint(probe: nn.Module, scored: float) -> str:
    linear = next((module for module in probe.modules() if isinstance(module, nn.Linear)), None)
    if scored < 0.45:
        return "it scores below chance, so it learned the labels the wrong way round: is each label 1 where the property holds?"
    if linear is not None and linear.bias is None:
        return "it has no bias, so it cannot set its threshold: use nn.Linear(d_model, 1) with its bias"
    if scored < 0.55:
        return "it scores about chance, as if it had not trained: call optimizer.zero_grad(), loss.backward() and optimizer.step() each step"
    return "train longer, or with the reference's steps and learning rate, on the binary cross-entropy of the logits"
