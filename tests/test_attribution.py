"""mi_course.attribution: bad input to direct logit attribution.

The checker's verdicts on plausible mistakes are tested in tests/test_checkers_attribution.py.
"""

import functools

import pytest
import torch

from mi_course import attribution, load_model
from tests.bad_input import TOK, Bad, assert_refused, bad_input_params, shared_kit


@functools.cache
def folded():
    """induction-2l in compatibility mode, and the cache of one run: a copy of its own, since the mode changes the model."""
    model = load_model("induction-2l", device="cpu")
    model.enable_compatibility_mode()
    with torch.inference_mode():
        _, cache = model.run_with_cache(TOK)
    return model, cache


BAD_INPUTS: dict[str, list[Bad]] = {
    "mi_course.attribution:logit_attribution": [
        Bad(
            lambda k: attribution.logit_attribution("model", folded()[1], 1, 2),
            TypeError,
            "logit_attribution expected model to be a TransformerBridge",
        ),
        Bad(
            lambda k: attribution.logit_attribution(k.bridge, folded()[1], 1, 2),
            ValueError,
            r"logit_attribution expected a model in compatibility mode \(call model.enable_compatibility_mode\(\) first\)",
        ),
        Bad(
            lambda k: attribution.logit_attribution(folded()[0], {"x": TOK}, 1, 2),
            TypeError,
            "logit_attribution expected cache to be a ActivationCache, got dict",
        ),
        Bad(
            lambda k: attribution.logit_attribution(folded()[0], folded()[1], folded()[0].cfg.d_vocab, 2),
            ValueError,
            r"logit_attribution expected answer >= 0 and <= \d+, got \d+",
        ),
        Bad(
            lambda k: attribution.logit_attribution(folded()[0], folded()[1], 1, "2"),
            TypeError,
            "logit_attribution expected rival to be an int, got str",
        ),
        Bad(
            lambda k: attribution.logit_attribution(folded()[0], folded()[1], 1, 2, pos=5),
            ValueError,
            "logit_attribution expected pos >= -5 and <= 4, got 5",
        ),
    ],
}
# What takes no input, or only free text, and so has no bad input to refuse.
NO_BAD_INPUT: dict[str, str] = {}


@pytest.mark.parametrize("case", bad_input_params(BAD_INPUTS))
def test_bad_input_raises_a_clear_error(case, tmp_path_factory):
    assert_refused(case, shared_kit(tmp_path_factory))


def test_the_parts_sum_to_the_logit_difference_sequence_by_sequence():
    model, _ = folded()
    tokens = torch.randint(0, 50, (3, 9), generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        logits, cache = model.run_with_cache(tokens)
    for pos in (-1, 4):
        contributions, labels = attribution.logit_attribution(model, cache, 3, 7, pos)
        assert (
            contributions.shape == (model.cfg.n_layers * model.cfg.n_heads + 3, 3)
            and len(labels) == contributions.shape[0]
        )
        assert labels[0] == "L0H0" and labels[-3:] == ["embed", "pos_embed", "biases"]
        assert torch.allclose(contributions.sum(dim=0), logits[:, pos, 3] - logits[:, pos, 7], atol=1e-4)
