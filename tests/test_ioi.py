"""mi_course.ioi: the IOI prompts, their corrupted twins, the metric, and bad input to each.

The checker of the IOI metric exercise is tested in tests/test_checkers_ioi.py.
"""

import re

import pytest
import torch

from mi_course import ioi
from tests.bad_input import Bad, assert_refused, bad_input_params, shared_kit


def test_every_name_place_and_object_is_one_gpt2_token():
    from mi_course.tokenization import gpt2_tokenizer

    tokenizer = gpt2_tokenizer()
    for word in ioi.NAMES + ioi.PLACES + ioi.OBJECTS:
        assert len(tokenizer(f" {word}").input_ids) == 1, word
    assert len(set(ioi.NAMES)) == len(ioi.NAMES) == 228


def test_the_splits_do_not_overlap():
    assert not set(ioi.TRAINING_TEMPLATES) & set(ioi.HELD_OUT_TEMPLATES)
    splits = [set(ioi.TRAINING_NAMES), set(ioi.HELD_OUT_NAMES), set(ioi.UNSEEN_NAMES)]
    assert sum(map(len, splits)) == len(set().union(*splits)) == len(ioi.NAMES)


def test_prompts_put_each_name_where_they_say():
    prompts = ioi.ioi_prompts(40, seed=3)
    rows = torch.arange(len(prompts))
    assert (prompts.tokens[:, 0] == 50256).all()
    assert torch.equal(prompts.tokens[rows, prompts.io_position], prompts.io)
    assert torch.equal(prompts.tokens[rows, prompts.s1_position], prompts.s)
    assert torch.equal(prompts.tokens[rows, prompts.s2_position], prompts.s)
    assert (prompts.s1_position < prompts.s2_position).all() and (prompts.io_position < prompts.s2_position).all()
    assert (prompts.io != prompts.s).all()
    assert prompts.texts[0].endswith(" to")


@pytest.mark.parametrize(("order", "io_first"), [("ABBA", True), ("BABA", False)])
def test_the_order_puts_io_or_s_first(order, io_first):
    prompts = ioi.ioi_prompts(20, order=order, seed=1)
    assert ((prompts.io_position < prompts.s1_position) == io_first).all()


def test_mixed_order_draws_both():
    prompts = ioi.ioi_prompts(200, seed=0)
    share = (prompts.io_position < prompts.s1_position).float().mean().item()
    assert 0.4 < share < 0.6


def test_the_same_seed_gives_the_same_prompts_and_another_does_not():
    assert ioi.ioi_prompts(10, seed=5).texts == ioi.ioi_prompts(10, seed=5).texts != ioi.ioi_prompts(10, seed=6).texts


def test_corrupted_prompts_keep_every_word_but_the_names_and_repeat_no_name():
    prompts = ioi.ioi_prompts(50, seed=2)
    corrupt = ioi.corrupted(prompts)
    assert corrupt.tokens.shape == prompts.tokens.shape and torch.equal(corrupt.end, prompts.end)
    name_positions = torch.stack([prompts.io_position, prompts.s1_position, prompts.s2_position], dim=1)
    unchanged = torch.ones_like(prompts.tokens, dtype=torch.bool).scatter(1, name_positions, False)
    assert torch.equal(corrupt.tokens[unchanged], prompts.tokens[unchanged])
    for row in range(len(prompts)):
        names = corrupt.tokens[row, name_positions[row]].tolist()
        assert len(set(names)) == 3 and not set(names) & {prompts.io[row].item(), prompts.s[row].item()}
    assert torch.equal(corrupt.io, prompts.io) and torch.equal(corrupt.s, prompts.s)


def test_logit_diff_reads_io_minus_s_at_the_last_position():
    prompts = ioi.ioi_prompts(3, templates=ioi.TEMPLATES[:1], seed=0)
    logits = torch.zeros(3, prompts.tokens.shape[1], 50257)
    rows = torch.arange(3)
    logits[rows, prompts.end, prompts.io] = torch.tensor([2.0, 0.0, 1.0])
    logits[rows, prompts.end, prompts.s] = torch.tensor([0.5, 1.0, 1.0])
    logits[rows, prompts.end - 1, prompts.io] = 100.0  # not the last position: ignored
    assert ioi.logit_diff(logits, prompts).tolist() == [1.5, -1.0, 0.0]


def test_position_names_finds_the_names_and_the_end_in_order():
    prompts = ioi.ioi_prompts(4, templates=ioi.TEMPLATES[:1], order="BABA")
    assert ioi.position_names(prompts) == {2: "S1", 4: "IO", 10: "S2", 14: "END"}


def test_position_names_refuses_a_batch_whose_roles_differ_by_row():
    """The review's finding: a mixed ABBA/BABA batch was labelled by its first row, wrong for the others."""
    prompts = ioi.ioi_prompts(8, templates=ioi.TEMPLATES[:1], order="mixed", seed=0)
    with pytest.raises(
        ValueError,
        match=r"position_names expected prompts whose names stand at the same positions in every row, "
        r"got row 0 2:\w+ 4:\w+ 10:S2 14:END and row \d+ ",
    ):
        ioi.position_names(prompts)


def test_role_masks_follow_each_prompts_own_roles():
    prompts = ioi.ioi_prompts(20, templates=ioi.TEMPLATES[:2], order="mixed", seed=1)  # two lengths, so padding too
    rows = torch.arange(len(prompts))
    for role, positions in (
        ("IO", prompts.io_position),
        ("S1", prompts.s1_position),
        ("S2", prompts.s2_position),
        ("END", prompts.end),
    ):
        mask = ioi.role_mask(prompts, [role])
        assert mask.sum().item() == len(prompts) and mask[rows, positions].all(), role
    everything = ioi.role_mask(prompts, ioi.ROLES)
    assert (
        everything.sum(1).tolist() == (prompts.end + 1).tolist()
    )  # every position up to the end, none of the padding, once


def test_patching_by_role_matches_patching_by_position_in_a_batch_of_one_order():
    from mi_course import load_model
    from mi_course.interventions import patch_by_position

    model = load_model("gpt2-twin", device="cpu")
    prompts, abc, metric = ioi.patching_case(model, 8, order="ABBA")
    hooks = ["blocks.0.hook_resid_pre"]
    by_role = ioi.patch_roles(model, prompts, abc, hooks, metric, [("IO",), ("S1",), ("END",)])
    by_position = patch_by_position(model, prompts.tokens, abc.tokens, hooks, metric)
    layout = {name: position for position, name in ioi.position_names(prompts).items()}
    assert torch.allclose(by_role[0], by_position[0, [layout["IO"], layout["S1"], layout["END"]]], atol=1e-5)


def test_as_written_keeps_the_slots_where_the_template_puts_them():
    prompts = ioi.ioi_prompts(
        6, templates=["After {S} left the {PLACE}, {S} met {IO} and gave a {OBJECT} to"], order="as written"
    )
    assert (prompts.s1_position < prompts.s2_position).all() and (prompts.s2_position < prompts.io_position).all()


BAD_INPUTS: dict[str, list[Bad]] = {
    "mi_course.ioi:ioi_prompts": [
        Bad(
            lambda k: ioi.ioi_prompts(
                4, templates=["{S} was happy. {S} found {IO} and gave a {OBJECT} to"], order="as written"
            ),
            ValueError,
            "ioi_prompts expected each name slot to follow a space",
        ),
        Bad(
            lambda k: ioi.ioi_prompts(4, names=["Mary", "Zachary"]),
            ioi.NotOneTokenError,
            re.escape(
                "ioi_prompts: the name 'Zachary' is 2 GPT-2 tokens after a space, ['Zach', 'ary']; use a name that is one token"
            ),
        ),
        Bad(
            lambda k: ioi.ioi_prompts(4, templates=["When {IO} and John went to the {PLACE}, he gave a {OBJECT} to"]),
            ValueError,
            "ioi_prompts expected each template to hold the slot {IO} once and {S} twice, got the name slots IO in",
        ),
        Bad(
            lambda k: ioi.ioi_prompts(4, templates=["When Mary and {S} went to the {PLACE}, {S} gave a {OBJECT} to"]),
            ValueError,
            "ioi_prompts expected each template to hold the slot {IO} once and {S} twice, got the name slots S-S in",
        ),
        # the IOI page's old "Try it" template: IO twice, S three times
        Bad(
            lambda k: ioi.ioi_prompts(
                4, templates=["When {S} and {IO} met, {S} said hello to {IO}. Then {S} gave a book to"]
            ),
            ValueError,
            re.escape("got the name slots S-IO-S-IO-S in"),
        ),
        Bad(
            lambda k: ioi.ioi_prompts(4, templates=["After {S} left the {PLACE}, {S} met {IO} and gave a {OBJECT} to"]),
            ValueError,
            re.escape(
                "ioi_prompts expected a template written IO-S-S, got the name slots S-S-IO in 'After {S} left the {PLACE}, "
                "{S} met {IO} and gave a {OBJECT} to'; order 'ABBA', 'BABA' or 'mixed' read a template written IO-S-S (ABBA) "
                "and swap its first two names for BABA; for any other order of the three slots, such as S-S-IO, where the "
                "last name is IO, pass order='as written'"
            ),
        ),
        Bad(
            lambda k: ioi.ioi_prompts(4, order="ABAB"),
            ValueError,
            "ioi_prompts expected order to be one of ABBA, BABA, mixed, as written, got 'ABAB'",
        ),
        Bad(lambda k: ioi.ioi_prompts(0), ValueError, "ioi_prompts expected n >= 1, got 0"),
        Bad(
            lambda k: ioi.ioi_prompts(4, names=["Mary"]),
            ValueError,
            "ioi_prompts expected at least 2 distinct names, got 1",
        ),
        Bad(
            lambda k: ioi.ioi_prompts(4, templates="When {IO} and {S} left, {S} gave it to"),
            TypeError,
            "ioi_prompts expected templates to be a list or tuple, got str",
        ),
    ],
    "mi_course.ioi:corrupted": [
        Bad(
            lambda k: ioi.corrupted("When Mary and John went"),
            TypeError,
            "corrupted expected prompts to be a IOIPrompts, got str",
        ),
        Bad(
            lambda k: ioi.corrupted(ioi.ioi_prompts(2), names=["Mary", "John"]),
            ValueError,
            "corrupted expected at least 5 distinct names, got 2",
        ),
    ],
    "mi_course.ioi:logit_diff": [
        Bad(
            lambda k: ioi.logit_diff(torch.zeros(2, 50257), ioi.ioi_prompts(2)),
            ValueError,
            re.escape("logit_diff expected logits of shape (batch, seq, vocab), got torch.float32 of shape (2, 50257)"),
        ),
        Bad(
            lambda k: ioi.logit_diff(torch.zeros(3, 2, 5), ioi.ioi_prompts(2, templates=ioi.TEMPLATES[:1])),
            ValueError,
            re.escape(
                "logit_diff expected logits of shape (batch, seq, vocab) with (batch, seq) = (2, 15), got (3, 2, 5)"
            ),
        ),
    ],
    "mi_course.ioi:ioi_metric": [
        Bad(
            lambda k: ioi.ioi_metric(
                ioi.ioi_prompts(2, templates=ioi.TEMPLATES[:1]), torch.zeros(2, 15, 50257), torch.zeros(2, 15, 50257)
            ),
            ValueError,
            re.escape(
                "ioi_metric: the clean and corrupted runs have one mean logit difference (0), so there is no gap"
            ),
        ),
        Bad(
            lambda k: ioi.ioi_metric(
                ioi.ioi_prompts(2, templates=ioi.TEMPLATES[:1]), torch.zeros(2, 15), torch.zeros(2, 15, 5)
            ),
            ValueError,
            re.escape("logit_diff expected logits of shape (batch, seq, vocab), got torch.float32 of shape (2, 15)"),
        ),
    ],
    "mi_course.ioi:patching_prompts": [
        Bad(lambda k: ioi.patching_prompts(0), ValueError, "patching_prompts expected n >= 1, got 0"),
        Bad(lambda k: ioi.patching_prompts(2, seed=-1), ValueError, "patching_prompts expected seed >= 0, got -1"),
        Bad(
            lambda k: ioi.patching_prompts(2, order="as written"),
            ValueError,
            "patching_prompts expected order to be one of ABBA, BABA, mixed, got 'as written'",
        ),
    ],
    "mi_course.ioi:patching_case": [
        Bad(
            lambda k: ioi.patching_case("gpt2-twin"),
            TypeError,
            "patching_case expected model to be a TransformerBridge",
        ),
    ],
    "mi_course.ioi:position_names": [
        Bad(
            lambda k: ioi.position_names("When Mary and John"),
            TypeError,
            "position_names expected prompts to be a IOIPrompts, got str",
        ),
    ],
    "mi_course.ioi:role_mask": [
        Bad(
            lambda k: ioi.role_mask(ioi.ioi_prompts(2), ["S3"]),
            ValueError,
            r"role_mask expected roles from S1, IO, S2, END, other, got \['S3'\]",
        ),
        Bad(
            lambda k: ioi.role_mask(ioi.ioi_prompts(2), "IO"),
            TypeError,
            "role_mask expected roles to be a list or tuple, got str",
        ),
    ],
    "mi_course.ioi:patch_roles": [
        Bad(
            lambda k: ioi.patch_roles(k.twin, *k.ioi_case[:2], "blocks.0.hook_resid_pre", k.ioi_case[2]),
            TypeError,
            "patch_roles expected hook_names to be a list of hook names, got the str 'blocks.0.hook_resid_pre'",
        ),
        Bad(
            lambda k: ioi.patch_roles(
                k.twin, k.ioi_case[0], k.ioi_case[1].tokens, ["blocks.0.hook_resid_pre"], k.ioi_case[2]
            ),
            TypeError,
            "patch_roles expected corrupted_prompts to be a IOIPrompts, got Tensor",
        ),
        Bad(
            lambda k: ioi.patch_roles(
                k.twin, *k.ioi_case[:2], ["blocks.0.hook_resid_pre"], k.ioi_case[2], [("IO", "S4")]
            ),
            ValueError,
            r"role_mask expected roles from S1, IO, S2, END, other, got \['IO', 'S4'\]",
        ),
        Bad(
            lambda k: ioi.patch_roles(k.twin, *k.ioi_case[:2], ["blocks.0.attn.hook_z"], k.ioi_case[2], head=4),
            ValueError,
            "patch_roles expected head >= 0 and <= 3, got 4",
        ),
    ],
    "mi_course.ioi:name_token": [
        Bad(
            lambda k: ioi.name_token("Zachary"),
            ioi.NotOneTokenError,
            "name_token: the name 'Zachary' is 2 GPT-2 tokens",
        ),
    ],
}
NO_BAD_INPUT: dict[str, str] = {
    "mi_course.ioi:IOIPrompts": "a record that ioi_prompts and corrupted build from checked input",
    "mi_course.ioi:NotOneTokenError": "an exception class",
}


@pytest.mark.parametrize("case", bad_input_params(BAD_INPUTS))
def test_bad_input_raises_a_clear_error(case, tmp_path_factory):
    assert_refused(case, shared_kit(tmp_path_factory))
