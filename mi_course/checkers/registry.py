"""The registry that ``python -m mi_course check`` runs: each step's criteria, solution and check.

A ``StepCheck`` names what a step's solution is (snippets run as scripts, or code the package
teaches) and the function that judges it. The parameters of that function are the names it reads:
each is a global that the solution snippets define or a taught object, passed under its own name,
so a solution that lacks one fails with a message that names it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import io
import runpy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from mi_course.checkers.attribution import check_logit_attribution
from mi_course.checkers.circuits import (
    check_copying_score,
    check_full_ov_circuit,
    check_k_composition_score,
)
from mi_course.checkers.components import check_logits_match
from mi_course.checkers.features import check_probe
from mi_course.checkers.induction import (
    check_head_detectors,
    check_induction_score,
    check_induction_score_hook,
)
from mi_course.checkers.interventions import (
    check_ablation_sweep,
    check_mean_ablation_hook,
    check_normalised_metric,
    check_patch_by_position,
)
from mi_course.checkers.ioi import (
    check_attribution_patching,
    check_ioi_metric,
    check_path_patch,
)
from mi_course.checkers.mnist import check_mnist_classifier
from mi_course.checkers.plotly import check_plotly_figures
from mi_course.checkers.report import CheckerInputError, CheckReport, CriterionResult
from mi_course.checkers.sae import check_sae_loss, check_trained_sae, train_with
from mi_course.checkers.sampling import check_sampling
from mi_course.checkers.training_loop import check_training_loop


@dataclass(frozen=True)
class StepCheck:
    """A step's automated criteria: what the course's solution is, and how to check it.

    A solution is either snippets that ``run`` runs as scripts (``solution_modules``), or code the
    package teaches (``taught``: the page's solution snippets include it from the package, so the
    check judges the package's own objects and runs no snippet), or both. Each of ``checks`` takes,
    by name, the globals of the snippets and the taught objects it judges: its parameters are the
    names it reads, so a learner's file (``run_file``) is checked one exercise at a time.
    """

    title: str
    criteria: tuple[str, ...]  # the page's success criteria, in words
    # solution snippets to run as scripts, as shipped in the package
    solution_modules: tuple[str, ...] = ()
    # empty: no code can judge the criteria
    checks: tuple[Callable[..., CheckReport], ...] = ()
    # "module:name" of each object of the package the checks judge, under its name
    taught: tuple[str, ...] = ()

    @property
    def automated(self) -> bool:
        return bool(self.checks)

    @property
    def reads(self) -> tuple[str, ...]:
        """The names the checks read, in order, each once."""
        return tuple(
            dict.fromkeys(name for check in self.checks for name in _reads(check))
        )

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

        The checks are given the names they read from the taught objects and what the snippets define.
        """
        if not self.checks:
            raise ValueError(
                f"{self.title} has no automated check; its criteria are self-assessed"
            )
        namespace: dict[str, Any] = self.taught_objects()
        with (
            contextlib.nullcontext()
            if echo
            else contextlib.redirect_stdout(io.StringIO())
        ):
            for path in self.solution_paths():
                namespace.update(runpy.run_path(str(path), run_name="__main__"))
        missing = [name for name in self.reads if name not in namespace]
        if missing:
            raise NameError(
                f"{self.title}: the check reads {', '.join(missing)}, which neither the solution "
                "snippets define nor the taught objects name"
            )
        return _joined(
            *(
                check(**{name: namespace[name] for name in _reads(check)})
                for check in self.checks
            )
        )

    def run_file(
        self, step: str, namespace: dict[str, Any]
    ) -> tuple[CheckReport | None, list[str]]:
        """Check what a learner's file defined (its globals, ``namespace``), one exercise at a time.

        Returns the report of each check whose names the file defines, joined (None if it defines
        none), and the names it does not define, whose checks did not run. A check refusing what
        it was given (``CheckerInputError``: say, a number where a function belongs) is a failure
        of ``step`` that quotes the refusal.
        """
        reports = []
        for check in self.checks:
            if all(name in namespace for name in _reads(check)):
                arguments = {name: namespace[name] for name in _reads(check)}
                try:
                    reports.append(check(**arguments))
                except CheckerInputError as refusal:
                    failure = CriterionResult(
                        ", ".join(arguments),
                        False,
                        str(refusal),
                        "it runs on the checker's inputs",
                    )
                    reports.append(CheckReport(step, (failure,)))
        missing = [name for name in self.reads if name not in namespace]
        return (_joined(*reports) if reports else None), missing


def _reads(check: Callable[..., CheckReport]) -> tuple[str, ...]:
    """The globals a check reads: its parameters' names."""
    return tuple(inspect.signature(check).parameters)


def _joined(*reports: CheckReport) -> CheckReport:
    """One report holding every result of ``reports``, in order, under the first one's step."""
    return CheckReport(
        reports[0].step, tuple(result for part in reports for result in part.results)
    )


# Checks whose parameter is not named after the global that the page's solution defines.


def _mnist_classifier(model: nn.Module, train_seconds: float) -> CheckReport:
    return check_mnist_classifier(model, train_seconds=train_seconds)


def _training_loop(train_demo_transformer: Callable) -> CheckReport:
    return check_training_loop(train_demo_transformer)


def _mean_ablation_hook(mean_ablation_hook: Callable) -> CheckReport:
    return check_mean_ablation_hook(mean_ablation_hook)


def _induction_score_hook(induction_score_hook: Callable) -> CheckReport:
    return check_induction_score_hook(induction_score_hook)


def _trained_sae(sae_loss: Callable) -> CheckReport:
    return check_trained_sae(*train_with(sae_loss))


STEP_CHECKS: dict[str, StepCheck] = {
    "step1": StepCheck(
        title="Step 1: ML prerequisites (an MLP that solves MNIST)",
        criteria=(
            "an MLP written and trained in PyTorch reaches at least 97% accuracy on MNIST's 10,000 test images",
            "the course's own bar: training takes at most 60 s on a 2-core CPU",
        ),
        solution_modules=("mi_course.snippets.step1.mnist_mlp",),
        checks=(_mnist_classifier,),
    ),
    "step2": StepCheck(
        title="Step 2: Understand transformers (a from-scratch GPT that matches the bridge's logits)",
        criteria=(
            "a GPT-style transformer written from scratch, holding the course model's weights, gives logits within 1e-4 "
            "of TransformerLens' (float32)",
            "your training loop and your top-k / top-p sampling match the course's reference",
        ),
        solution_modules=("mi_course.snippets.step2.logit_match",),
        # the page's solutions include these from the package (snippets/step2/training_loop_solution.py, top_k_top_p_solution.py)
        taught=(
            "mi_course.scratch:train_demo_transformer",
            "mi_course.sampling:next_token_probs",
            "mi_course.sampling:sample_next_token",
        ),
        checks=(check_logits_match, _training_loop, check_sampling),
    ),
    "step3": StepCheck(
        title="Step 3: MI tooling (the standard experiments, written by you)",
        criteria=(
            "work through Step 3's three pages, the plotting notebook and the walkthrough, "
            "and understand at least 80% of the solutions (self-assessed)",
            "your induction score, mean-ablation hook, head detectors, induction score in a hook, ablation sweep, "
            "activation patching, normalised metric and logit attribution match the course's reference",
            "your loss curves, scatter plot and heatmap, written in plain Plotly, have the traces, labels and scales asked for",
        ),
        # the page's solutions include these from the package (snippets/step3/*_solution.py)
        taught=(
            "mi_course.induction:induction_score",
            "mi_course.interventions:mean_ablation_hook",
            "mi_course.induction:previous_token_score",
            "mi_course.induction:duplicate_token_score",
            "mi_course.induction:first_token_score",
            "mi_course.induction:induction_score_hook",
            "mi_course.interventions:ablation_sweep",
            "mi_course.interventions:patch_by_position",
            "mi_course.interventions:normalised_metric",
            "mi_course.attribution:logit_attribution",
            "mi_course.plotly_exercises:loss_curves",
            "mi_course.plotly_exercises:head_scatter",
            "mi_course.plotly_exercises:attention_heatmap",
        ),
        checks=(
            check_induction_score,
            _mean_ablation_hook,
            check_head_detectors,
            _induction_score_hook,
            check_ablation_sweep,
            check_patch_by_position,
            check_normalised_metric,
            check_logit_attribution,
            check_plotly_figures,
        ),
    ),
    "step4": StepCheck(
        title="Step 4: Key concepts (a whirlwind tour of the field)",
        criteria=(
            "read the key concepts page and follow the gist of most of it (self-assessed)",
            "run each mini-demo and explain in a sentence what its numbers show (self-assessed)",
            "your full OV circuit, copying score, K-composition score and SAE loss match the course's reference "
            "within 1e-5",
        ),
        # the page's solutions include these from the package (snippets/step4/*_solution.py)
        taught=(
            "mi_course.circuits:full_ov_circuit",
            "mi_course.circuits:copying_score",
            "mi_course.circuits:k_composition_score",
            "mi_course.toy_models:sae_loss",
        ),
        checks=(
            check_full_ov_circuit,
            check_copying_score,
            check_k_composition_score,
            check_sae_loss,
            _trained_sae,
        ),
    ),
    "ioi": StepCheck(
        title="Build on a paper: the IOI circuit (its metric, path patching and attribution patching, written by you)",
        criteria=(
            "your IOI metric, path patching and attribution patching match the course's reference on gpt2-twin",
            "name the twin's circuit head by head from your own evidence, and say where it differs from GPT-2 small's "
            "as the paper reports it (self-assessed)",
        ),
        # the page's solutions include these from the package (snippets/ioi_circuit/*_solution.py)
        taught=(
            "mi_course.ioi:ioi_metric",
            "mi_course.path_patching:path_patch",
            "mi_course.attribution_patching:attribution_patch_heads",
        ),
        checks=(check_ioi_metric, check_path_patch, check_attribution_patching),
    ),
    "features": StepCheck(
        title="Features in a language model (a linear probe, written by you)",
        criteria=(
            "your probe's accuracy matches the course's reference, and your probe, one nn.Linear(d_model, 1) with a bias, trains "
            "to within 2 points of its held-out accuracy, its direction within cosine 0.8 of the reference's",
            "explain why a probe's accuracy needs a current-letter baseline, a shuffled-label baseline and a causal check "
            "against 20 random directions (self-assessed)",
        ),
        # the page's solution includes these from the package (snippets/features/probe_solution.py)
        taught=("mi_course.probes:train_probe", "mi_course.probes:probe_accuracy"),
        checks=(check_probe,),
    ),
}
