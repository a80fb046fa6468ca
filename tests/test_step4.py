"""Step 4 and the appendix: the toy model of superposition, the sparse autoencoder, and the memory calculator."""

import pytest
import torch

from mi_course import load_model, model_card
from mi_course.memory import TransformerShape, count_parameters, estimate_memory
from mi_course.toy_models import SparseAutoencoder, ToyConfig, feature_recovery, train_sae, train_toy_model

SPARSE = ToyConfig(n_features=5, d_hidden=2, feature_probability=0.05)


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
    norms = train_toy_model(ToyConfig(n_features=5, d_hidden=2, feature_probability=0.5, steps=1_500)).W.detach().norm(dim=0)
    assert (norms[-2:] < 0.5).all() and (norms[:2] > 0.9).all()


def test_a_sparse_autoencoder_recovers_the_features_and_an_untrained_one_does_not(sparse_toy):
    sae = train_sae(sparse_toy, SPARSE, d_sae=10, l1_coefficient=0.2)
    assert (feature_recovery(sparse_toy, sae) > 0.95).all()
    torch.manual_seed(0)
    assert (feature_recovery(sparse_toy, SparseAutoencoder(2, 2)) > 0.95).sum() < 5
    with pytest.raises(ValueError, match="expected d_sae >= 1"):
        train_sae(sparse_toy, SPARSE, d_sae=0)


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
    gpt2 = TransformerShape(n_layers=12, d_model=768, n_heads=12, d_vocab=50257, n_ctx=1024, d_mlp=3072, tied_embeddings=True)
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
