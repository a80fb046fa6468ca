"""Success-criterion checkers, one module per taught module, and the registry that
``python -m mi_course check`` runs.

Each checker module checks the exercises of one module of the package (``components``: the
from-scratch transformer of ``mi_course.scratch``; ``induction``, ``interventions``,
``attribution``, ``circuits``, ``sampling``, ``training_loop``, ``sae``, ``ioi``, ``features``,
``plotly``, ``mnist``), with the helpers of ``harness``; ``registry`` holds each step's criteria
and check. Every public checker is re-exported here.
"""

from __future__ import annotations

from mi_course.checkers.attribution import check_logit_attribution
from mi_course.checkers.circuits import (
    check_copying_score,
    check_full_ov_circuit,
    check_k_composition_score,
)
from mi_course.checkers.components import (
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
from mi_course.checkers.mnist import check_mnist_classifier, mnist_model_inputs
from mi_course.checkers.plotly import check_plotly_figures
from mi_course.checkers.registry import STEP_CHECKS, StepCheck
from mi_course.checkers.report import CheckerInputError, CheckReport, CriterionResult
from mi_course.checkers.sae import check_sae_loss, check_trained_sae
from mi_course.checkers.sampling import check_sampling
from mi_course.checkers.training_loop import check_training_loop

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
