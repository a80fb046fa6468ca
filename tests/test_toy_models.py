"""mi_course.toy_models: bad input to the toy models of superposition and the sparse autoencoder.

What they learn is tested at the end of this file.
"""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from mi_course import toy_models
from mi_course.toy_models import (
    SparseAutoencoder,
    ToyConfig,
    dead_latents,
    evaluate_sae,
    feature_recovery,
    fraction_of_variance_unexplained,
    mean_l0,
    random_sae,
    sae_loss,
    train_sae,
    train_toy_model,
)
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


SPARSE = ToyConfig(n_features=5, d_hidden=2, feature_probability=0.05)
# the SAE demo's: enough dimensions that random directions are far from the features (snippets/step4/sparse_autoencoder.py)
WIDE = ToyConfig(n_features=30, d_hidden=10, feature_probability=0.05, importance_decay=1.0, steps=1_500)


@pytest.fixture(scope="module")
def sparse_toy():
    return train_toy_model(SPARSE)


def test_sparse_features_are_stored_in_superposition_as_a_pentagon(sparse_toy):
    directions = sparse_toy.W.detach()
    assert (directions.norm(dim=0) > 0.9).all()
    angles = torch.atan2(directions[1], directions[0]).rad2deg().sort().values
    gaps = torch.cat([angles.diff(), (360 - (angles[-1] - angles[0])).reshape(1)])
    assert torch.allclose(gaps, torch.full((5,), 72.0), atol=6)


def test_dense_features_are_not_packed_the_least_important_are_dropped():
    norms = (
        train_toy_model(ToyConfig(n_features=5, d_hidden=2, feature_probability=0.5, steps=1_500))
        .W.detach()
        .norm(dim=0)
    )
    assert (norms[-2:] < 0.5).all() and (norms[:2] > 0.9).all()


def test_a_negative_bias_is_why_the_pentagons_norms_exceed_1(sparse_toy):
    gram, bias = (sparse_toy.W.T @ sparse_toy.W).detach(), sparse_toy.b_final.detach()
    assert (bias < -0.15).all() and (gram.diagonal() > 1.15).all()  # |W_i|^2 > 1 makes up for the bias
    alone = sparse_toy(torch.eye(5)).detach()  # each feature alone at value 1
    assert torch.allclose(alone.diagonal(), gram.diagonal() + bias) and (alone.diagonal() - 1).abs().max() < 0.1
    neighbours = gram.fill_diagonal_(-1).max(dim=1).values  # the interference from the closest feature, at 72 degrees
    assert (neighbours > 0.3).all() and (neighbours + bias < 0.2).all()  # the bias silences most of it


def test_in_two_dimensions_an_sae_recovers_the_pentagon_but_so_nearly_does_chance(sparse_toy):
    sae = train_sae(sparse_toy, SPARSE, d_sae=10, l1_coefficient=0.2)  # the notebook's call
    assert (feature_recovery(sparse_toy, sae) > 0.95).all()
    assert feature_recovery(sparse_toy, random_sae(2, 10)).median() > 0.9  # why the demo works in 10 dimensions
    with pytest.raises(ValueError, match="expected d_sae >= 1"):
        train_sae(sparse_toy, SPARSE, d_sae=0)


@pytest.fixture(scope="module")
def wide_toy():
    return train_toy_model(WIDE)


def test_in_ten_dimensions_a_trained_sae_recovers_the_features_and_a_random_one_does_not(wide_toy):
    assert (wide_toy.W.detach().norm(dim=0) > 0.9).all()  # all 30 features are stored
    trained = evaluate_sae(wide_toy, WIDE, train_sae(wide_toy, WIDE, d_sae=60, l1_coefficient=0.2, steps=1_500))
    chance = evaluate_sae(wide_toy, WIDE, random_sae(10, 60))
    assert trained.recovered >= 29 and trained.recovery_median > 0.99, trained
    assert chance.recovered <= 1 and chance.recovery_median < 0.8, chance
    assert trained.l0 < 6 < 15 < chance.l0 and trained.fvu < 0.15 < 1 < chance.fvu and trained.dead <= 6, (
        trained,
        chance,
    )


def test_the_metrics_on_latents_whose_answers_are_known():
    latents = torch.tensor([[0.0, 2.0, 0.0, 1.0], [0.0, 0.5, 0.0, 0.0], [0.0, 0.0, 3.0, 0.0]])
    assert mean_l0(latents) == pytest.approx(4 / 3) and dead_latents(latents) == 1
    h = torch.tensor([[1.0, 0.0], [-1.0, 0.0], [0.0, 2.0], [0.0, -2.0]])  # mean 0, squared deviation 10
    assert fraction_of_variance_unexplained(h, h) == 0 and fraction_of_variance_unexplained(h, torch.zeros(4, 2)) == 1
    assert fraction_of_variance_unexplained(h, h + 0.5) == pytest.approx(8 * 0.25 / 10)


def test_the_random_baseline_and_the_decoder_normalisation():
    sae = random_sae(10, 60, seed=3)
    assert torch.allclose(sae.W_dec.norm(dim=1), torch.ones(60)) and torch.equal(sae.W_enc, sae.W_dec.T)
    assert not sae.b_enc.any() and not sae.b_dec.any() and torch.equal(random_sae(10, 60, seed=3).W_dec, sae.W_dec)
    torch.manual_seed(0)
    free = SparseAutoencoder(4, 9)
    with torch.no_grad():
        free.W_dec.mul_(torch.linspace(0.2, 3, 9)[:, None])
        free.b_enc.uniform_(-0.5, 0.5)
        free.b_dec.uniform_(-0.5, 0.5)
    h = torch.randn(32, 4)
    before, loss_before = free(h)[0].detach(), sae_loss(free, h, 0.3).item()
    free.normalize_decoder()  # unit rows, the same function and, with the norm-weighted penalty, the same loss
    assert torch.allclose(free.W_dec.norm(dim=1), torch.ones(9)) and torch.allclose(free(h)[0], before, atol=1e-5)
    assert sae_loss(free, h, 0.3).item() == pytest.approx(loss_before, rel=1e-5)
