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

from mi_course.checkers.features import check_probe
from mi_course.checkers.ioi import (
    check_attribution_patching,
    check_ioi_metric,
    check_path_patch,
)
from mi_course.checkers.plotly import check_plotly_figures
from mi_course.checkers.report import CheckerInputError, CheckReport, CriterionResult
from mi_course.checkers.sae import check_sae_loss, check_trained_sae, train_with
from mi_course.checkers.step1 import check_mnist_classifier, mnist_model_inputs
from mi_course.checkers.step2 import (
    check_attention,
    check_block,
    check_embed,
    check_layernorm,
    check_logits_match,
    check_mlp,
    check_pos_embed,
    check_sampling,
    check_training_loop,
    check_transformer,
    check_unembed,
)
from mi_course.checkers.step3 import (
    check_ablation_sweep,
    check_head_detectors,
    check_induction_score,
    check_induction_score_hook,
    check_logit_attribution,
    check_mean_ablation_hook,
    check_normalised_metric,
    check_patch_by_position,
)
from mi_course.checkers.step4 import (
    check_copying_score,
    check_full_ov_circuit,
    check_k_composition_score,
)


@dataclass(frozen=True)
class StepCheck:
    """A step's automated criteria: what the course's solution is, and how to check it.

    A solution is either snippets that ``run`` runs as scripts (``solution_modules``), or code the
    package teaches (``taught``: the page's solution snippets include it from the package, so the
    check judges the package's own objects and runs no snippet), or both.
    """

    title: str
    criteria: tuple[str, ...]  # the page's success criteria, in words
    solution_modules: tuple[
        str, ...
    ] = ()  # solution snippets to run as scripts, as shipped in the package
    check: Callable[[dict[str, Any]], CheckReport] | None = (
        None  # None: no code can judge the criteria
    )
    taught: tuple[
        str, ...
    ] = ()  # "module:name" of each object of the package the check judges, under its name

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
        return self.check(namespace)


STEP_CHECKS: dict[str, StepCheck] = {
    "step1": StepCheck(
        title="Step 1: ML prerequisites (an MLP that solves MNIST)",
        criteria=(
            "an MLP written and trained in PyTorch reaches at least 97% accuracy on MNIST's 10,000 test images",
            "the course's own bar: training takes at most 60 s on a 2-core CPU",
        ),
        solution_modules=("mi_course.snippets.step1.mnist_mlp",),
        check=lambda ns: check_mnist_classifier(
            ns["model"], train_seconds=ns["train_seconds"]
        ),
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
        check=lambda ns: CheckReport(
            "step2",
            check_logits_match(ns["model"], ns["bridge"]).results
            + check_training_loop(ns["train_demo_transformer"]).results
            + check_sampling(ns["sample_next_token"], ns["next_token_probs"]).results,
        ),
    ),
    "step3": StepCheck(
        title="Step 3: MI tooling (the standard experiments, written by you)",
        criteria=(
            "work through the page and the walkthrough, and understand at least 80% of the solutions (self-assessed)",
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
        check=lambda ns: CheckReport(
            "step3",
            check_induction_score(ns["induction_score"]).results
            + check_mean_ablation_hook(ns["mean_ablation_hook"]).results
            + check_head_detectors(
                ns["previous_token_score"],
                ns["duplicate_token_score"],
                ns["first_token_score"],
            ).results
            + check_induction_score_hook(ns["induction_score_hook"]).results
            + check_ablation_sweep(ns["ablation_sweep"]).results
            + check_patch_by_position(ns["patch_by_position"]).results
            + check_normalised_metric(ns["normalised_metric"]).results
            + check_logit_attribution(ns["logit_attribution"]).results
            + check_plotly_figures(
                ns["loss_curves"], ns["head_scatter"], ns["attention_heatmap"]
            ).results,
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
        check=lambda ns: CheckReport(
            "step4",
            check_full_ov_circuit(ns["full_ov_circuit"]).results
            + check_copying_score(ns["copying_score"]).results
            + check_k_composition_score(ns["k_composition_score"]).results
            + check_sae_loss(ns["sae_loss"]).results
            + check_trained_sae(*train_with(ns["sae_loss"])).results,
        ),
    ),
    "ioi": StepCheck(
        title="Build on a paper: the IOI circuit (its metric, path patching and attribution patching, written by you)",
        criteria=(
            "your IOI metric, path patching and attribution patching match the course's reference on gpt2-twin",
            "name the twin's circuit head by head from your own evidence, and say where it differs from GPT-2 small's "
            "as the paper reports it (self-assessed)",
        ),
        # the page's solutions include these from the package (snippets/ioi/*_solution.py)
        taught=(
            "mi_course.ioi:ioi_metric",
            "mi_course.path_patching:path_patch",
            "mi_course.attribution_patching:attribution_patch_heads",
        ),
        check=lambda ns: CheckReport(
            "ioi",
            check_ioi_metric(ns["ioi_metric"]).results
            + check_path_patch(ns["path_patch"]).results
            + check_attribution_patching(ns["attribution_patch_heads"]).results,
        ),
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
        check=lambda ns: check_probe(ns["train_probe"], ns["probe_accuracy"]),
    ),
}

__all__ = [
    "STEP_CHECKS",
    "CheckReport",
    "CheckerInputError",
    "CriterionResult",
    "StepCheck",
    "check_attention",
    "check_attribution_patching",
    "check_block",
    "check_copying_score",
    "check_embed",
    "check_full_ov_circuit",
    "check_induction_score",
    "check_ioi_metric",
    "check_k_composition_score",
    "check_ablation_sweep",
    "check_head_detectors",
    "check_induction_score_hook",
    "check_logit_attribution",
    "check_normalised_metric",
    "check_patch_by_position",
    "check_path_patch",
    "check_plotly_figures",
    "check_probe",
    "check_sae_loss",
    "check_sampling",
    "check_training_loop",
    "check_trained_sae",
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
