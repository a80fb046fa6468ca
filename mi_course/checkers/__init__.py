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
from mi_course.checkers.step3 import check_induction_score, check_mean_ablation_hook


@dataclass(frozen=True)
class StepCheck:
    """A step's automated criteria: what the course's solution is, and how to check it.

    A solution is either snippets that ``run`` runs as scripts (``solution_modules``), or code the
    package teaches (``taught``: the page's solution snippets include it from the package, so the
    check judges the package's own objects and runs no snippet), or both.
    """

    title: str
    criteria: tuple[str, ...]  # the page's success criteria, in words
    solution_modules: tuple[str, ...] = ()  # solution snippets to run as scripts, as shipped in the package
    check: Callable[[dict[str, Any]], CheckReport] | None = None  # None: no code can judge the criteria
    taught: tuple[str, ...] = ()  # "module:name" of each object of the package the check judges, under its name

    @property
    def automated(self) -> bool:
        return self.check is not None

    def solution_paths(self) -> list[Path]:
        """The solution snippets that ``run`` runs as scripts."""
        paths = []
        for module in self.solution_modules:
            spec = importlib.util.find_spec(module)
            if spec is None or spec.origin is None:
                raise FileNotFoundError(f"solution snippet {module} is not installed")
            paths.append(Path(spec.origin))
        return paths

    def taught_objects(self) -> dict[str, Any]:
        """The package's objects that ``taught`` names, each under its own name."""
        objects = {}
        for target in self.taught:
            module, _, name = target.partition(":")
            objects[name] = getattr(importlib.import_module(module), name)
        return objects

    def sources(self) -> list[Path]:
        """The files whose text the check's output depends on: its solution snippets, then the modules of its taught code."""
        modules = dict.fromkeys(target.partition(":")[0] for target in self.taught)
        paths = []
        for module in modules:
            origin = importlib.import_module(module).__file__
            if origin is None:
                raise FileNotFoundError(f"module {module} has no source file")
            paths.append(Path(origin))
        return [*self.solution_paths(), *paths]

    def run(self, *, echo: bool = False) -> CheckReport:
        """Run the solution snippets as scripts (showing what they print if ``echo``), then check what they built.

        The taught objects are in the namespace the check reads, beside what the snippets define.
        """
        if self.check is None:
            raise ValueError(f"{self.title} has no automated check; its criteria are self-assessed")
        namespace: dict[str, Any] = self.taught_objects()
        with contextlib.nullcontext() if echo else contextlib.redirect_stdout(io.StringIO()):
            for path in self.solution_paths():
                namespace.update(runpy.run_path(str(path), run_name="__main__"))
        return self.check(namespace)


STEP_CHECKS: dict[str, StepCheck] = {
    "step1": StepCheck(
        title="Step 1: ML prerequisites (an MLP that solves MNIST)",
        criteria=("an MLP written and trained in PyTorch reaches at least 97% accuracy on MNIST's 10,000 test images",
                  "the course's own bar: training takes at most 60 s on a 2-core CPU"),
        solution_modules=("mi_course.snippets.step1.mnist_mlp",),
        check=lambda ns: check_mnist_classifier(ns["model"], train_seconds=ns["train_seconds"]),
    ),
    "step2": StepCheck(
        title="Step 2: Understand transformers (a from-scratch GPT that matches the bridge's logits)",
        criteria=("a GPT-style transformer written from scratch, holding the course model's weights, gives logits within 1e-4 "
                  "of TransformerLens' (float32)",),
        solution_modules=("mi_course.snippets.step2.logit_match",),
        check=lambda ns: check_logits_match(ns["model"], ns["bridge"]),
    ),
    "step3": StepCheck(
        title="Step 3: MI tooling (an induction score and a mean-ablation hook)",
        criteria=("work through the page and the walkthrough, and understand at least 80% of the solutions (self-assessed)",
                  "your induction score and mean-ablation hook match the course's reference within 1e-5"),
        # the page's solutions include these from the package (snippets/step3/*_solution.py)
        taught=("mi_course.induction:induction_score", "mi_course.interventions:mean_ablation_hook"),
        check=lambda ns: CheckReport("step3", check_induction_score(ns["induction_score"]).results
                                     + check_mean_ablation_hook(ns["mean_ablation_hook"]).results),
    ),
    "step4": StepCheck(
        title="Step 4: Key concepts (a whirlwind tour of the field)",
        criteria=("read the key concepts page and follow the gist of most of it (self-assessed)",
                  "run each mini-demo and explain in a sentence what its numbers show (self-assessed)"),
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
    "check_induction_score",
    "check_layernorm",
    "check_logits_match",
    "check_mean_ablation_hook",
    "check_mlp",
    "check_mnist_classifier",
    "check_pos_embed",
    "check_transformer",
    "check_unembed",
    "mnist_model_inputs",
]
