"""mi_course.probes: linear probes and their baselines, and bad input to each.

The checker of the features page's probe exercise is tested in tests/test_checkers_features.py.
"""

import re

import pytest
import torch
from torch import nn

from mi_course import probes
from tests.bad_input import Bad, assert_refused, bad_input_params, shared_kit


def separable(n=200, seed=0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 8, generator=generator)
    return x, (x[:, 3] > 0.5).float()  # unbalanced: about 30% ones


def test_a_probe_separates_what_a_direction_separates_and_balanced_positions_halve_chance():
    x, y = separable()
    probe = probes.train_probe(x, y)
    assert probes.probe_accuracy(probe, *separable(seed=1)) > 0.95
    positions, labels = probes.balanced_positions(y.bool(), ~y.bool(), seed=0)
    assert labels.mean() == 0.5 and (y[positions] == labels).all()


def test_a_random_model_has_the_shape_and_tokenizer_of_the_shipped_one_and_none_of_its_training():
    from mi_course import load_model

    trained, untrained = load_model("shakespeare-char", device="cpu"), probes.random_model_like("shakespeare-char")
    assert (
        untrained.cfg.n_layers == trained.cfg.n_layers
        and untrained.to_tokens("ROMEO.").tolist() == trained.to_tokens("ROMEO.").tolist()
    )
    assert not torch.allclose(untrained.W_E, trained.W_E)


def test_probes_fitted_to_shuffled_labels_score_about_chance_and_differ_by_draw():
    x, y = separable(400)
    test_x, test_y = separable(400, seed=1)
    chance = probes.shuffled_label_accuracies(x, y, test_x, test_y, draws=5)
    assert (
        len(chance.values) == 5
        and len(set(chance.values)) > 1
        and chance.p95 < probes.probe_accuracy(probes.train_probe(x, y), test_x, test_y) - 0.1
    )


BAD_INPUTS: dict[str, list[Bad]] = {
    "mi_course.probes:train_probe": [
        Bad(
            lambda k: probes.train_probe(torch.zeros(10, 4), torch.zeros(9)),
            ValueError,
            re.escape("train_probe expected one label per activation, labels of shape (10,), got shape (9,)"),
        ),
        Bad(
            lambda k: probes.train_probe(torch.zeros(10, 4), torch.full((10,), 2.0)),
            ValueError,
            re.escape("train_probe expected labels of 0.0 and 1.0 (a float tensor), got torch.float32 of shape (10,)"),
        ),
        Bad(
            lambda k: probes.train_probe(torch.zeros(10), torch.zeros(10)),
            ValueError,
            re.escape("train_probe expected activations of shape (n, d_model), got torch.float32 of shape (10,)"),
        ),
    ],
    "mi_course.probes:probe_accuracy": [
        Bad(
            lambda k: probes.probe_accuracy(nn.Linear(4, 1), torch.zeros(10, 4), [0, 1]),
            ValueError,
            re.escape("probe_accuracy expected one label per activation, labels of shape (10,), got list"),
        ),
    ],
    "mi_course.probes:shuffled_label_accuracies": [
        Bad(
            lambda k: probes.shuffled_label_accuracies(
                torch.zeros(10, 4), torch.zeros(10), torch.zeros(6, 4), torch.zeros(6), draws=1
            ),
            ValueError,
            "shuffled_label_accuracies expected draws >= 2, got 1",
        ),
        Bad(
            lambda k: probes.shuffled_label_accuracies(
                torch.zeros(10, 4), torch.zeros(9), torch.zeros(6, 4), torch.zeros(6)
            ),
            ValueError,
            re.escape(
                "shuffled_label_accuracies expected train_labels of 0.0 and 1.0, one per activation (shape (10,)), got"
            ),
        ),
        Bad(
            lambda k: probes.shuffled_label_accuracies(
                torch.zeros(10, 4), torch.zeros(10), torch.zeros(6, 3), torch.zeros(6)
            ),
            ValueError,
            "shuffled_label_accuracies expected train and test activations of one width, got 4 and 3",
        ),
    ],
    "mi_course.probes:balanced_positions": [
        Bad(
            lambda k: probes.balanced_positions(
                torch.zeros(4, dtype=torch.bool), torch.ones(4, dtype=torch.bool), seed=0
            ),
            ValueError,
            "balanced_positions needs positions of both classes, got 0 positive and 4 negative",
        ),
        Bad(
            lambda k: probes.balanced_positions(torch.zeros(4), torch.ones(4, dtype=torch.bool), seed=0),
            ValueError,
            "balanced_positions expected positive to be a 1-D boolean mask, got torch.float32 of shape",
        ),
    ],
    "mi_course.probes:random_model_like": [
        Bad(
            lambda k: probes.random_model_like("gpt2-twin"),
            ValueError,
            "random_model_like expected a shipped model of TransformerLens' native kind, got 'gpt2-twin'",
        ),
    ],
}
NO_BAD_INPUT: dict[str, str] = {}


@pytest.mark.parametrize("case", bad_input_params(BAD_INPUTS))
def test_bad_input_raises_a_clear_error(case, tmp_path_factory):
    assert_refused(case, shared_kit(tmp_path_factory))
