"""mi_course.checkers.mnist: the Step 1 checker passes a model exactly when it reaches 97%, and explains a model it cannot check."""

import pytest
import torch
from torch import nn

from mi_course import CheckerInputError, MnistData, check_mnist_classifier, mnist_model_inputs

N_TEST = 10_000


class ReadsLabelFromPixel(nn.Module):
    """A 'model' that predicts the digit written into pixel (0, 0): its accuracy is whatever we make it."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(255.0))

    def forward(self, images):
        predicted = (images[:, 0, 0] * self.scale).round().long().clamp(0, 9)
        return nn.functional.one_hot(predicted, 10).float()


def data_where_model_is_right(n_right: int) -> MnistData:
    labels = torch.arange(N_TEST) % 10
    images = torch.zeros(N_TEST, 28, 28, dtype=torch.uint8)
    images[:, 0, 0] = labels.to(torch.uint8)
    images[n_right:, 0, 0] = ((labels[n_right:] + 1) % 10).to(torch.uint8)  # wrong digit
    empty = torch.zeros(0, 28, 28, dtype=torch.uint8)
    return MnistData(empty, torch.zeros(0, dtype=torch.int64), images, labels)


@pytest.mark.parametrize(("n_right", "passed"), [(9_700, True), (9_699, False), (10_000, True), (1_000, False)])
def test_accuracy_criterion_is_at_least_97_percent(n_right, passed):
    report = check_mnist_classifier(ReadsLabelFromPixel(), data=data_where_model_is_right(n_right))
    assert report.passed is passed
    assert f"{n_right / N_TEST:.1%}" in str(report)
    assert str(report).startswith("[step1] PASS" if passed else "[step1] FAIL")


def test_an_untrained_mlp_fails():
    torch.manual_seed(0)
    untrained = nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))
    report = check_mnist_classifier(untrained)
    assert not report.passed and "FAIL  test accuracy" in str(report)


@pytest.mark.parametrize(("seconds", "passed"), [(60.0, True), (61.0, False)])
def test_training_time_criterion(seconds, passed):
    report = check_mnist_classifier(
        ReadsLabelFromPixel(), data=data_where_model_is_right(N_TEST), train_seconds=seconds
    )
    assert report.results[1].name == "training time" and report.results[1].passed is passed
    assert report.passed is passed


def test_checker_leaves_the_model_in_training_mode_if_it_was():
    model = ReadsLabelFromPixel().train()
    check_mnist_classifier(model, data=data_where_model_is_right(N_TEST))
    assert model.training


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (nn.Linear(784, 10), r"expected a model taking float32 images of shape \(batch, 28, 28\).*mat1 and mat2"),
        (nn.Sequential(nn.Flatten(), nn.Linear(784, 5)), r"expected logits of shape \(batch, 10\), got \(2, 5\)"),
        (nn.Sequential(nn.Flatten(), nn.Linear(784, 10)).double(), r"expected float32 parameters, got torch.float64"),
        (
            nn.Sequential(nn.Flatten(), nn.Linear(784, 10, device="meta")),
            r"expected the model on (cpu|cuda).*got '1.weight' on meta",
        ),
        (nn.Flatten(), r"expected a model with trainable parameters"),
        ("not a model", r"expected a torch.nn.Module, got str"),
    ],
    ids=["wrong input shape", "wrong output shape", "wrong dtype", "other device", "no parameters", "not a module"],
)
def test_bad_models_get_a_one_line_explanation(model, message):
    with pytest.raises(CheckerInputError, match=message) as error:
        check_mnist_classifier(model, data=data_where_model_is_right(N_TEST))
    assert "\n" not in str(error.value)


def test_model_inputs_refuse_float_images():
    with pytest.raises(CheckerInputError, match=r"expected uint8 images of shape \(n, 28, 28\)"):
        mnist_model_inputs(torch.zeros(2, 28, 28))
