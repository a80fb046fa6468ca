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
        Bad(lambda k: toy_models.ToyConfig(feature_probability=1.5), ValueError, "ToyConfig expected 0 <= feature_probability <= 1, got 1.5"),
        Bad(lambda k: toy_models.ToyConfig(d_hidden=0), ValueError, "ToyConfig expected d_hidden >= 1, got 0"),
        Bad(lambda k: toy_models.ToyConfig(n_features="5"), TypeError, "ToyConfig expected n_features to be an int, got str"),
    ],
    "mi_course.toy_models:ToyModel": [
        Bad(lambda k: toy_models.ToyModel({"n_features": 5}), TypeError, "ToyModel expected cfg to be a ToyConfig, got dict"),
    ],
    "mi_course.toy_models:SparseAutoencoder": [
        Bad(lambda k: toy_models.SparseAutoencoder(2, 0), ValueError, "SparseAutoencoder expected d_sae >= 1, got 0"),
        Bad(lambda k: toy_models.SparseAutoencoder(2.0, 5), TypeError, "SparseAutoencoder expected d_in to be an int, got float"),
    ],
    "mi_course.toy_models:_sparse_features": [
        Bad(lambda k: toy_models._sparse_features(0, toy_models.ToyConfig(), torch.Generator()), ValueError, "_sparse_features expected batch >= 1, got 0"),
        Bad(lambda k: toy_models._sparse_features(8, toy_models.ToyConfig(), 0), TypeError, "_sparse_features expected generator to be a Generator, got int"),
    ],
    "mi_course.toy_models:train_toy_model": [
        Bad(lambda k: toy_models.train_toy_model({"steps": 1}), TypeError, "train_toy_model expected cfg to be a ToyConfig, got dict"),
    ],
    "mi_course.toy_models:train_sae": [
        Bad(lambda k: toy_models.train_sae(k.toy, toy_models.ToyConfig(), 0), ValueError, "train_sae expected d_sae >= 1, got 0"),
        Bad(lambda k: toy_models.train_sae(k.sae, toy_models.ToyConfig(), 5), TypeError, "train_sae expected model to be a ToyModel, got SparseAutoencoder"),
        Bad(lambda k: toy_models.train_sae(k.toy, toy_models.ToyConfig(n_features=6), 5), ValueError, "train_sae expected cfg of the model's 5 features, got cfg.n_features=6"),
    ],
    "mi_course.toy_models:feature_recovery": [
        Bad(lambda k: toy_models.feature_recovery(k.toy, k.toy), TypeError, "feature_recovery expected sae to be a SparseAutoencoder, got ToyModel"),
        Bad(lambda k: toy_models.feature_recovery(k.toy, toy_models.SparseAutoencoder(3, 5)), ValueError,
            "feature_recovery expected an SAE of the model's d_hidden = 2, got one of d_in = 3"),
    ],
}
# What takes no input, or only free text, and so has no bad input to refuse.
NO_BAD_INPUT: dict[str, str] = {}


@pytest.mark.parametrize("case", bad_input_params(BAD_INPUTS))
def test_bad_input_raises_a_clear_error(case, tmp_path_factory):
    assert_refused(case, shared_kit(tmp_path_factory))


@FAST
@given(n_features=sizes, d_hidden=sizes, feature_probability=st.one_of(st.floats(allow_nan=True), st.text(max_size=1)),
       steps=sizes, lr=st.floats(-1, 1))
def test_toy_config_takes_any_values_or_says_what_is_wrong(n_features, d_hidden, feature_probability, steps, lr):
    try:
        toy_models.ToyConfig(n_features=n_features, d_hidden=d_hidden, feature_probability=feature_probability, steps=steps, lr=lr)
    except (TypeError, ValueError) as error:
        assert str(error).startswith("ToyConfig expected "), error
