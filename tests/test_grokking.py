"""grokking-113: the shipped checkpoint grokked, its card and history say what it measures, the analysis refuses other moduli."""

from dataclasses import replace

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

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
from mi_course.recipes.grokking_113 import GROKKING_RECIPE, equals_logits, train_grokking
from mi_course.training import new_native_model
from mi_course.zoo import load_model, model_card
from tests.bad_input import FAST, Bad, assert_refused, bad_input_params, shared_kit

NAME = "grokking-113"


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
    embedding = torch.stack(
        [torch.cos(2 * torch.pi * 14 * x / p), torch.sin(2 * torch.pi * 14 * x / p), torch.ones(p)], dim=1
    )
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
    with pytest.raises(
        ValueError, match=r"trained for another modulus: a model of addition mod p=97 has p \+ 1 = 98 input tokens"
    ):
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
    trained, again = train_grokking(recipe), train_grokking(recipe)
    first, second, card = trained.state_dict, again.state_dict, trained.card
    assert first.keys() == second.keys() and all(torch.equal(first[name], second[name]) for name in first)
    assert trained.extra_files == again.extra_files and set(trained.extra_files) == {grokking.HISTORY_FILE}
    assert card.training["epochs"] == 20 and card.metrics["train_loss"] < 4.7  # below ln 113: it learned something
    untrained = new_native_model(recipe.config(), recipe.seed).state_dict()
    assert not torch.equal(first["tok_embed.weight"], untrained["tok_embed.weight"])


def test_the_tokenizer_writes_residues_and_equals(model):
    assert model.to_str_tokens(torch.tensor([5, 112, 113])) == ["5", "112", "="]


BAD_INPUTS: dict[str, list[Bad]] = {
    "mi_course.grokking:modular_addition": [
        Bad(lambda k: grokking.modular_addition(9, 0.3, 0), ValueError, "expected an odd prime modulus p, got 9"),
        Bad(lambda k: grokking.modular_addition(7, 1.5, 0), ValueError, "expected 0 < train_fraction < 1, got 1.5"),
        Bad(
            lambda k: grokking.modular_addition(7.0, 0.3, 0),
            TypeError,
            "modular_addition expected p to be an int, got float 7.0",
        ),
        Bad(lambda k: grokking.modular_addition(7, 0.3, -1), ValueError, "modular_addition expected seed >= 0, got -1"),
    ],
    "mi_course.grokking:fourier_basis": [
        Bad(lambda k: grokking.fourier_basis(4), ValueError, "fourier_basis expected an odd modulus p >= 3, got 4"),
        Bad(lambda k: grokking.fourier_basis("5"), TypeError, "fourier_basis expected p to be an int, got str '5'"),
    ],
    "mi_course.grokking:embedding_spectrum": [
        Bad(
            lambda k: grokking.embedding_spectrum("model", 113),
            TypeError,
            "embedding_spectrum expected model to be a TransformerBridge",
        ),
        Bad(
            lambda k: grokking.embedding_spectrum(k.bridge, 113),
            ValueError,
            "trained for another modulus: .*this one has 201 and 201",
        ),
        Bad(
            lambda k: grokking.embedding_spectrum(k.bridge, "113"),
            TypeError,
            "embedding_spectrum expected p to be an int, got str '113'",
        ),
    ],
    "mi_course.grokking:spectrum_of": [
        Bad(
            lambda k: grokking.spectrum_of([[1.0]], 5),
            TypeError,
            r"spectrum_of expected embedding of shape \(p, d_model\), got list",
        ),
        Bad(
            lambda k: grokking.spectrum_of(torch.zeros(4, 3), 5),
            ValueError,
            r"expected an embedding of shape \(5, d_model\) for modulus p=5, got \(4, 3\)",
        ),
        Bad(
            lambda k: grokking.spectrum_of(torch.zeros(5), 5),
            ValueError,
            r"spectrum_of expected embedding of shape \(p, d_model\), got torch.float32 of shape \(5,\)",
        ),
    ],
    "mi_course.grokking:key_frequencies": [
        Bad(
            lambda k: grokking.key_frequencies(torch.ones(2, 3)),
            ValueError,
            r"key_frequencies expected spectrum of shape \(frequency\), got torch.float32 of shape \(2, 3\)",
        ),
        Bad(lambda k: grokking.key_frequencies(torch.ones(1)), ValueError, "at least one frequency, got shape"),
        Bad(
            lambda k: grokking.key_frequencies(torch.ones(4), multiple=0),
            ValueError,
            "key_frequencies expected multiple to be a finite number > 0, got 0",
        ),
    ],
    "mi_course.grokking:pair_logits": [
        Bad(
            lambda k: grokking.pair_logits(k.bridge, "data"),
            TypeError,
            "pair_logits expected data to be a ModularAddition, got str",
        ),
        Bad(lambda k: grokking.pair_logits(k.bridge, k.data5), ValueError, "another modulus"),
        Bad(
            lambda k: grokking.pair_logits(k.bridge, grokking.modular_addition(113, 0.3, 0)),
            ValueError,
            r"a model of addition mod p=113 has p \+ 1 = 114 input tokens",
        ),
        Bad(
            lambda k: grokking.pair_logits(None, k.data5),
            TypeError,
            "pair_logits expected model to be a TransformerBridge .*got NoneType",
        ),
    ],
    "mi_course.grokking:losses_and_accuracies": [
        Bad(
            lambda k: grokking.losses_and_accuracies(torch.zeros(3, 5), k.data5),
            ValueError,
            r"losses_and_accuracies expected logits of shape \(25, 5\) for every pair mod p=5, got \(3, 5\)",
        ),
        Bad(
            lambda k: grokking.losses_and_accuracies(torch.zeros(25, 5), 5),
            TypeError,
            "losses_and_accuracies expected data to be a ModularAddition, got int",
        ),
    ],
    "mi_course.grokking:restricted_loss": [
        Bad(
            lambda k: grokking.restricted_loss(torch.zeros(25, 4), k.data5, [1]),
            ValueError,
            r"restricted_loss expected logits of shape \(25, 5\)",
        ),
        Bad(
            lambda k: grokking.restricted_loss(torch.zeros(25, 5), k.data5, [3]),
            ValueError,
            "expected distinct frequencies between 1 and 2",
        ),
        Bad(
            lambda k: grokking.restricted_loss(torch.zeros(49, 7), k.data7, [4]),
            ValueError,
            "restricted_loss expected distinct frequencies between 1 and 3 for p=7, got",
        ),
        Bad(
            lambda k: grokking.restricted_loss(torch.zeros(49, 7), k.data7, "12"),
            TypeError,
            "restricted_loss expected frequencies to be a list of ints, got str",
        ),
    ],
    "mi_course.grokking:excluded_loss": [
        Bad(
            lambda k: grokking.excluded_loss(torch.zeros(25), k.data5, [1]),
            ValueError,
            r"excluded_loss expected logits of shape \(pair, p\)",
        ),
        Bad(
            lambda k: grokking.excluded_loss(torch.zeros(25, 5), k.data5, 1),
            TypeError,
            "frequencies to be a list of ints, got int",
        ),
        Bad(lambda k: grokking.excluded_loss(torch.zeros(49, 7), k.data7, [1, 1]), ValueError, "distinct frequencies"),
        Bad(
            lambda k: grokking.excluded_loss(torch.zeros(49, 7), k.data7, [1.0]),
            TypeError,
            "excluded_loss expected each frequency to be an int, got float",
        ),
    ],
    "mi_course.grokking:training_history": [
        Bad(
            lambda k: grokking.training_history("induction-2l"),
            ValueError,
            r"training_history expected the name of a shipped model with a history \(grokking-113\), got 'induction-2l'",
        ),
        Bad(lambda k: grokking.training_history(113), ValueError, "got 113"),
    ],
}
# What takes no input, or only free text, and so has no bad input to refuse.
NO_BAD_INPUT: dict[str, str] = {
    "mi_course.grokking:ModularAddition": "a record that modular_addition builds; the functions taking one check its type",
}


@pytest.mark.parametrize("case", bad_input_params(BAD_INPUTS))
def test_bad_input_raises_a_clear_error(case, tmp_path_factory):
    assert_refused(case, shared_kit(tmp_path_factory))


@FAST
@given(
    p=st.one_of(st.integers(-5, 40), st.floats(0, 40), st.text(max_size=2)),
    frequencies=st.lists(st.integers(-3, 25), max_size=3),
)
def test_fourier_helpers_take_any_modulus_or_say_what_is_wrong(p, frequencies):
    for name, call in (
        ("fourier_basis", lambda: grokking.fourier_basis(p)),
        ("restricted_loss", lambda: grokking._sum_directions(p, frequencies, "restricted_loss")),
        ("modular_addition", lambda: grokking.modular_addition(p, 0.3, 0)),
    ):
        try:
            call()
        except (TypeError, ValueError) as error:
            assert str(error).startswith(f"{name} expected "), error
