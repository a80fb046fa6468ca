"""Step 4 and the appendix: the toy model of superposition, the sparse autoencoder, and the memory calculator."""

import pytest
import torch

from mi_course import load_model, model_card
from mi_course.memory import TransformerShape, count_parameters, estimate_memory
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


@pytest.mark.parametrize("name", ["induction-2l", "shakespeare-char"])
def test_the_calculator_matches_what_the_shipped_models_allocate(name):
    model = load_model(name, device="cpu")
    shape = TransformerShape.from_config(model_card(name).config)
    assert count_parameters(shape) == sum(parameter.numel() for parameter in model.parameters())
    estimate = estimate_memory(shape, batch=4, seq_len=32)
    with torch.inference_mode():
        _, cache = model.run_with_cache(torch.zeros(4, 32, dtype=torch.long))
    measured = sum({t.untyped_storage().data_ptr(): t.untyped_storage().nbytes() for t in cache.values()}.values())
    assert abs(estimate.activations_bytes - measured) / measured < 0.10
    assert estimate_memory(shape, batch=4, seq_len=32, dtype=torch.bfloat16).weights_bytes * 2 == estimate.weights_bytes


def test_gpt2_small_has_its_published_parameter_count():
    gpt2 = TransformerShape(
        n_layers=12, d_model=768, n_heads=12, d_vocab=50257, n_ctx=1024, d_mlp=3072, tied_embeddings=True
    )
    assert count_parameters(gpt2) == 124_439_808  # Hugging Face's gpt2: sum of p.numel() over its parameters


def test_the_calculator_refuses_impossible_configs():
    with pytest.raises(ValueError, match=r"d_model \(100\) is not divisible by n_heads \(3\)"):
        TransformerShape(n_layers=2, d_model=100, n_heads=3, d_vocab=50, n_ctx=64)
    with pytest.raises(ValueError, match="n_layers must be a positive integer, got 0"):
        TransformerShape(n_layers=0, d_model=64, n_heads=4, d_vocab=50, n_ctx=64)
    shape = TransformerShape(n_layers=2, d_model=64, n_heads=4, d_vocab=50, n_ctx=64)
    with pytest.raises(ValueError, match=r"1 <= seq_len <= n_ctx \(64\)"):
        estimate_memory(shape, batch=1, seq_len=65)
    with pytest.raises(ValueError, match="expected a floating-point dtype"):
        estimate_memory(shape, batch=1, seq_len=8, dtype=torch.int8)
