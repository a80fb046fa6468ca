"""mi_course.path_patching on gpt2-twin: what it computes, that patching all of a head's inputs equals patching its
output, and bad input to it.

The checker of the IOI chapter's path-patching exercise is tested in tests/test_checkers_ioi.py.
"""

import re

import pytest

from mi_course import path_patching
from mi_course.interventions import patch_heads
from tests.bad_input import Bad, assert_refused, bad_input_params, shared_kit


def test_patching_every_sender_to_the_logits_restores_the_clean_run(twin):
    model, clean, corrupted, metric = twin
    every_head = [(layer, head) for layer in range(model.cfg.n_layers) for head in range(model.cfg.n_heads)]
    # The prompts end on the same word in both runs, so with every head clean the last position is the clean run's.
    assert path_patching.path_patch(model, clean, corrupted, every_head, metric).item() == pytest.approx(1, abs=1e-4)
    assert path_patching.path_patch(model, clean, clean, [(0, 2)], metric).item() == pytest.approx(1, abs=1e-4)
    assert path_patching.path_patch(model, corrupted, corrupted, [(0, 2)], metric).item() == pytest.approx(0, abs=1e-4)


def test_a_last_layer_sender_to_the_logits_is_its_activation_patching(twin):
    """Nothing after the last layer's heads is a head, so freezing changes nothing there."""
    model, clean, corrupted, metric = twin
    last = model.cfg.n_layers - 1
    patched = patch_heads(model, clean, corrupted, metric)[last, 3]
    assert path_patching.path_patch(model, clean, corrupted, [(last, 3)], metric).item() == pytest.approx(
        patched.item(), abs=1e-5
    )


def test_the_receivers_queries_keys_and_values_together_carry_all_that_reaches_them(twin):
    """Patching q, k and v of a head is patching its output (the bridge's q, k, v hooks are live, not stale aliases: TL #1317)."""
    model, clean, corrupted, metric = twin
    layer_0 = [(0, head) for head in range(model.cfg.n_heads)]
    together = path_patching.path_patch(model, clean, corrupted, layer_0, metric, [(1, 3)], ("q", "k", "v")).item()
    assert abs(together) > 0.05
    # Layer 1's heads read only layer 0's heads and the (identical) embeddings, so q, k and v from layer 0 are all of their input.
    output_patched = patch_heads(model, clean, corrupted, metric)[1, 3].item()
    assert together == pytest.approx(output_patched, abs=1e-4)


# --- bad input ------------------------------------------------------------------------------------------------------


BAD_INPUTS: dict[str, list[Bad]] = {
    "mi_course.path_patching:path_patch": [
        Bad(
            lambda k: path_patching.path_patch(*k.twin_patching_case[:3], [(2, 0)], k.twin_patching_case[3]),
            ValueError,
            re.escape("path_patch expected the layer of each of senders >= 0 and <= 1, got 2"),
        ),
        Bad(
            lambda k: path_patching.path_patch(*k.twin_patching_case[:3], (0, 1), k.twin_patching_case[3]),
            TypeError,
            re.escape("path_patch expected each of senders to be a (layer, head) pair, got 0"),
        ),
        Bad(
            lambda k: path_patching.path_patch(*k.twin_patching_case[:3], [(1, 0)], k.twin_patching_case[3], [(1, 3)]),
            ValueError,
            re.escape(
                "path_patch: receivers 1.3 are not in a layer after every sender's (the first sender is in layer 1)"
            ),
        ),
        Bad(
            lambda k: path_patching.path_patch(
                *k.twin_patching_case[:3], [(0, 0)], k.twin_patching_case[3], [(1, 3)], "query"
            ),
            ValueError,
            re.escape("path_patch expected receiver_inputs to be some of q, k, v, got 'query'"),
        ),
        Bad(
            lambda k: path_patching.path_patch(
                *k.twin_patching_case[:2], k.twin_patching_case[2][:, :-1], [(0, 0)], k.twin_patching_case[3]
            ),
            ValueError,
            re.escape("path_patch expected clean and corrupted tokens of one shape, got (2, 15) and (2, 14)"),
        ),
    ],
}
NO_BAD_INPUT: dict[str, str] = {}


@pytest.mark.parametrize("case", bad_input_params(BAD_INPUTS))
def test_bad_input_raises_a_clear_error(case, tmp_path_factory):
    assert_refused(case, shared_kit(tmp_path_factory))
