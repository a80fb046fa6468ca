"""mi_course.checkers: bad input to the checkers and their helpers, for every module of mi_course.checkers.

What each checker reports for the course's solutions and for plausible mistakes is tested beside its
module: tests/test_checkers_<module>.py (tests/test_checkers_induction.py for mi_course.checkers.induction).
"""

import pytest
import torch

from mi_course import attribution, induction
from mi_course.checkers import (
    CheckerInputError,
    StepCheck,
    circuits,
    components,
    features,
    interventions,
    ioi,
    mnist,
    plotly,
    sae,
    sampling,
    training_loop,
)
from mi_course.checkers import (
    attribution as attribution_checkers,
)
from mi_course.checkers import (
    induction as induction_checkers,
)
from tests.bad_input import Bad, assert_refused, bad_input_params, shared_kit

STEP2_CHECKERS = (
    "check_layernorm",
    "check_embed",
    "check_pos_embed",
    "check_attention",
    "check_mlp",
    "check_block",
    "check_unembed",
    "check_transformer",
)

BAD_INPUTS: dict[str, list[Bad]] = {
    "mi_course.checkers.induction:check_head_detectors": [
        Bad(
            lambda k: induction_checkers.check_head_detectors(
                3, induction.duplicate_token_score, induction.first_token_score
            ),
            CheckerInputError,
            "check_head_detectors expected your previous_token_score function, got int",
        ),
        Bad(
            lambda k: induction_checkers.check_head_detectors(
                k.bridge, induction.duplicate_token_score, induction.first_token_score
            ),
            CheckerInputError,
            r"check_head_detectors expected your previous_token_score function, got a model \(TransformerBridge\): pass your function itself",
        ),
        Bad(
            lambda k: induction_checkers.check_head_detectors(
                induction.previous_token_score, lambda p, t: p.mean(dim=(0, 2)), induction.first_token_score
            ),
            CheckerInputError,
            r"duplicate_token_score: expected shape \(4,\) for a pattern of shape \(3, 4, 11, 11\).*got \(4, 11\)",
        ),
        Bad(
            lambda k: induction_checkers.check_head_detectors(
                lambda p: None, induction.duplicate_token_score, induction.first_token_score
            ),
            CheckerInputError,
            r"previous_token_score returned None: return the \(4,\) tensor of scores",
        ),
        Bad(
            lambda k: induction_checkers.check_head_detectors(
                induction.previous_token_score, lambda p: p, induction.first_token_score
            ),
            CheckerInputError,
            "duplicate_token_score raised TypeError",
        ),
    ],
    "mi_course.checkers.induction:check_induction_score_hook": [
        Bad(
            lambda k: induction_checkers.check_induction_score_hook(None),
            CheckerInputError,
            "check_induction_score_hook expected your induction_score_hook function .*got NoneType",
        ),
        Bad(
            lambda k: induction_checkers.check_induction_score_hook(k.bridge),
            CheckerInputError,
            r"got a model \(TransformerBridge\)",
        ),
        Bad(
            lambda k: induction_checkers.check_induction_score_hook(lambda seq_len, scores: 3),
            CheckerInputError,
            "should return a hook function, got int",
        ),
        Bad(
            lambda k: induction_checkers.check_induction_score_hook(lambda seq_len: None),
            CheckerInputError,
            r"induction_score_hook\(7, scores\) raised TypeError",
        ),
        Bad(
            lambda k: induction_checkers.check_induction_score_hook(
                lambda seq_len, scores: lambda pattern, hook: scores[hook.layer(), 9]
            ),
            CheckerInputError,
            "the hook raised IndexError: index 9 is out of bounds",
        ),
    ],
    "mi_course.checkers.interventions:check_ablation_sweep": [
        Bad(
            lambda k: interventions.check_ablation_sweep("sweep"),
            CheckerInputError,
            "check_ablation_sweep expected your ablation_sweep function, got str",
        ),
        Bad(
            lambda k: interventions.check_ablation_sweep(k.bridge),
            CheckerInputError,
            r"got a model \(TransformerBridge\)",
        ),
        Bad(
            lambda k: interventions.check_ablation_sweep(lambda model, tokens, metric, kind: torch.zeros(8)),
            CheckerInputError,
            r"ablation_sweep: expected shape \(2, 4\) for a model of 2 layers of 4 heads: \(n_layers, n_heads\), got \(8,\)",
        ),
        Bad(
            lambda k: interventions.check_ablation_sweep(lambda model, tokens, metric, kind: None),
            CheckerInputError,
            "ablation_sweep returned None",
        ),
    ],
    "mi_course.checkers.interventions:check_patch_by_position": [
        Bad(
            lambda k: interventions.check_patch_by_position(1.0),
            CheckerInputError,
            "check_patch_by_position expected your patch_by_position function, got float",
        ),
        Bad(
            lambda k: interventions.check_patch_by_position(k.bridge),
            CheckerInputError,
            r"got a model \(TransformerBridge\)",
        ),
        Bad(
            lambda k: interventions.check_patch_by_position(
                lambda model, clean, corrupted, names, metric, head=None: torch.zeros(13)
            ),
            CheckerInputError,
            r"patch_by_position: expected shape \(2, 13\) for 2 hook names and tokens of shape \(3, 13\).*got \(13,\)",
        ),
        Bad(
            lambda k: interventions.check_patch_by_position(lambda model, clean, corrupted, names, metric: None),
            CheckerInputError,
            "patch_by_position raised TypeError: .*unexpected keyword argument 'head'",
        ),
    ],
    "mi_course.checkers.interventions:check_normalised_metric": [
        Bad(
            lambda k: interventions.check_normalised_metric([]),
            CheckerInputError,
            "check_normalised_metric expected your normalised_metric function, got list",
        ),
        Bad(
            lambda k: interventions.check_normalised_metric(lambda metric, clean, corrupted: 0.5),
            CheckerInputError,
            "normalised_metric should return a function of the logits, got float",
        ),
        Bad(
            lambda k: interventions.check_normalised_metric(lambda metric, clean, corrupted: lambda logits: logits),
            CheckerInputError,
            "the function normalised_metric returns raised .*it should return a number",
        ),
    ],
    "mi_course.checkers.attribution:check_logit_attribution": [
        Bad(
            lambda k: attribution_checkers.check_logit_attribution(0),
            CheckerInputError,
            "check_logit_attribution expected your logit_attribution function, got int",
        ),
        Bad(
            lambda k: attribution_checkers.check_logit_attribution(k.bridge),
            CheckerInputError,
            r"got a model \(TransformerBridge\)",
        ),
        Bad(
            lambda k: attribution_checkers.check_logit_attribution(
                lambda model, cache, answer, rival, pos=-1: torch.zeros(11, 3)
            ),
            CheckerInputError,
            r"logit_attribution raised ValueError: expected it to return \(contributions, labels\), a tensor and a list, got Tensor",
        ),
        Bad(
            lambda k: attribution_checkers.check_logit_attribution(
                lambda model, cache, answer, rival, pos=-1: (torch.zeros(11, 3), ["a"] * 11)
            ),
            CheckerInputError,
            r"expected the labels L0H0, L0H1, \.\.\., biases \(11\), got a, a, a, \.\.\. \(11\)",
        ),
        Bad(
            lambda k: attribution_checkers.check_logit_attribution(
                lambda model, cache, answer, rival, pos=-1: attribution.logit_attribution(
                    model, cache, answer, rival, pos
                )[0][:, :1]
            ),
            CheckerInputError,
            "expected it to return",
        ),
    ],
    "mi_course.checkers.registry:StepCheck": [
        Bad(
            lambda k: StepCheck(title="Step 4", criteria=("self-assessed",)).run(),
            ValueError,
            "Step 4 has no automated check",
        ),
    ],
    "mi_course.checkers.mnist:check_mnist_classifier": [
        Bad(lambda k: mnist.check_mnist_classifier("model"), CheckerInputError, "expected a torch.nn.Module, got str"),
        Bad(
            lambda k: mnist.check_mnist_classifier(torch.nn.Linear(1, 1), batch_size=0),
            CheckerInputError,
            "check_mnist_classifier expected batch_size >= 1, got 0",
        ),
        Bad(
            lambda k: mnist.check_mnist_classifier(torch.nn.Linear(1, 1), data="mnist"),
            CheckerInputError,
            "check_mnist_classifier expected data to be a MnistData, got str",
        ),
        Bad(
            lambda k: mnist.check_mnist_classifier(torch.nn.Linear(1, 1), train_seconds="60"),
            CheckerInputError,
            "check_mnist_classifier expected train_seconds to be a number, got str '60'",
        ),
        Bad(
            lambda k: mnist.check_mnist_classifier(torch.nn.Linear(28, 10).double()),
            CheckerInputError,
            "expected float32 parameters",
        ),
    ],
    "mi_course.checkers.mnist:mnist_model_inputs": [
        Bad(
            lambda k: mnist.mnist_model_inputs([[0]]),
            CheckerInputError,
            r"mnist_model_inputs expected uint8 images of shape \(n, 28, 28\), got list",
        ),
        Bad(
            lambda k: mnist.mnist_model_inputs(torch.zeros(2, 28, 28)),
            CheckerInputError,
            r"got torch.float32 of shape \(2, 28, 28\)",
        ),
        Bad(
            lambda k: mnist.mnist_model_inputs(torch.zeros(2, 784, dtype=torch.uint8)),
            CheckerInputError,
            r"got torch.uint8 of shape \(2, 784\)",
        ),
    ],
    **{
        f"mi_course.checkers.components:{name}": [
            Bad(
                lambda k, name=name: getattr(components, name)(42),
                CheckerInputError,
                "expected your nn.Module class itself, got int",
            ),
            Bad(
                lambda k, name=name: getattr(components, name)(torch.nn.Identity),
                CheckerInputError,
                ": expected parameters named .*; missing ",
            ),
        ]
        for name in STEP2_CHECKERS
    },
    "mi_course.checkers.components:check_logits_match": [
        Bad(
            lambda k: components.check_logits_match(k.demo, "bridge"),
            CheckerInputError,
            "check_logits_match expected bridge to be a TransformerBridge .*got str",
        ),
        Bad(
            lambda k: components.check_logits_match(torch.zeros(4, 61, 51), k.bridge),
            CheckerInputError,
            r"check_logits_match expected your model \(an nn.Module mapping tokens to logits\), got Tensor; pass the model itself",
        ),
        Bad(
            lambda k: components.check_logits_match(k.bridge, k.bridge),
            CheckerInputError,
            r"check_logits_match expected your own model, but your model is the bridge or part of it \(TransformerBridge\)",
        ),
        Bad(
            lambda k: components.check_logits_match(torch.nn.Identity(), k.bridge),
            CheckerInputError,
            "but it has no parameters",
        ),
        Bad(
            lambda k: components.check_logits_match(k.demo, k.bridge),
            CheckerInputError,
            "your model: forward raised IndexError",
        ),
        Bad(
            lambda k: components.check_logits_match(torch.nn.Embedding(201, 3), k.bridge),
            CheckerInputError,
            r"expected logits of shape \(4, 61, 201\) \(batch, pos, d_vocab\), got \(4, 61, 3\) for tokens of shape \(4, 61\)",
        ),
    ],
    "mi_course.checkers.induction:check_induction_score": [
        Bad(
            lambda k: induction_checkers.check_induction_score(3),
            CheckerInputError,
            "check_induction_score expected your induction_score function, got int",
        ),
        Bad(
            lambda k: induction_checkers.check_induction_score(lambda pattern, seq_len: pattern),
            CheckerInputError,
            r"induction_score: expected shape \(4,\) .*got \(3, 4, 15, 15\)",
        ),
    ],
    "mi_course.checkers.interventions:check_mean_ablation_hook": [
        Bad(
            lambda k: interventions.check_mean_ablation_hook(None),
            CheckerInputError,
            "check_mean_ablation_hook expected your mean_ablation_hook function .*got NoneType",
        ),
        Bad(
            lambda k: interventions.check_mean_ablation_hook(lambda heads: 3),
            CheckerInputError,
            "should return a hook function, got int",
        ),
    ],
    "mi_course.checkers.circuits:check_full_ov_circuit": [
        Bad(
            lambda k: circuits.check_full_ov_circuit("W_E @ W_V"),
            CheckerInputError,
            "check_full_ov_circuit expected your full_ov_circuit function, got str",
        ),
        Bad(
            lambda k: circuits.check_full_ov_circuit(lambda E, V, O, U: (E @ V @ O @ U)[:, :-1]),
            CheckerInputError,
            r"full_ov_circuit: expected shape \(40, 40\) \(d_vocab, d_vocab\) for W_E \(40, 16\), .*got \(40, 39\)",
        ),
        Bad(
            lambda k: circuits.check_full_ov_circuit(lambda E, V, O, U: E @ O @ V @ U),
            CheckerInputError,
            r"full_ov_circuit raised RuntimeError: mat1 and mat2 shapes cannot be multiplied .*; the shapes chain as W_E \(d_vocab, d_model\)",
        ),
    ],
    "mi_course.checkers.circuits:check_copying_score": [
        Bad(
            lambda k: circuits.check_copying_score(None),
            CheckerInputError,
            "check_copying_score expected your copying_score function, got NoneType",
        ),
        Bad(
            lambda k: circuits.check_copying_score(lambda full_ov: full_ov.diagonal()),
            CheckerInputError,
            r"copying_score: expected a number \(a float, or a tensor of one element\) for a full OV circuit of shape \(40, 40\), got torch.float32 of shape \(40,\)",
        ),
    ],
    "mi_course.checkers.sae:check_sae_loss": [
        Bad(
            lambda k: sae.check_sae_loss("loss"),
            CheckerInputError,
            "check_sae_loss expected your sae_loss function, got str",
        ),
        Bad(
            lambda k: sae.check_sae_loss(lambda model, h, l1_coefficient: 0.0),
            CheckerInputError,
            r"sae_loss: expected a scalar tensor \(shape \(\)\) .*got float",
        ),
    ],
    "mi_course.checkers.training_loop:check_training_loop": [
        Bad(
            lambda k: training_loop.check_training_loop("train"),
            CheckerInputError,
            "check_training_loop expected your training function, got str",
        ),
        Bad(
            lambda k: training_loop.check_training_loop(lambda model, optimizer, batches: None),
            CheckerInputError,
            r"your training loop should return a list with the loss of each step \(5 floats\), got NoneType",
        ),
        Bad(
            lambda k: training_loop.check_training_loop(lambda model, optimizer, batches: [0.0] * 4),
            CheckerInputError,
            "your training loop should return one loss per batch: 5 batches, 4 losses",
        ),
    ],
    "mi_course.checkers.sampling:check_sampling": [
        Bad(
            lambda k: sampling.check_sampling(None, lambda logits, *args: logits.softmax(-1)),
            CheckerInputError,
            "check_sampling expected your sample_next_token function, got NoneType",
        ),
        Bad(
            lambda k: sampling.check_sampling(lambda logits, *args: logits.argmax(-1), lambda logits, *args: {}),
            CheckerInputError,
            r"next_token_probs: expected probabilities of shape \(3, 10\) \(batch, d_vocab\) for logits of shape \(3, 10\), got dict",
        ),
    ],
    "mi_course.checkers.plotly:check_plotly_figures": [
        Bad(
            lambda k: plotly.check_plotly_figures(lambda losses: {}, lambda *a: None, lambda *a: None),
            CheckerInputError,
            "loss_curves should return a plotly Figure .*got dict: return the Figure itself, not figure.to_dict()",
        ),
        Bad(
            lambda k: plotly.check_plotly_figures(lambda losses: None, lambda *a: None, lambda *a: None),
            CheckerInputError,
            r"loss_curves should return a plotly Figure, got None: return the figure \(fig.show\(\) returns None\)",
        ),
        Bad(
            lambda k: plotly.check_plotly_figures(lambda losses: None, 3, lambda *a: None),
            CheckerInputError,
            "check_plotly_figures expected your head_scatter function, got int",
        ),
    ],
    "mi_course.checkers.sae:check_trained_sae": [
        Bad(
            lambda k: sae.check_trained_sae("model", sae.EXERCISE_CONFIG, None),
            CheckerInputError,
            r"check_trained_sae expected the toy model \(ToyModel\), got str",
        ),
    ],
    "mi_course.checkers.sae:train_with": [
        Bad(
            lambda k: sae.train_with(None),
            CheckerInputError,
            "train_with expected your sae_loss function, got NoneType",
        ),
    ],
    "mi_course.checkers.circuits:check_k_composition_score": [
        Bad(
            lambda k: circuits.check_k_composition_score(0.5),
            CheckerInputError,
            "check_k_composition_score expected your k_composition_score function, got float",
        ),
        Bad(
            lambda k: circuits.check_k_composition_score(lambda ov, qk: ov @ qk.T),
            CheckerInputError,
            r"k_composition_score: expected a number .*for W_OV_earlier and W_QK_later of shape \(16, 16\), got torch.float32 of shape \(16, 16\)",
        ),
    ],
    "mi_course.checkers.features:check_probe": [
        Bad(
            lambda k: features.check_probe("probe", lambda *args: 0.5),
            CheckerInputError,
            "check_probe expected your train_probe function, got str",
        ),
        Bad(
            lambda k: features.check_probe(lambda x, y: "probe", lambda probe, x, y: 0.5),
            CheckerInputError,
            r"train_probe should return the probe, an nn.Linear\(d_model, 1\), got str",
        ),
    ],
    "mi_course.checkers.ioi:check_ioi_metric": [
        Bad(
            lambda k: ioi.check_ioi_metric("IO - S"),
            CheckerInputError,
            "check_ioi_metric expected your ioi_metric function, got str",
        ),
        Bad(
            lambda k: ioi.check_ioi_metric(lambda prompts, clean, corrupted: 0.5),
            CheckerInputError,
            "ioi_metric should return a function of the logits, got float",
        ),
        Bad(
            lambda k: ioi.check_ioi_metric(lambda prompts, clean, corrupted: lambda logits: logits[:, -1]),
            CheckerInputError,
            "the function ioi_metric returns raised .*; it should return a number",
        ),
    ],
    "mi_course.checkers.ioi:check_path_patch": [
        Bad(
            lambda k: ioi.check_path_patch(None),
            CheckerInputError,
            "check_path_patch expected your path_patch function, got NoneType",
        ),
        Bad(
            lambda k: ioi.check_path_patch(lambda *args, **kwargs: None),
            CheckerInputError,
            "path_patch raised TypeError: .*; it should return a number",
        ),
    ],
    "mi_course.checkers.ioi:check_attribution_patching": [
        Bad(
            lambda k: ioi.check_attribution_patching(3),
            CheckerInputError,
            "check_attribution_patching expected your attribution_patch_heads function, got int",
        ),
        Bad(
            lambda k: ioi.check_attribution_patching(lambda model, clean, corrupted, metric: torch.zeros(2, 17, 4)),
            CheckerInputError,
            r"attribution_patch_heads: expected shape \(2, 4, 17\) for gpt2-twin and \(8, 17\) tokens: \(n_layers, n_heads, pos\), got \(2, 17, 4\)",
        ),
    ],
}
# What takes no input, or only free text, and so has no bad input to refuse.
NO_BAD_INPUT: dict[str, str] = {
    "mi_course.checkers.plotly:lightness": "a helper of the Plotly checker, given the colours Plotly itself wrote; the heatmap cases above show the scales it refuses",
    "mi_course.checkers.harness:as_checker_input_error": "a helper of the checkers, tested through them: their cases above show what it refuses",
    "mi_course.checkers.harness:as_number": "a helper of the checkers, tested through them: their cases above show what it refuses",
    "mi_course.checkers.harness:call": "a helper of the checkers, tested through them: their cases above show what it refuses",
    "mi_course.checkers.harness:call_tensor": "a helper of the checkers, tested through them: their cases above show what it refuses",
    "mi_course.checkers.harness:check_callable": "a helper of the checkers, tested through them: their cases above show what it refuses",
    "mi_course.checkers.harness:diagnose": "a helper of the checkers, tested through them: their cases above show what it refuses",
    "mi_course.checkers.harness:first_line": "a helper of the checkers, tested through them: their cases above show what it refuses",
    "mi_course.checkers.harness:randomize": "a helper of the checkers, tested through them: their cases above show what it refuses",
    "mi_course.checkers.harness:report": "a helper of the checkers, tested through them: their cases above show what it refuses",
    "mi_course.checkers.harness:returned_number": "a helper of the checkers, tested through them: their cases above show what it refuses",
    "mi_course.checkers.report:CheckReport": "a result record the checkers build from their own measurements",
    "mi_course.checkers.report:CriterionResult": "a result record the checkers build from their own measurements",
    "mi_course.checkers.report:CheckerInputError": "an exception: takes a free-text message",
}


@pytest.mark.parametrize("case", bad_input_params(BAD_INPUTS))
def test_bad_input_raises_a_clear_error(case, tmp_path_factory):
    assert_refused(case, shared_kit(tmp_path_factory))
