"""mi_course.checkers: bad input to the step checkers and their helpers.

What the checkers report for the course's solutions is tested with each step: tests/test_step1_checker.py,
tests/test_step2.py, tests/test_step3.py and tests/test_step4.py.
"""

import pytest
import torch

from mi_course.checkers import CheckerInputError, StepCheck, step1, step2, step3
from tests.bad_input import Bad, assert_refused, bad_input_params, shared_kit

STEP2_CHECKERS = ("check_layernorm", "check_embed", "check_pos_embed", "check_attention", "check_mlp", "check_block",
                  "check_unembed", "check_transformer")

BAD_INPUTS: dict[str, list[Bad]] = {
    "mi_course.checkers:StepCheck": [
        Bad(lambda k: StepCheck(title="Step 4", criteria=("self-assessed",)).run(), ValueError, "Step 4 has no automated check"),
    ],
    "mi_course.checkers.step1:check_mnist_classifier": [
        Bad(lambda k: step1.check_mnist_classifier("model"), CheckerInputError, "expected a torch.nn.Module, got str"),
        Bad(lambda k: step1.check_mnist_classifier(torch.nn.Linear(1, 1), batch_size=0), CheckerInputError,
            "check_mnist_classifier expected batch_size >= 1, got 0"),
        Bad(lambda k: step1.check_mnist_classifier(torch.nn.Linear(1, 1), data="mnist"), CheckerInputError,
            "check_mnist_classifier expected data to be a MnistData, got str"),
        Bad(lambda k: step1.check_mnist_classifier(torch.nn.Linear(1, 1), train_seconds="60"), CheckerInputError,
            "check_mnist_classifier expected train_seconds to be a number, got str '60'"),
        Bad(lambda k: step1.check_mnist_classifier(torch.nn.Linear(28, 10).double()), CheckerInputError, "expected float32 parameters"),
    ],
    "mi_course.checkers.step1:mnist_model_inputs": [
        Bad(lambda k: step1.mnist_model_inputs([[0]]), CheckerInputError, r"mnist_model_inputs expected uint8 images of shape \(n, 28, 28\), got list"),
        Bad(lambda k: step1.mnist_model_inputs(torch.zeros(2, 28, 28)), CheckerInputError, r"got torch.float32 of shape \(2, 28, 28\)"),
        Bad(lambda k: step1.mnist_model_inputs(torch.zeros(2, 784, dtype=torch.uint8)), CheckerInputError, r"got torch.uint8 of shape \(2, 784\)"),
    ],
    **{f"mi_course.checkers.step2:{name}": [
        Bad(lambda k, name=name: getattr(step2, name)(42), CheckerInputError, "expected your nn.Module class itself, got int"),
        Bad(lambda k, name=name: getattr(step2, name)(torch.nn.Identity), CheckerInputError, ": expected parameters named .*; missing "),
    ] for name in STEP2_CHECKERS},
    "mi_course.checkers.step2:check_logits_match": [
        Bad(lambda k: step2.check_logits_match(k.demo, "bridge"), CheckerInputError,
            "check_logits_match expected bridge to be a TransformerBridge .*got str"),
        Bad(lambda k: step2.check_logits_match(torch.zeros(4, 61, 51), k.bridge), CheckerInputError,
            r"check_logits_match expected your model \(an nn.Module mapping tokens to logits\), got Tensor; pass the model itself"),
        Bad(lambda k: step2.check_logits_match(k.bridge, k.bridge), CheckerInputError,
            r"check_logits_match expected your own model, but your model is the bridge or part of it \(TransformerBridge\)"),
        Bad(lambda k: step2.check_logits_match(torch.nn.Identity(), k.bridge), CheckerInputError, "but it has no parameters"),
        Bad(lambda k: step2.check_logits_match(k.demo, k.bridge), CheckerInputError, "your model: forward raised IndexError"),
        Bad(lambda k: step2.check_logits_match(torch.nn.Embedding(51, 3), k.bridge), CheckerInputError,
            r"expected logits of shape \(4, 61, 51\) \(batch, pos, d_vocab\), got \(4, 61, 3\) for tokens of shape \(4, 61\)"),
    ],
    "mi_course.checkers.step3:check_induction_score": [
        Bad(lambda k: step3.check_induction_score(3), CheckerInputError, "check_induction_score expected your induction_score function, got int"),
        Bad(lambda k: step3.check_induction_score(lambda pattern, seq_len: pattern), CheckerInputError,
            r"induction_score: expected shape \(4,\) .*got \(3, 4, 15, 15\)"),
    ],
    "mi_course.checkers.step3:check_mean_ablation_hook": [
        Bad(lambda k: step3.check_mean_ablation_hook(None), CheckerInputError, "check_mean_ablation_hook expected your mean_ablation_hook function .*got NoneType"),
        Bad(lambda k: step3.check_mean_ablation_hook(lambda heads: 3), CheckerInputError, "should return a hook function, got int"),
    ],
}
# What takes no input, or only free text, and so has no bad input to refuse.
NO_BAD_INPUT: dict[str, str] = {
    "mi_course.checkers.report:CheckReport": "a result record the checkers build from their own measurements",
    "mi_course.checkers.report:CriterionResult": "a result record the checkers build from their own measurements",
    "mi_course.checkers.report:CheckerInputError": "an exception: takes a free-text message",
}


@pytest.mark.parametrize("case", bad_input_params(BAD_INPUTS))
def test_bad_input_raises_a_clear_error(case, tmp_path_factory):
    assert_refused(case, shared_kit(tmp_path_factory))
