"""grokking-113: the shipped checkpoint grokked, its card and history say what it measures, the analysis refuses other moduli."""

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from mi_course import grokking
from mi_course.grokking import (
    embedding_spectrum,
    excluded_loss,
    fourier_basis,
    key_frequencies,
    losses_and_accuracies,
    modular_addition,
    pair_logits,
    restricted_loss,
    spectrum_of,
)
from mi_course.training import GROKKING_RECIPE, equals_logits, new_native_model, train_grokking
from mi_course.zoo import load_model, model_card

NAME = "grokking-113"
PAGE = Path(__file__).resolve().parents[1] / "docs" / "paths" / "build-on-a-paper.ipynb"


@pytest.fixture(scope="module")
def card():
    return model_card(NAME)


@pytest.fixture(scope="module")
def model():
    return load_model(NAME, device="cpu")


@pytest.fixture(scope="module")
def data(card):
    recipe = card.training["recipe"]
    return modular_addition(recipe["p"], recipe["train_fraction"], recipe["seed"])


@pytest.fixture(scope="module")
def logits(model, data):
    return pair_logits(model, data)


def test_the_card_says_it_grokked_and_the_checkpoint_reproduces_its_metrics(card, data, logits):
    assert card.metrics["test_accuracy"] > 0.99 and card.metrics["train_accuracy"] == 1.0
    assert card.training["epochs_to_test_accuracy_99"] is not None
    measured = losses_and_accuracies(logits, data)
    for name, value in measured.items():  # the card's values were measured by the trainer's own forward pass
        assert value == pytest.approx(card.metrics[name], rel=1e-3), name
    assert measured["test_accuracy"] > 0.99


def test_the_split_is_the_recipes_fraction_and_the_labels_are_sums_mod_p(data):
    p = data.p
    assert data.is_train.sum() == int(0.3 * p * p)
    assert torch.equal(data.labels, (data.tokens[:, 0] + data.tokens[:, 1]) % p)
    assert torch.equal(data.tokens[7 * p + 5], torch.tensor([7, 5, p]))


def test_key_frequencies_of_the_shipped_embedding_are_the_cards(card, model):
    assert key_frequencies(embedding_spectrum(model, 113)) == card.metrics["key_frequencies"]


def test_restricted_loss_is_below_excluded_loss_at_the_end(card, data, logits):
    key = card.metrics["key_frequencies"]
    restricted, excluded = restricted_loss(logits, data, key), excluded_loss(logits, data, key)
    assert restricted < excluded
    assert restricted == pytest.approx(card.metrics["restricted_loss"], rel=1e-3)
    assert excluded == pytest.approx(card.metrics["excluded_loss"], rel=1e-3)


def test_the_shipped_history_ends_where_the_card_does(card):
    history = grokking.training_history(NAME)
    assert history["epoch"][-1] == card.training["epochs"]
    for name in ("train_loss", "test_loss", "test_accuracy", "restricted_loss", "excluded_loss"):
        assert history[name][-1] == card.metrics[name], name
    assert len(history["embedding_spectrum"]) == len(history["epoch"])
    assert history["test_accuracy"][0] < 0.05 < 0.99 < history["test_accuracy"][-1], "no grokking in the history"


@pytest.mark.parametrize("p", [7, 113])
def test_the_fourier_basis_is_orthonormal(p):
    basis, names = fourier_basis(p)
    assert basis.shape == (p, p) and len(names) == p and names[:3] == ["constant", "cos 1", "sin 1"]
    assert torch.allclose(basis @ basis.T, torch.eye(p, dtype=basis.dtype), atol=1e-10)


def test_the_spectrum_finds_the_frequency_an_embedding_is_made_of():
    p, x = 113, torch.arange(113, dtype=torch.float64)
    embedding = torch.stack([torch.cos(2 * torch.pi * 14 * x / p), torch.sin(2 * torch.pi * 14 * x / p), torch.ones(p)], dim=1)
    spectrum = spectrum_of(embedding.float(), p)
    assert spectrum.shape == ((p + 1) // 2,)
    assert key_frequencies(spectrum) == [14]
    assert spectrum[0] > 0 and spectrum[1:14].abs().max() < 1e-4


def test_with_every_frequency_the_projection_averages_the_logits_over_pairs_with_the_same_sum(data, logits):
    import torch.nn.functional as F

    p, every = data.p, list(range(1, (data.p - 1) // 2 + 1))
    sums = data.labels  # (a + b) mod p
    per_sum = torch.zeros(p, p, dtype=torch.float64).index_add_(0, sums, logits.double()) / p  # p pairs per sum
    kept, removed = per_sum[sums], logits.double() - per_sum[sums] + logits.double().mean(0)
    assert restricted_loss(logits, data, every) == pytest.approx(F.cross_entropy(kept, data.labels).item(), rel=1e-6)
    expected = F.cross_entropy(removed[data.is_train], data.train_labels).item()
    assert excluded_loss(logits, data, every) == pytest.approx(expected, rel=1e-6)


def test_a_model_of_another_modulus_is_refused(model, data):
    with pytest.raises(ValueError, match=r"trained for another modulus: a model of addition mod p=97 has p \+ 1 = 98 input tokens"):
        embedding_spectrum(model, 97)
    with pytest.raises(ValueError, match=r"another modulus"):
        pair_logits(model, modular_addition(97, 0.3, 0))
    with pytest.raises(ValueError, match=r"another modulus"):
        pair_logits(load_model("induction-2l", device="cpu"), data)
    with pytest.raises(ValueError, match=r"expected logits of shape \(9409, 97\) .* a model of another modulus"):
        restricted_loss(torch.zeros(113 * 113, 113), modular_addition(97, 0.3, 0), [1])


def test_equals_logits_is_the_native_models_last_position():
    model = new_native_model(GROKKING_RECIPE.config(), seed=3).eval()
    a, b = torch.randint(0, 113, (64,)), torch.randint(0, 113, (64,))
    with torch.inference_mode():
        expected = model(torch.stack([a, b, torch.full_like(a, 113)], dim=1))[:, -1]
        assert torch.allclose(equals_logits(model, a, b), expected, atol=1e-5)


def test_a_scaled_down_run_trains_and_is_deterministic():
    recipe = replace(GROKKING_RECIPE, epochs=20)
    first, card, files = train_grokking(recipe)
    second, _, files_again = train_grokking(recipe)
    assert first.keys() == second.keys() and all(torch.equal(first[name], second[name]) for name in first)
    assert files == files_again
    assert card.training["epochs"] == 20 and card.metrics["train_loss"] < 4.7  # below ln 113: it learned something
    untrained = new_native_model(recipe.config(), recipe.seed).state_dict()
    assert not torch.equal(first["tok_embed.weight"], untrained["tok_embed.weight"])


def test_the_tokenizer_writes_residues_and_equals(model):
    assert model.to_str_tokens(torch.tensor([5, 112, 113])) == ["5", "112", "="]


def test_the_page_states_what_the_card_and_history_measured(card):
    notebook = json.loads(PAGE.read_text())
    text = " ".join(" ".join("".join(cell["source"]).split()) for cell in notebook["cells"] if cell["cell_type"] == "markdown")
    assert f"groks in about {round(card.training['epochs_to_test_accuracy_99'], -2):,} epochs, a couple of minutes" in text
    assert card.training["seconds_to_test_accuracy_99"] < 240
    history = grokking.training_history(NAME)
    loss, epochs, accuracy = history["train_loss"], history["epoch"], history["test_accuracy"]
    grokked = card.training["epochs_to_test_accuracy_99"]
    assert "crawls from a few percent to about 15%, then it shoots past 99% within about three hundred epochs" in text
    assert 0.1 < accuracy[epochs.index(grokked - 300)] < 0.2 and accuracy[epochs.index(grokked)] > 0.99
    norm = history["weight_norm"]
    assert "the weights' norm, which memorisation had almost doubled, falls back" in text
    assert 1.7 < max(norm) / norm[0] < 2 and norm[-1] < 1.1 * norm[0]
    spikes = [epochs[i] for i in range(1, len(loss)) if loss[i] > 3 * loss[i - 1]]
    assert "The one spike in the train loss, near epoch 570," in text and len(spikes) == 1 and abs(spikes[0] - 570) <= 20
