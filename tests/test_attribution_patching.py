"""mi_course.attribution_patching on gpt2-twin: that it estimates activation patching, and bad input to it.

The checker of the IOI chapter's attribution-patching exercise is tested in tests/test_checkers_ioi.py.
"""

import re

import pytest
import torch

from mi_course import attribution_patching
from mi_course.interventions import patch_by_position
from tests.bad_input import Bad, assert_refused, bad_input_params, shared_kit


def test_attribution_patching_estimates_activation_patching_and_leaves_no_gradient_on_the_model(twin):
    model, clean, corrupted, metric = twin
    estimates = attribution_patching.attribution_patch_heads(model, clean, corrupted, metric)
    assert estimates.shape == (model.cfg.n_layers, model.cfg.n_heads, clean.shape[1])
    assert all(parameter.grad is None for parameter in model.parameters())
    with torch.inference_mode():
        actual = torch.stack(
            [
                torch.stack(
                    [
                        patch_by_position(model, clean, corrupted, [f"blocks.{layer}.attn.hook_z"], metric, head=head)[
                            0
                        ]
                        for head in range(model.cfg.n_heads)
                    ]
                )
                for layer in range(model.cfg.n_layers)
            ]
        )
    assert torch.corrcoef(torch.stack([estimates.flatten(), actual.flatten()]))[0, 1] > 0.7
    # Where nothing differs between the runs (the first token and the template's words before the first name), nothing is estimated.
    assert estimates[..., 0].abs().max() < 1e-6


# --- bad input ------------------------------------------------------------------------------------------------------

BAD_INPUTS: dict[str, list[Bad]] = {
    "mi_course.attribution_patching:attribution_patch_heads": [
        Bad(
            lambda k: attribution_patching.attribution_patch_heads(
                *k.twin_patching_case[:3], lambda logits: logits[:, -1, 0].mean().item()
            ),
            TypeError,
            re.escape(
                "attribution_patch_heads expected metric to return a one-element tensor it can differentiate, got float"
            ),
        ),
        Bad(
            lambda k: attribution_patching.attribution_patch_heads(
                *k.twin_patching_case[:3], lambda logits: logits[:, -1, 0]
            ),
            TypeError,
            re.escape("got torch.float32 of shape (2,)"),
        ),
        Bad(
            lambda k: torch.inference_mode()(attribution_patching.attribution_patch_heads)(*k.twin_patching_case),
            RuntimeError,
            re.escape("attribution_patch_heads needs gradients: call it outside torch.inference_mode()"),
        ),
    ],
}
NO_BAD_INPUT: dict[str, str] = {}


@pytest.mark.parametrize("case", bad_input_params(BAD_INPUTS))
def test_bad_input_raises_a_clear_error(case, tmp_path_factory):
    assert_refused(case, shared_kit(tmp_path_factory))
