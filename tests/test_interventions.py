"""mi_course.interventions: bad input to the ablation hooks, activation patching and per-token losses.

What they compute on induction-2l is tested at the end of this file; their checkers in
tests/test_checkers_interventions.py.
"""

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mi_course import hooks, interventions
from mi_course.hooks import UnknownHookError
from mi_course.induction import repeated_half_loss
from mi_course.interventions import mean_ablation_hook, patch_by_position, token_losses, zero_ablation_hook
from tests.bad_input import TOK, Bad, assert_refused, bad_input_params, shared_kit
from tests.models import repeated

Z = torch.zeros(2, 3, 4, 5)  # batch, pos, head, d_head
LOGITS = torch.zeros(2, 5, 51)  # any vocabulary: no model reads them  # batch, pos, d_vocab

BAD_INPUTS: dict[str, list[Bad]] = {
    **{
        f"mi_course.interventions:{name}": [
            Bad(
                lambda k, name=name: getattr(interventions, name)(2),
                TypeError,
                f"{name} expected heads to be a list of head indices, got int 2",
            ),
            Bad(
                lambda k, name=name: getattr(interventions, name)([-1]),
                ValueError,
                f"{name} expected each head index >= 0, got -1",
            ),
            Bad(
                lambda k, name=name: getattr(interventions, name)([4])(Z, None),
                ValueError,
                rf"{name} expected head indices below the 4 heads of z \(2, 3, 4, 5\), got heads \[4\]",
            ),
            Bad(
                lambda k, name=name: getattr(interventions, name)([0])(torch.zeros(3, 4, 5), None),
                ValueError,
                rf"{name} expected z \(a hook_z activation\) of shape \(batch, pos, head, d_head\), got torch.float32 of shape \(3, 4, 5\)",
            ),
        ]
        for name in ("zero_ablation_hook", "mean_ablation_hook")
    },
    "mi_course.interventions:patch_by_position": [
        Bad(
            lambda k: interventions.patch_by_position(k.bridge, TOK, TOK[:, :4], ["hook_embed"], lambda logits: 0.0),
            ValueError,
            r"patch_by_position expected clean and corrupted tokens of one shape, got \(2, 5\) and \(2, 4\)",
        ),
        Bad(
            lambda k: interventions.patch_by_position(
                k.bridge, TOK, TOK, ["blocks.0.hook_resid_prex"], lambda logits: 0.0
            ),
            hooks.UnknownHookError,
            "did you mean blocks.0.hook_resid_pre",
        ),
        Bad(
            lambda k: interventions.patch_by_position(k.bridge, TOK, TOK, "hook_embed", lambda logits: 0.0),
            TypeError,
            "patch_by_position expected hook_names to be a list of hook names, got the str 'hook_embed'",
        ),
        Bad(
            lambda k: interventions.patch_by_position(k.bridge, TOK, TOK, ["hook_embed"], 0.0),
            TypeError,
            "patch_by_position expected metric to be a function of the logits, got float",
        ),
        Bad(
            lambda k: interventions.patch_by_position(
                k.bridge, TOK, TOK, ["blocks.0.attn.hook_z"], lambda logits: 0.0, head=4
            ),
            ValueError,
            "patch_by_position expected head >= 0 and <= 3, got 4",
        ),
        Bad(
            lambda k: interventions.patch_by_position(k.bridge, TOK.float(), TOK, ["hook_embed"], lambda logits: 0.0),
            ValueError,
            r"patch_by_position expected clean_tokens of shape \(batch, pos\) with dtype int64 or int32, got torch.float32",
        ),
    ],
    "mi_course.interventions:patch_heads": [
        Bad(
            lambda k: interventions.patch_heads(k.bridge, TOK, TOK[:, :4], lambda logits: 0.0),
            ValueError,
            r"patch_heads expected clean and corrupted tokens of one shape, got \(2, 5\) and \(2, 4\)",
        ),
        Bad(
            lambda k: interventions.patch_heads(k.bridge, TOK, TOK, "IO - S"),
            TypeError,
            "patch_heads expected metric to be a function of the logits, got str",
        ),
        Bad(
            lambda k: interventions.patch_heads("gpt2-twin", TOK, TOK, lambda logits: 0.0),
            TypeError,
            "patch_heads expected model to be a TransformerBridge",
        ),
    ],
    "mi_course.interventions:ablation_sweep": [
        Bad(
            lambda k: interventions.ablation_sweep("model", TOK, lambda logits: 0.0, "zero"),
            TypeError,
            "ablation_sweep expected model to be a TransformerBridge",
        ),
        Bad(
            lambda k: interventions.ablation_sweep(k.bridge, TOK.float(), lambda logits: 0.0, "zero"),
            ValueError,
            r"ablation_sweep expected tokens of shape \(batch, pos\) with dtype int64 or int32, got torch.float32",
        ),
        Bad(
            lambda k: interventions.ablation_sweep(k.bridge, TOK, 0.0, "zero"),
            TypeError,
            "ablation_sweep expected metric to be a function of the logits, got float",
        ),
        Bad(
            lambda k: interventions.ablation_sweep(k.bridge, TOK, k.bridge, "zero"),
            TypeError,
            "ablation_sweep expected metric to be a function of the logits, got TransformerBridge",
        ),
        Bad(
            lambda k: interventions.ablation_sweep(k.bridge, TOK, lambda logits: 0.0, "resample"),
            ValueError,
            "ablation_sweep expected kind 'zero' or 'mean', got 'resample'",
        ),
        Bad(
            lambda k: interventions.ablation_sweep(k.bridge, TOK[:1], lambda logits: 0.0, "mean"),
            ValueError,
            r"ablation_sweep with kind='mean' expected at least 2 sequences to average over, got tokens \(1, 5\)",
        ),
    ],
    "mi_course.interventions:normalised_metric": [
        Bad(
            lambda k: interventions.normalised_metric(0.0, LOGITS, LOGITS + 1),
            TypeError,
            "normalised_metric expected metric to be a function of the logits, got float",
        ),
        Bad(
            lambda k: interventions.normalised_metric(lambda logits: logits.sum().item(), LOGITS[0], LOGITS[0]),
            ValueError,
            r"normalised_metric expected clean_logits of shape \(batch, pos, d_vocab\), got torch.float32 of shape \(5, 51\)",
        ),
        Bad(
            lambda k: interventions.normalised_metric(lambda logits: logits.sum().item(), LOGITS, LOGITS[:, :4]),
            ValueError,
            r"normalised_metric expected clean and corrupted logits of one shape, got \(2, 5, 51\) and \(2, 4, 51\)",
        ),
        Bad(
            lambda k: interventions.normalised_metric(lambda logits: logits.sum().item(), LOGITS, LOGITS.clone()),
            ValueError,
            r"normalised_metric: the metric scores the clean and the corrupted run alike \(0\)",
        ),
    ],
    "mi_course.interventions:token_losses": [
        Bad(
            lambda k: interventions.token_losses(k.bridge, TOK.float()),
            ValueError,
            r"token_losses expected integer tokens of shape \(batch, pos\) with pos >= 2, got torch.float32 of shape \(2, 5\)",
        ),
        Bad(
            lambda k: interventions.token_losses(k.bridge, [[1, 2]]),
            ValueError,
            "token_losses expected integer tokens .*got list",
        ),
        Bad(
            lambda k: interventions.token_losses(k.bridge, TOK - 1),
            ValueError,
            r"token_losses expected tokens ids in 0..\d+ .*got ids -1..-1",
        ),
        Bad(
            lambda k: interventions.token_losses(k.bridge, torch.zeros(1, 62, dtype=torch.long)),
            ValueError,
            r"token_losses expected at most n_ctx = 61 positions, got tokens of shape \(1, 62\)",
        ),
        Bad(
            lambda k: interventions.token_losses("model", TOK),
            TypeError,
            "token_losses expected model to be a TransformerBridge",
        ),
    ],
}
# What takes no input, or only free text, and so has no bad input to refuse.
NO_BAD_INPUT: dict[str, str] = {}


@pytest.mark.parametrize("case", bad_input_params(BAD_INPUTS))
def test_bad_input_raises_a_clear_error(case, tmp_path_factory):
    assert_refused(case, shared_kit(tmp_path_factory))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    shape=st.lists(st.integers(0, 30), min_size=1, max_size=3).map(tuple),
    dtype=st.sampled_from([torch.int64, torch.int32, torch.float32, torch.bool]),
    high=st.integers(1, 80),
)
def test_token_losses_refuse_any_bad_tokens_clearly(tmp_path_factory, shape, dtype, high):
    bridge = shared_kit(tmp_path_factory).bridge
    tokens = torch.randint(0, high, shape).to(dtype)
    try:
        interventions.token_losses(bridge, tokens)
    except ValueError as error:  # never an IndexError or RuntimeError from torch
        assert str(error).startswith("token_losses expected "), error


def test_ablating_the_induction_heads_raises_the_loss_on_the_repeat(induction_model):
    tokens = repeated(induction_model)
    clean = repeated_half_loss(induction_model, tokens, 13)
    zeroed = repeated_half_loss(
        induction_model, tokens, 13, [("blocks.1.attn.hook_z", zero_ablation_hook([0, 1, 2, 3]))]
    )
    meaned = repeated_half_loss(
        induction_model, tokens, 13, [("blocks.1.attn.hook_z", mean_ablation_hook([0, 1, 2, 3]))]
    )
    assert clean < 0.5 and zeroed > 3.0 and meaned > 3.0


def test_token_losses_agree_with_the_repeated_half_loss_and_refuse_bad_tokens(induction_model):
    tokens = repeated(induction_model)
    hooks = [("blocks.1.attn.hook_z", zero_ablation_hook([0, 1, 2, 3]))]
    for fwd_hooks in ([], hooks):
        per_token = token_losses(induction_model, tokens, fwd_hooks)
        assert per_token.shape == (tokens.shape[0], tokens.shape[1] - 1)
        assert per_token[:, 14:].mean().item() == pytest.approx(
            repeated_half_loss(induction_model, tokens, 13, fwd_hooks), rel=1e-5
        )
    with pytest.raises(
        ValueError,
        match=r"expected integer tokens of shape \(batch, pos\) with pos >= 2, got torch.float32 of shape \(2, 5\)",
    ):
        token_losses(induction_model, torch.zeros(2, 5))
    with pytest.raises(ValueError, match=r"got torch.int64 of shape \(5,\)"):
        token_losses(induction_model, torch.zeros(5, dtype=torch.long))
    with pytest.raises(UnknownHookError, match="did you mean blocks.1.attn.hook_z"):
        token_losses(induction_model, tokens, [("blocks.1.attn.hook_zz", zero_ablation_hook([0]))])


def test_ablation_hooks_change_only_the_listed_heads():
    z = torch.randn(4, 5, 3, 2, generator=torch.Generator().manual_seed(0))
    zeroed = zero_ablation_hook([1])(z.clone(), None)
    assert torch.equal(zeroed[:, :, 1], torch.zeros(4, 5, 2)) and torch.equal(zeroed[:, :, [0, 2]], z[:, :, [0, 2]])
    meaned = mean_ablation_hook([1])(z.clone(), None)
    assert torch.allclose(meaned[:, :, 1], z[:, :, 1].mean(0, keepdim=True).expand(4, 5, 2))
    assert torch.equal(meaned[:, :, [0, 2]], z[:, :, [0, 2]])


def test_patching_finds_the_induction_circuit(induction_model):
    clean = repeated(induction_model, seq_len=8, batch=1, seed=0)
    corrupted = clean.clone()
    corrupted[0, 3] = (clean[0, 3] + 1) % 50
    query, answer = 11, clean[0, 12].item()
    names = ["blocks.0.hook_resid_pre", "blocks.1.hook_resid_pre", "blocks.1.hook_resid_post"]
    results = patch_by_position(
        induction_model, clean, corrupted, names, lambda logits: logits[0, query, answer].item()
    )
    # The changed token itself, then the position after it (where the previous-token head copied it), then the query.
    assert results.argmax(dim=1).tolist() == [3, 4, 11]
    same = patch_by_position(induction_model, clean, clean, names[:1], lambda logits: logits[0, query, answer].item())
    assert torch.allclose(same, same[0, 0].expand_as(same))
    with pytest.raises(ValueError, match="expected clean and corrupted tokens of one shape"):
        patch_by_position(induction_model, clean, clean[:, :-1], names, lambda logits: 0.0)
