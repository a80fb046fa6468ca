"""Success-criterion checkers, one per step, and the registry that ``python -m mi_course check`` runs."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import runpy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mi_course.checkers.report import CheckerInputError, CheckReport, CriterionResult
from mi_course.checkers.step1 import check_mnist_classifier, mnist_model_inputs
from mi_course.checkers.step2 import (
    check_attention,
    check_block,
    check_embed,
    check_layernorm,
    check_logits_match,
    check_mlp,
    check_pos_embed,
    check_transformer,
    check_unembed,
)


@dataclass(frozen=True)
class StepCheck:
    """A step's automated criteria: the page's solution snippet and how to check what it built."""

    title: str
    solution_module: str  # the solution snippet, as shipped in the package
    check: Callable[[dict[str, Any]], CheckReport]

    def solution_path(self) -> Path:
        spec = importlib.util.find_spec(self.solution_module)
        if spec is None or spec.origin is None:
            raise FileNotFoundError(f"solution snippet {self.solution_module} is not installed")
        return Path(spec.origin)

    def run(self, *, echo: bool = False) -> CheckReport:
        """Run the solution snippet as a script, then check the objects it built."""
        output = io.StringIO()
        with contextlib.redirect_stdout(None if echo else output):
            namespace = runpy.run_path(str(self.solution_path()), run_name="__main__")
        return self.check(namespace)


STEP_CHECKS: dict[str, StepCheck] = {
    "step1": StepCheck(
        title="Step 1: ML prerequisites (an MLP that solves MNIST)",
        solution_module="mi_course.snippets.step1.mnist_mlp",
        check=lambda ns: check_mnist_classifier(ns["model"], train_seconds=ns["train_seconds"]),
    ),
    "step2": StepCheck(
        title="Step 2: Understand transformers (a from-scratch GPT that matches the bridge's logits)",
        solution_module="mi_course.snippets.step2.logit_match",
        check=lambda ns: check_logits_match(ns["model"], ns["bridge"], ns["tokens"]),
    ),
}

__all__ = [
    "STEP_CHECKS",
    "CheckReport",
    "CheckerInputError",
    "CriterionResult",
    "StepCheck",
    "check_attention",
    "check_block",
    "check_embed",
    "check_layernorm",
    "check_logits_match",
    "check_mlp",
    "check_mnist_classifier",
    "check_pos_embed",
    "check_transformer",
    "check_unembed",
    "mnist_model_inputs",
]
