"""mi_course.hooks: bad input, and a typo in a hook name answered with the closest valid names."""

import pytest

from mi_course import hooks
from mi_course.hooks import UnknownHookError, check_hook_names
from mi_course.induction import repeated_half_loss
from mi_course.interventions import zero_ablation_hook
from tests.bad_input import Bad, assert_refused, bad_input_params, shared_kit
from tests.models import repeated


def test_the_valid_names_hold_the_bridges_names_and_their_aliases(tmp_path_factory):
    names = hooks._valid_hook_names(shared_kit(tmp_path_factory).bridge)
    assert {"hook_embed", "blocks.0.attn.hook_pattern", "blocks.1.attn.hook_z"} <= set(names) and names == sorted(names)


BAD_INPUTS: dict[str, list[Bad]] = {
    "mi_course.hooks:_valid_hook_names": [
        Bad(
            lambda k: hooks._valid_hook_names("induction-2l"),
            TypeError,
            r"_valid_hook_names expected model to be a TransformerBridge \(from mi_course.load_model\), got str",
        ),
    ],
    "mi_course.hooks:check_hook_names": [
        Bad(
            lambda k: hooks.check_hook_names(k.bridge, ["blocks.0.attn.hook_patern"]),
            hooks.UnknownHookError,
            "no hook named 'blocks.0.attn.hook_patern' on this model; did you mean blocks.0.attn.hook_pattern",
        ),
        Bad(
            lambda k: hooks.check_hook_names(k.bridge, "hook_embed"),
            TypeError,
            "check_hook_names expected names to be a list of hook names, got str 'hook_embed'",
        ),
        Bad(
            lambda k: hooks.check_hook_names(k.bridge, [0]),
            TypeError,
            "check_hook_names expected each hook name to be a str, got int",
        ),
        Bad(
            lambda k: hooks.check_hook_names(object(), []),
            TypeError,
            "check_hook_names expected model to be a TransformerBridge",
        ),
    ],
}
# What takes no input, or only free text, and so has no bad input to refuse.
NO_BAD_INPUT: dict[str, str] = {
    "mi_course.hooks:UnknownHookError": "an exception: takes a free-text message",
}


@pytest.mark.parametrize("case", bad_input_params(BAD_INPUTS))
def test_bad_input_raises_a_clear_error(case, tmp_path_factory):
    assert_refused(case, shared_kit(tmp_path_factory))


def test_a_misspelt_hook_name_gets_the_closest_valid_ones(induction_model):
    with pytest.raises(
        UnknownHookError,
        match=r"no hook named 'blocks.1.attn.hook_patern' on this model; did you mean blocks.1.attn.hook_pattern",
    ):
        check_hook_names(induction_model, ["blocks.1.attn.hook_patern"])
    check_hook_names(
        induction_model, ["blocks.1.attn.hook_z", "blocks.0.hook_resid_pre", "hook_embed"]
    )  # TL 3 aliases are valid
    tokens = repeated(induction_model)
    with pytest.raises(UnknownHookError, match="did you mean blocks.1.attn.hook_z"):
        repeated_half_loss(induction_model, tokens, 13, [("blocks.1.attn.hook_zz", zero_ablation_hook([0]))])
