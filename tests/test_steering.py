"""Activation addition: the vector from contrast pairs, the hook that adds it, and seeded sampling."""

import re

import pytest
import torch

from mi_course import load_model, steering
from tests.bad_input import Bad, assert_refused, bad_input_params, shared_kit


@pytest.fixture(scope="module")
def shakespeare():
    return load_model("shakespeare-char", device="cpu")


def test_sampling_is_seeded_and_the_vector_of_identical_pairs_is_zero(shakespeare):
    first = steering.sample_texts(shakespeare, samples=2, length=30, seed=4)
    assert (
        first
        == steering.sample_texts(shakespeare, samples=2, length=30, seed=4)
        != steering.sample_texts(shakespeare, samples=2, length=30, seed=5)
    )
    assert all(len(text) == 30 for text in first)
    vector = steering.steering_vector(
        shakespeare, "blocks.2.hook_resid_pre", [("ROMEO.", "ROMEO."), ("Away!", "Away!")]
    )
    assert torch.equal(vector, torch.zeros(shakespeare.cfg.d_model))


def test_the_addition_hook_leaves_the_first_position_and_adds_everywhere_else(shakespeare):
    name, add = steering.addition_hook(shakespeare, "blocks.2.hook_resid_pre", torch.ones(shakespeare.cfg.d_model))
    activation = torch.zeros(2, 5, shakespeare.cfg.d_model)
    added = add(activation, None)
    assert (
        name == "blocks.2.hook_resid_pre"
        and added[:, 0].eq(0).all()
        and added[:, 1:].eq(1).all()
        and activation.eq(0).all()
    )


def test_one_vector_per_row_and_a_mask_of_positions_add_where_they_say(shakespeare):
    d_model = shakespeare.cfg.d_model
    vectors = torch.stack([torch.ones(d_model), 2 * torch.ones(d_model)])
    added = steering.addition_hook(shakespeare, "blocks.2.hook_resid_pre", vectors)[1](torch.zeros(2, 4, d_model), None)
    assert added[0, 1:].eq(1).all() and added[1, 1:].eq(2).all() and added[:, 0].eq(0).all()
    where = torch.tensor([[False, False, True, False], [True, False, False, False]])
    masked = steering.addition_hook(shakespeare, "blocks.2.hook_resid_pre", vectors, positions=where)[1](
        torch.zeros(2, 4, d_model), None
    )
    assert masked[where].sum() == d_model * 3 and masked[~where].eq(0).all()


def test_runs_with_different_seeds_share_no_random_numbers_and_each_seed_is_its_own_run(shakespeare):
    both = steering.sample_texts(shakespeare, samples=2, length=20, seed=[4, 5])
    assert both[:2] == steering.sample_texts(shakespeare, samples=2, length=20, seed=4)
    assert both[2:] == steering.sample_texts(shakespeare, samples=2, length=20, seed=5) != both[:2]


def test_a_contrast_vector_from_one_padded_batch_equals_the_pairs_one_by_one(shakespeare):
    pairs = [("ROMEO.", "Romeo."), ("AWAY, I SAY!", "Away, I say!")]
    hook = "blocks.2.hook_resid_pre"
    one_by_one = []
    for first, second in pairs:
        activations = [
            shakespeare.run_with_cache(shakespeare.to_tokens(text), names_filter=lambda name: name == hook)[1][hook][
                0, -1
            ]
            for text in (first, second)
        ]
        one_by_one.append(activations[0] - activations[1])
    assert torch.allclose(
        steering.steering_vector(shakespeare, hook, pairs), torch.stack(one_by_one).mean(dim=0), atol=1e-4
    )


BAD_INPUTS: dict[str, list[Bad]] = {
    "mi_course.steering:addition_hook": [
        Bad(
            lambda k: steering.addition_hook(k.bridge, "blocks.1.hook_resid_pre", torch.zeros(7)),
            ValueError,
            re.escape("addition_hook expected a vector of width d_model = ")
            + r"\d+"
            + re.escape(" to add at blocks.1.hook_resid_pre (one, or one per row), got shape (7,)"),
        ),
        Bad(
            lambda k: steering.addition_hook(
                k.bridge, "blocks.1.hook_resid_pre", torch.zeros(k.bridge.cfg.d_model), positions=torch.ones(2, 5)
            ),
            ValueError,
            "addition_hook expected positions to be a boolean \\(batch, pos\\) mask, got torch.float32 of shape \\(2, 5\\)",
        ),
    ],
    "mi_course.steering:steering_vector": [
        Bad(
            lambda k: steering.steering_vector(k.bridge, "blocks.1.hook_resid_pre", ["loud", "quiet"]),
            ValueError,
            "steering_vector expected a non-empty list of \\(text, text\\) pairs, got \\['loud', 'quiet'\\]",
        ),
        Bad(
            lambda k: steering.steering_vector(k.bridge, "blocks.1.hook_resid_pre", []),
            ValueError,
            "steering_vector expected a non-empty list of \\(text, text\\) pairs, got \\[\\]",
        ),
    ],
    "mi_course.steering:sample_texts": [
        Bad(
            lambda k: steering.sample_texts(k.bridge, samples=0, length=5, seed=0),
            ValueError,
            "sample_texts expected samples >= 1, got 0",
        ),
        Bad(
            lambda k: steering.sample_texts(k.bridge, samples=1, length=5, seed=[]),
            ValueError,
            "sample_texts expected seed to be a seed or a non-empty list of seeds, got \\[\\]",
        ),
        Bad(
            lambda k: steering.sample_texts(k.bridge, samples=1, length=5, seed=[0, -1]),
            ValueError,
            "sample_texts expected seed >= 0, got -1",
        ),
    ],
}
NO_BAD_INPUT: dict[str, str] = {}


@pytest.mark.parametrize("case", bad_input_params(BAD_INPUTS))
def test_bad_input_raises_a_clear_error(case, tmp_path_factory):
    assert_refused(case, shared_kit(tmp_path_factory))
