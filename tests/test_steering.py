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
    assert first == steering.sample_texts(shakespeare, samples=2, length=30, seed=4) != steering.sample_texts(shakespeare, samples=2, length=30, seed=5)
    assert all(len(text) == 30 for text in first)
    vector = steering.steering_vector(shakespeare, "blocks.2.hook_resid_pre", [("ROMEO.", "ROMEO."), ("Away!", "Away!")])
    assert torch.equal(vector, torch.zeros(shakespeare.cfg.d_model))


def test_the_addition_hook_leaves_the_first_position_and_adds_everywhere_else(shakespeare):
    name, add = steering.addition_hook(shakespeare, "blocks.2.hook_resid_pre", torch.ones(shakespeare.cfg.d_model))
    activation = torch.zeros(2, 5, shakespeare.cfg.d_model)
    added = add(activation, None)
    assert name == "blocks.2.hook_resid_pre" and added[:, 0].eq(0).all() and added[:, 1:].eq(1).all() and activation.eq(0).all()


BAD_INPUTS: dict[str, list[Bad]] = {
    "mi_course.steering:addition_hook": [
        Bad(lambda k: steering.addition_hook(k.bridge, "blocks.1.hook_resid_pre", torch.zeros(7)), ValueError,
            re.escape("addition_hook expected a vector of width d_model = ") + r"\d+" + re.escape(" to add at blocks.1.hook_resid_pre, got shape (7,)")),
    ],
    "mi_course.steering:steering_vector": [
        Bad(lambda k: steering.steering_vector(k.bridge, "blocks.1.hook_resid_pre", ["loud", "quiet"]), ValueError,
            "steering_vector expected a non-empty list of \\(text, text\\) pairs, got \\['loud', 'quiet'\\]"),
        Bad(lambda k: steering.steering_vector(k.bridge, "blocks.1.hook_resid_pre", []), ValueError,
            "steering_vector expected a non-empty list of \\(text, text\\) pairs, got \\[\\]"),
    ],
    "mi_course.steering:sample_texts": [
        Bad(lambda k: steering.sample_texts(k.bridge, samples=0, length=5, seed=0), ValueError, "sample_texts expected samples >= 1, got 0"),
    ],
}
NO_BAD_INPUT: dict[str, str] = {}


@pytest.mark.parametrize("case", bad_input_params(BAD_INPUTS))
def test_bad_input_raises_a_clear_error(case, tmp_path_factory):
    assert_refused(case, shared_kit(tmp_path_factory))
