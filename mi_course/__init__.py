"""mi_course: the helper library of the mi-course mechanistic-interpretability course.

Each public name is introduced on a course page; its docstring's module says which.
"""

from mi_course.checkers import (
    CheckerInputError,
    CheckReport,
    check_mnist_classifier,
    mnist_model_inputs,
)
from mi_course.datasets import MnistData, MnistDataError, load_mnist
from mi_course.runtime import get_device, seed_everything

# The zoo imports TransformerLens (seconds); load it on first use so Step 1 stays quick to import.
_ZOO_NAMES = {"list_models", "load_model", "model_card"}


def __getattr__(name: str):
    if name in _ZOO_NAMES:
        from mi_course import zoo

        return getattr(zoo, name)
    raise AttributeError(f"module 'mi_course' has no attribute {name!r}")


__all__ = [
    "CheckReport",
    "CheckerInputError",
    "MnistData",
    "MnistDataError",
    "check_mnist_classifier",
    "get_device",
    "list_models",
    "load_mnist",
    "load_model",
    "model_card",
    "mnist_model_inputs",
    "seed_everything",
]
