"""Checker of Step 1's exercise: an MNIST classifier written and trained in PyTorch.

Introduced on the page "Step 1: ML prerequisites". It runs your model on MNIST's 10,000 test
images, in the input format ``mnist_model_inputs`` gives, and checks its accuracy and how long its
training took against the course's bars.
"""

from __future__ import annotations

import torch
from torch import nn

from mi_course import _checks
from mi_course.checkers.harness import as_checker_input_error, first_line
from mi_course.checkers.report import CheckerInputError, CheckReport, CriterionResult
from mi_course.datasets import MnistData, load_mnist
from mi_course.runtime import get_device

MIN_TEST_ACCURACY = 0.97
MAX_TRAIN_SECONDS = 60.0
_IMAGE_SHAPE = (28, 28)
_N_CLASSES = 10


def mnist_model_inputs(images: torch.Tensor) -> torch.Tensor:
    """Turn uint8 MNIST images (n, 28, 28) into the float32 model inputs in [0, 1] the checker feeds."""
    if (
        not isinstance(images, torch.Tensor)
        or images.dtype != torch.uint8
        or tuple(images.shape[1:]) != _IMAGE_SHAPE
    ):
        raise CheckerInputError(
            f"mnist_model_inputs expected uint8 images of shape (n, 28, 28), got {_checks.described(images)}"
        )
    return images.float() / 255


def check_mnist_classifier(
    model: nn.Module,
    *,
    train_seconds: float | None = None,
    data: MnistData | None = None,
    batch_size: int = 1000,
) -> CheckReport:
    """Check Step 1's criterion: test accuracy >= 97% on MNIST's 10,000 test digits.

    ``model`` maps float32 images of shape (batch, 28, 28), pixels in [0, 1], to logits of
    shape (batch, 10), and sits on ``get_device()``. Pass ``train_seconds`` to also check that
    training took at most 60 s.
    """
    with as_checker_input_error():
        _checks.integer(batch_size, "check_mnist_classifier", "batch_size", minimum=1)
        if train_seconds is not None:
            _checks.number(
                train_seconds, "check_mnist_classifier", "train_seconds", minimum=0
            )
        if data is not None:
            _checks.instance(data, MnistData, "check_mnist_classifier", "data")
    device = _validate_classifier(model)
    data = data if data is not None else load_mnist()
    was_training = model.training
    model.eval()
    correct = 0
    with torch.inference_mode():
        for start in range(0, len(data.test_labels), batch_size):
            images = mnist_model_inputs(
                data.test_images[start : start + batch_size]
            ).to(device)
            labels = data.test_labels[start : start + batch_size].to(device)
            correct += (model(images).argmax(dim=-1) == labels).sum().item()
    model.train(was_training)
    accuracy = correct / len(data.test_labels)
    results = [
        CriterionResult(
            name="test accuracy",
            passed=accuracy >= MIN_TEST_ACCURACY,
            measured=f"{accuracy:.1%} on {len(data.test_labels):,} test images",  # 0.1%: last digits differ between CPUs
            criterion=f">= {MIN_TEST_ACCURACY:.0%}",
        )
    ]
    if train_seconds is not None:
        results.append(
            CriterionResult(
                name="training time",
                passed=train_seconds <= MAX_TRAIN_SECONDS,
                measured=f"{train_seconds:.1f} s",
                criterion=f"<= {MAX_TRAIN_SECONDS:.0f} s",
            )
        )
    return CheckReport(step="step1", results=tuple(results))


def _validate_classifier(model: nn.Module) -> torch.device:
    """Probe ``model`` on a tiny batch; raise a one-line CheckerInputError if it cannot be checked."""
    if not isinstance(model, nn.Module):
        raise CheckerInputError(
            f"expected a torch.nn.Module, got {type(model).__name__}"
        )
    expected_device = get_device()
    parameters = list(model.parameters())
    if not parameters:
        raise CheckerInputError(
            "expected a model with trainable parameters, got one with none"
        )
    for name, parameter in model.named_parameters():
        if parameter.dtype != torch.float32:
            raise CheckerInputError(
                f"expected float32 parameters, got {parameter.dtype} for {name!r}; call model.float()"
            )
        if parameter.device.type != expected_device.type:
            raise CheckerInputError(
                f"expected the model on {expected_device.type} (mi_course.get_device()), got {name!r} "
                f"on {parameter.device.type}; call model.to(get_device())"
            )
    probe = torch.zeros(2, *_IMAGE_SHAPE, device=parameters[0].device)
    try:
        with torch.inference_mode():
            logits = model(probe)
    except (
        Exception
    ) as error:  # any failure here means the model's input contract differs
        raise CheckerInputError(
            f"expected a model taking float32 images of shape (batch, 28, 28); on a (2, 28, 28) "
            f"batch it raised {type(error).__name__}: {first_line(error, empty=type(error).__name__)}"
        ) from error
    if not isinstance(logits, torch.Tensor) or tuple(logits.shape) != (2, _N_CLASSES):
        got = (
            tuple(logits.shape)
            if isinstance(logits, torch.Tensor)
            else type(logits).__name__
        )
        raise CheckerInputError(
            f"expected logits of shape (batch, 10), got {got} for a batch of 2"
        )
    return parameters[0].device
