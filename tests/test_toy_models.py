"""mi_course.toy_models: bad input to the toy models of superposition and the sparse autoencoder.

What they learn is tested with Step 4 (tests/test_step4.py).
"""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from mi_course import toy_models
from tests.bad_input import FAST, Bad, assert_refused, bad_input_params, shared_kit, sizes

BAD_INPUTS: dict[str, list[Bad]] = {
    "mi_course.toy_models:ToyConfig": [
        Bad(
            lambda k: toy_models.ToyConfig(feature_probability=1.5),
            ValueError,
            "ToyConfig expected 0 <= feature_probability <= 1, got 1.5",
        ),
        Bad(lambda k: toy_models.ToyConfig(d_hidden=0), ValueError, "ToyConfig expected d_hidden >= 1, got 0"),
        Bad(
            lambda k: toy_models.ToyConfig(n_features="5"),
            TypeError,
            "ToyConfig expected n_features to be an int, got str",
        ),
    ],
    "mi_course.toy_models:ToyModel": [
        Bad(
            lambda k: toy_models.ToyModel({"n_features": 5}),
            TypeError,
            "ToyModel expected cfg to be a ToyConfig, got dict",
        ),
    ],
    "mi_course.toy_models:SparseAutoencoder": [
        Bad(lambda k: toy_models.SparseAutoencoder(2, 0), ValueError, "SparseAutoencoder expected d_sae >= 1, got 0"),
        Bad(
            lambda k: toy_models.SparseAutoencoder(2.0, 5),
            TypeError,
            "SparseAutoencoder expected d_in to be an int, got float",
        ),
    ],
    "mi_course.toy_models:_sparse_features": [
        Bad(
            lambda k: toy_models._sparse_features(0, toy_models.ToyConfig(), torch.Generator()),
            ValueError,
            "_sparse_features expected batch >= 1, got 0",
        ),
        Bad(
            lambda k: toy_models._sparse_features(8, toy_models.ToyConfig(), 0),
            TypeError,
            "_sparse_features expected generator to be a Generator, got int",
        ),
    ],
    "mi_course.toy_models:train_toy_model": [
        Bad(
            lambda k: toy_models.train_toy_model({"steps": 1}),
            TypeError,
            "train_toy_model expected cfg to be a ToyConfig, got dict",
        ),
    ],
    "mi_course.toy_models:train_sae": [
        Bad(
            lambda k: toy_models.train_sae(k.toy, toy_models.ToyConfig(), 0),
            ValueError,
            "train_sae expected d_sae >= 1, got 0",
        ),
        Bad(
            lambda k: toy_models.train_sae(k.sae, toy_models.ToyConfig(), 5),
            TypeError,
            "train_sae expected model to be a ToyModel, got SparseAutoencoder",
        ),
        Bad(
            lambda k: toy_models.train_sae(k.toy, toy_models.ToyConfig(n_features=6), 5),
            ValueError,
            "train_sae expected cfg of the model's 5 features, got cfg.n_features=6",
        ),
        Bad(
            lambda k: toy_models.train_sae(k.toy, toy_models.ToyConfig(), 5, loss="mse"),
            TypeError,
            r"train_sae expected loss to be a function \(sae, h, l1_coefficient\) -> loss, got str",
        ),
    ],
    "mi_course.toy_models:sae_loss": [
        Bad(
            lambda k: toy_models.sae_loss(k.toy, torch.zeros(4, 2), 0.1),
            TypeError,
            "sae_loss expected sae to be a SparseAutoencoder, got ToyModel",
        ),
        Bad(
            lambda k: toy_models.sae_loss(k.sae, torch.zeros(4, 3), 0.1),
            ValueError,
            r"sae_loss expected h of shape \(batch, 2\) for the SAE's d_in, got \(4, 3\)",
        ),
        Bad(
            lambda k: toy_models.sae_loss(k.sae, torch.zeros(2), 0.1),
            ValueError,
            r"sae_loss expected h of shape \(batch, d_in\), got torch.float32 of shape \(2,\)",
        ),
        Bad(
            lambda k: toy_models.sae_loss(k.sae, torch.zeros(4, 2), -1.0),
            ValueError,
            "sae_loss expected l1_coefficient to be a finite number >= 0, got -1.0",
        ),
    ],
    "mi_course.toy_models:random_sae": [
        Bad(lambda k: toy_models.random_sae(2, 0), ValueError, "random_sae expected d_sae >= 1, got 0"),
        Bad(lambda k: toy_models.random_sae(2, 5, seed=-1), ValueError, "random_sae expected seed >= 0, got -1"),
    ],
    "mi_course.toy_models:mean_l0": [
        Bad(
            lambda k: toy_models.mean_l0([[1.0]]),
            TypeError,
            r"mean_l0 expected latents of shape \(batch, d_sae\), got list",
        ),
        Bad(
            lambda k: toy_models.mean_l0(torch.zeros(0, 5)),
            ValueError,
            r"mean_l0 expected latents of at least one input and one latent, got shape \(0, 5\)",
        ),
    ],
    "mi_course.toy_models:dead_latents": [
        Bad(
            lambda k: toy_models.dead_latents(torch.zeros(3)),
            ValueError,
            r"dead_latents expected latents of shape \(batch, d_sae\), got torch.float32 of shape \(3,\)",
        ),
    ],
    "mi_course.toy_models:fraction_of_variance_unexplained": [
        Bad(
            lambda k: toy_models.fraction_of_variance_unexplained(torch.randn(4, 2), torch.zeros(4, 3)),
            ValueError,
            r"fraction_of_variance_unexplained expected reconstruction of h's shape \(4, 2\), got \(4, 3\)",
        ),
        Bad(
            lambda k: toy_models.fraction_of_variance_unexplained(torch.ones(4, 2), torch.ones(4, 2)),
            ValueError,
            r"fraction_of_variance_unexplained expected h that varies across the batch, got h of shape \(4, 2\) with no variance",
        ),
        Bad(
            lambda k: toy_models.fraction_of_variance_unexplained(torch.ones(4, 2), "reconstruction"),
            TypeError,
            r"fraction_of_variance_unexplained expected reconstruction of shape \(batch, d_in\), got str",
        ),
    ],
    "mi_course.toy_models:evaluate_sae": [
        Bad(
            lambda k: toy_models.evaluate_sae(k.toy, toy_models.ToyConfig(), k.toy),
            TypeError,
            "evaluate_sae expected sae to be a SparseAutoencoder, got ToyModel",
        ),
        Bad(
            lambda k: toy_models.evaluate_sae(k.toy, toy_models.ToyConfig(n_features=6), k.sae),
            ValueError,
            "evaluate_sae expected cfg of the model's 5 features, got cfg.n_features=6",
        ),
        Bad(
            lambda k: toy_models.evaluate_sae(k.toy, toy_models.ToyConfig(), toy_models.SparseAutoencoder(3, 5)),
            ValueError,
            "evaluate_sae expected an SAE of the model's d_hidden = 2, got one of d_in = 3",
        ),
        Bad(
            lambda k: toy_models.evaluate_sae(k.toy, toy_models.ToyConfig(), k.sae, threshold=1.5),
            ValueError,
            "evaluate_sae expected 0 < threshold < 1, got 1.5",
        ),
        Bad(
            lambda k: toy_models.evaluate_sae(k.toy, toy_models.ToyConfig(), k.sae, batch_size=1),
            ValueError,
            "evaluate_sae expected batch_size >= 2, got 1",
        ),
    ],
    "mi_course.toy_models:feature_recovery": [
        Bad(
            lambda k: toy_models.feature_recovery(k.toy, k.toy),
            TypeError,
            "feature_recovery expected sae to be a SparseAutoencoder, got ToyModel",
        ),
        Bad(
            lambda k: toy_models.feature_recovery(k.toy, toy_models.SparseAutoencoder(3, 5)),
            ValueError,
            "feature_recovery expected an SAE of the model's d_hidden = 2, got one of d_in = 3",
        ),
    ],
}
# What takes no input, or only free text, and so has no bad input to refuse.
NO_BAD_INPUT: dict[str, str] = {
    "mi_course.toy_models:SAEEvaluation": "a record of what evaluate_sae measured, made by evaluate_sae, not by the reader",
}


@pytest.mark.parametrize("case", bad_input_params(BAD_INPUTS))
def test_bad_input_raises_a_clear_error(case, tmp_path_factory):
    assert_refused(case, shared_kit(tmp_path_factory))


@FAST
@given(
    n_features=sizes,
    d_hidden=sizes,
    feature_probability=st.one_of(st.floats(allow_nan=True), st.text(max_size=1)),
    steps=sizes,
    lr=st.floats(-1, 1),
)
def test_toy_config_takes_any_values_or_says_what_is_wrong(n_features, d_hidden, feature_probability, steps, lr):
    try:
        toy_models.ToyConfig(
            n_features=n_features, d_hidden=d_hidden, feature_probability=feature_probability, steps=steps, lr=lr
        )
    except (TypeError, ValueError) as error:
        assert str(error).startswith("ToyConfig expected "), error
