"""mi_course: the helper library of the mi-course mechanistic-interpretability course.

Each public name is introduced on a course page; its docstring's module says which.
"""

from mi_course.checkers import CheckerInputError, CheckReport, check_mnist_classifier, mnist_model_inputs
from mi_course.datasets import MnistData, MnistDataError, load_mnist
from mi_course.runtime import get_device, seed_everything

__all__ = [
    "CheckReport",
    "CheckerInputError",
    "MnistData",
    "MnistDataError",
    "check_mnist_classifier",
    "get_device",
    "load_mnist",
    "mnist_model_inputs",
    "seed_everything",
]
