"""mi_course.induction: bad input to the repeated-token data, the induction scores and the repeat loss.

What they measure on the shipped models is tested at the end of this file and with the zoo (tests/test_zoo.py);
their checkers in tests/test_checkers_induction.py.
"""

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mi_course import hooks, induction, interventions, model_card
from mi_course.induction import head_scores, induction_scores, name_heads, repeated_half_loss
from tests.bad_input import Bad, assert_refused, bad_input_params, shared_kit
from tests.models import repeated

BAD_INPUTS: dict[str, list[Bad]] = {
    "mi_course.induction:repeated_random_tokens": [
        Bad(
            lambda k: induction.repeated_random_tokens(0, 5, 10, 10),
            ValueError,
            "repeated_random_tokens expected batch >= 1, got 0",
        ),
        Bad(
            lambda k: induction.repeated_random_tokens(2, 1, 10, 10),
            ValueError,
            "repeated_random_tokens expected seq_len >= 2",
        ),
        Bad(
            lambda k: induction.repeated_random_tokens(2, 5, 1, 10),
            ValueError,
            "expected n_symbols >= 2 and a non-negative bos id, got 1 and 10",
        ),
        Bad(
            lambda k: induction.repeated_random_tokens(2, 5.0, 10, 10),
            TypeError,
            "repeated_random_tokens expected seq_len to be an int, got float",
        ),
        Bad(
            lambda k: induction.repeated_random_tokens(2, 5, 10, 10, generator=0),
            TypeError,
            "expected generator to be a Generator, got int",
        ),
    ],
    # induction_score replaced induction_stripe (mi_course/induction.py), with the same checks of seq_len and one of the pattern.
    "mi_course.induction:induction_score": [
        Bad(
            lambda k: induction.induction_score(torch.zeros(1, 4, 27, 27), 0),
            ValueError,
            "induction_score expected seq_len >= 1, got 0",
        ),
        Bad(
            lambda k: induction.induction_score(torch.zeros(1, 4, 27, 27), "13"),
            TypeError,
            "induction_score expected seq_len to be an int, got str",
        ),
        Bad(
            lambda k: induction.induction_score(torch.zeros(1, 4, 25, 25), 13),
            ValueError,
            r"induction_score expected pattern of shape \(batch, head, 27, 27\) for seq_len=13, .* got \(1, 4, 25, 25\)",
        ),
    ],
    **{
        f"mi_course.induction:{name}": [
            Bad(
                lambda k, name=name: getattr(induction, name)(torch.zeros(1, 4, 9), *extra),
                ValueError,
                rf"{name} expected pattern of shape \(batch, head, query, key\), got torch.float32 of shape \(1, 4, 9\)",
            ),
            Bad(
                lambda k, name=name: getattr(induction, name)(torch.zeros(1, 4, 9, 8), *extra),
                ValueError,
                rf"{name} expected a float pattern of shape \(batch, head, pos, pos\) with pos >= 3, got torch.float32 of shape \(1, 4, 9, 8\)",
            ),
            Bad(
                lambda k, name=name: getattr(induction, name)(torch.zeros(1, 4, 9, 9, dtype=torch.long), *extra),
                ValueError,
                rf"{name} expected a float pattern .* got torch.int64",
            ),
            Bad(
                lambda k, name=name: getattr(induction, name)([[0.5]], *extra),
                TypeError,
                rf"{name} expected pattern of shape .* got list",
            ),
        ]
        for name, extra in (("previous_token_score", ()), ("first_token_score", ()))
    },
    "mi_course.induction:duplicate_token_score": [
        Bad(
            lambda k: induction.duplicate_token_score(torch.zeros(1, 4, 9, 8), torch.zeros(1, 9, dtype=torch.long)),
            ValueError,
            r"duplicate_token_score expected a float pattern of shape \(batch, head, pos, pos\) with pos >= 3, got torch.float32 of shape \(1, 4, 9, 8\)",
        ),
        Bad(
            lambda k: induction.duplicate_token_score(torch.zeros(1, 4, 9, 9)),
            TypeError,
            "missing 1 required positional argument",
        ),
        Bad(
            lambda k: induction.duplicate_token_score(torch.zeros(2, 4, 9, 9), torch.zeros(1, 9, dtype=torch.long)),
            ValueError,
            r"duplicate_token_score expected tokens of shape \(2, 9\) \(batch, pos\) for a pattern of shape \(2, 4, 9, 9\), got \(1, 9\)",
        ),
        Bad(
            lambda k: induction.duplicate_token_score(torch.zeros(1, 4, 9, 9), torch.zeros(1, 9)),
            ValueError,
            r"duplicate_token_score expected tokens of shape \(batch, pos\) with dtype int64 or int32, got torch.float32",
        ),
        Bad(
            lambda k: induction.duplicate_token_score(torch.zeros(1, 4, 4, 4), torch.arange(4)[None]),
            ValueError,
            r"duplicate_token_score: no token of tokens \(1, 4\) repeats an earlier one",
        ),
    ],
    "mi_course.induction:induction_score_hook": [
        Bad(
            lambda k: induction.induction_score_hook(0, torch.zeros(2, 4)),
            ValueError,
            "induction_score_hook expected seq_len >= 1, got 0",
        ),
        Bad(
            lambda k: induction.induction_score_hook(13, torch.zeros(4)),
            ValueError,
            r"induction_score_hook expected scores of shape \(n_layers, n_heads\), got torch.float32 of shape \(4,\)",
        ),
        Bad(
            lambda k: induction.induction_score_hook(13, [[0.0]]),
            TypeError,
            r"induction_score_hook expected scores of shape .* got list",
        ),
        Bad(
            lambda k: induction.induction_score_hook(13, torch.zeros(2, 4, dtype=torch.long)),
            ValueError,
            "induction_score_hook expected float scores to write into, got torch.int64",
        ),
        Bad(
            lambda k: k.bridge.run_with_hooks(
                k.repeated,
                fwd_hooks=[
                    (lambda name: name.endswith("hook_pattern"), induction.induction_score_hook(13, torch.zeros(1, 4)))
                ],
            ),
            ValueError,
            r"induction_score_hook: a hook for blocks.L.attn.hook_pattern writes into scores\[L, head\] of scores \(1, 4\), got layer 1",
        ),
        Bad(
            lambda k: k.bridge.run_with_hooks(
                k.repeated,
                fwd_hooks=[("blocks.0.attn.hook_pattern", induction.induction_score_hook(12, torch.zeros(2, 4)))],
            ),
            ValueError,
            r"induction_score expected pattern of shape \(batch, head, 25, 25\) for seq_len=12",
        ),
    ],
    "mi_course.induction:head_scores": [
        Bad(
            lambda k: induction.head_scores(k.bridge, torch.zeros(4, 20, dtype=torch.long), 13),
            ValueError,
            r"head_scores expected tokens of shape \(batch, 27\) for seq_len=13, that is \(batch, 1 \+ 2 \* seq_len\), got \(4, 20\)",
        ),
        Bad(
            lambda k: induction.head_scores("model", k.repeated, 13),
            TypeError,
            "head_scores expected model to be a TransformerBridge",
        ),
        Bad(
            lambda k: induction.head_scores(k.bridge, k.repeated.float(), 13),
            ValueError,
            r"head_scores expected tokens of shape \(batch, pos\) with dtype int64 or int32, got torch.float32",
        ),
    ],
    "mi_course.induction:induction_scores": [
        Bad(
            lambda k: induction.induction_scores(k.bridge, torch.zeros(4, 20, dtype=torch.long), 13),
            ValueError,
            r"induction_scores expected tokens of shape \(batch, 27\) for seq_len=13.*got \(4, 20\)",
        ),
        Bad(
            lambda k: induction.induction_scores(k.bridge, k.repeated + k.bridge.cfg.d_vocab, 13),
            ValueError,
            r"induction_scores expected tokens ids in 0..\d+ \(the model's d_vocab is \d+\), got ids",
        ),
        Bad(
            lambda k: induction.induction_scores(k.bridge, k.repeated, 13.0),
            TypeError,
            "induction_scores expected seq_len to be an int, got float",
        ),
    ],
    "mi_course.induction:repeated_half_loss": [
        Bad(
            lambda k: induction.repeated_half_loss(k.bridge, k.repeated, 12),
            ValueError,
            r"repeated_half_loss expected tokens of shape \(batch, 25\)",
        ),
        Bad(
            lambda k: induction.repeated_half_loss(
                k.bridge, k.repeated, 13, [("blocks.1.attn.hook_zz", interventions.zero_ablation_hook([0]))]
            ),
            hooks.UnknownHookError,
            "did you mean blocks.1.attn.hook_z",
        ),
    ],
    "mi_course.induction:repeated_half_loss_of": [
        Bad(
            lambda k: induction.repeated_half_loss_of(torch.zeros(64, 26, 51), k.repeated, 13),
            ValueError,
            r"repeated_half_loss_of expected logits of shape \(64, 27\) \+ \(d_vocab,\) .*got \(64, 26, 51\)",
        ),
        Bad(
            lambda k: induction.repeated_half_loss_of(torch.zeros(64, 27), k.repeated, 13),
            ValueError,
            r"repeated_half_loss_of expected logits of shape \(batch, pos, d_vocab\)",
        ),
    ],
    "mi_course.induction:name_heads": [
        Bad(
            lambda k: induction.name_heads([[0.5]], 0.4),
            TypeError,
            r"name_heads expected scores of shape \(n_layers, n_heads\), got list",
        ),
        Bad(
            lambda k: induction.name_heads(torch.zeros(8), 0.4),
            ValueError,
            r"name_heads expected scores of shape \(n_layers, n_heads\), got torch.float32 of shape \(8,\)",
        ),
        Bad(
            lambda k: induction.name_heads(torch.zeros(2, 4), "0.4"),
            TypeError,
            "name_heads expected threshold to be a number, got str",
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
    seq_len=st.integers(-1, 14),
    dtype=st.sampled_from([torch.int64, torch.int32, torch.float32, torch.bool]),
    high=st.integers(1, 80),
)
def test_induction_helpers_refuse_any_bad_tokens_clearly(tmp_path_factory, shape, seq_len, dtype, high):
    bridge = shared_kit(tmp_path_factory).bridge
    tokens = torch.randint(0, high, shape).to(dtype)
    for name, call in (
        ("induction_scores", lambda: induction.induction_scores(bridge, tokens, seq_len)),
        ("repeated_half_loss", lambda: induction.repeated_half_loss(bridge, tokens, seq_len)),
    ):
        try:
            call()
        except ValueError as error:  # never an IndexError or RuntimeError from torch
            assert str(error).startswith(f"{name} expected ") or "do not repeat" in str(error), error


def test_the_heads_the_page_names_are_the_heads_measured(induction_model, shakespeare):
    induction = head_scores(induction_model, repeated(induction_model), 13)
    assert (
        name_heads(induction["induction"], 0.4) == model_card("induction-2l").metrics["induction_heads"]
    )  # retrained at times
    scores = head_scores(shakespeare, repeated(shakespeare), 13)
    assert name_heads(scores["induction"], 0.4) == model_card("shakespeare-char").metrics["induction_heads"]
    assert name_heads(scores["previous-token"], 0.4) == ["0.3"]
    assert name_heads(scores["duplicate-token"], 0.4) == []


def test_scores_refuse_tokens_that_do_not_repeat(induction_model):
    tokens = repeated(induction_model)
    tokens[:, -1] = (tokens[:, -1] + 1) % 50
    for measure in (head_scores, induction_scores, repeated_half_loss):
        with pytest.raises(ValueError, match="the tokens do not repeat after 13 tokens"):
            measure(induction_model, tokens, 13)
    with pytest.raises(ValueError, match=r"expected tokens of shape \(batch, 21\) for seq_len=10"):
        induction_scores(induction_model, repeated(induction_model), 10)
