"""mi_course.recipes: one module per shipped model; each trainer returns a TrainedModel; bad input.

The recipes' scaled-down runs are tested beside their models: grokking-113's in
tests/test_grokking.py, induction-2l's and the fast forward pass in tests/test_zoo.py.
"""

import dataclasses

import pytest
import torch

from mi_course import recipes, training, zoo
from mi_course.recipes import gpt2_twin, grokking_113, induction_2l, shakespeare_char, shakespeare_sae
from tests.bad_input import Bad, assert_refused, bad_input_params, shared_kit


def test_each_shipped_model_has_a_recipe_module_whose_trainer_is_registered():
    modules = {name: path.split(":")[0] for name, path in training.TRAINERS.items()}
    assert modules == {
        "shakespeare-char": "mi_course.recipes.shakespeare_char",
        "induction-2l": "mi_course.recipes.induction_2l",
        "grokking-113": "mi_course.recipes.grokking_113",
        "gpt2-twin": "mi_course.recipes.gpt2_twin",
        "shakespeare-char-sae": "mi_course.recipes.shakespeare_sae",
    }


def test_a_scaled_down_sae_run_trains_and_measures_against_both_random_baselines():
    recipe = dataclasses.replace(
        shakespeare_sae.SAE_RECIPE, d_sae=32, steps=5, batch_size=256, windows=16, held_out_windows=8
    )
    trained = shakespeare_sae.train_shakespeare_sae(recipe)
    assert set(trained.card.metrics) == {"trained", "random", "random at the trained L0"}
    assert trained.card.config["kind"] == "sparse-autoencoder" and trained.state_dict["W_dec"].shape == (32, 128)


def test_a_scaled_down_twin_run_trains_saves_tied_weights_and_measures_ioi_against_chance():
    recipe = dataclasses.replace(gpt2_twin.TWIN_RECIPE, steps=3, ioi_rows=4, name_rows=4, shakespeare_rows=2)
    trained = gpt2_twin.train_twin(recipe)
    assert "lm_head.weight" not in trained.state_dict and "transformer.wte.weight" in trained.state_dict
    assert '"model_type": "gpt2"' in trained.extra_files["config.json"]
    metrics = trained.card.metrics
    assert (
        set(metrics["ioi"])
        == set(metrics["ioi_untrained"])
        == {
            "training templates, training names",
            "held-out templates, held-out names",
            "held-out templates, unseen names",
        }
    )
    assert metrics["held_out_shakespeare_loss"] < metrics["uniform_loss"] + 1


def test_the_shakespeare_split_is_nanogpts_first_90_and_last_10_percent():
    characters, train_ids, held_out = shakespeare_char.shakespeare_split("abcabcabca")
    assert characters == "abc" and train_ids.tolist() == [0, 1, 2, 0, 1, 2, 0, 1, 2] and held_out.tolist() == [0]


def test_periodic_rows_repeat_with_a_period_drawn_per_row():
    rows = shakespeare_char._periodic_random_rows(20, 24, 5, (2, 6), torch.Generator().manual_seed(0))
    assert rows.shape == (20, 24) and int(rows.max()) < 5
    periods = {next(p for p in range(2, 7) if torch.equal(row[p:], row[:-p])) for row in rows}
    assert len(periods) > 1


BAD_INPUTS: dict[str, list[Bad]] = {
    "mi_course.recipes.shakespeare_sae:train_shakespeare_sae": [
        Bad(
            lambda k: shakespeare_sae.train_shakespeare_sae("fast"),
            TypeError,
            "train_shakespeare_sae expected recipe to be a SAERecipe, got str",
        ),
    ],
    "mi_course.recipes:with_induction_metrics": [
        Bad(
            lambda k: recipes.with_induction_metrics({"name": "induction-2l"}, {}, 50, 50),
            TypeError,
            "with_induction_metrics expected card to be a ModelCard, got dict",
        ),
        Bad(
            lambda k: recipes.with_induction_metrics(zoo.model_card("induction-2l"), {}, 1, 50),
            ValueError,
            "with_induction_metrics expected n_symbols >= 2, got 1",
        ),
    ],
    "mi_course.recipes.gpt2_twin:train_twin": [
        Bad(
            lambda k: gpt2_twin.train_twin(induction_2l.INDUCTION_RECIPE),
            TypeError,
            "train_twin expected recipe to be a TwinRecipe, got Recipe",
        ),
    ],
    "mi_course.recipes.gpt2_twin:ioi_metrics": [
        Bad(
            lambda k: gpt2_twin.ioi_metrics(k.bridge),
            TypeError,
            "ioi_metrics expected model to be a GPT2LMHeadModel, got TransformerBridge",
        ),
    ],
    "mi_course.recipes.grokking_113:equals_logits": [
        Bad(
            lambda k: grokking_113.equals_logits(k.native, torch.tensor([0]), torch.tensor([0])),
            ValueError,
            "equals_logits expects a 1-layer model with an MLP and no normalization",
        ),
        Bad(
            lambda k: grokking_113.equals_logits("model", torch.tensor([0]), torch.tensor([0])),
            TypeError,
            "equals_logits expected model to be a NativeModel, got str",
        ),
        Bad(
            lambda k: grokking_113.equals_logits(k.native, torch.tensor([0, 1]), torch.tensor([0.0, 1.0])),
            ValueError,
            r"equals_logits expected b of shape \(pair\) with dtype int64 or int32, got torch.float32",
        ),
        Bad(
            lambda k: grokking_113.equals_logits(k.native, torch.tensor([0]), torch.tensor([60])),
            ValueError,
            r"equals_logits expected residues b in 0..49, got 60..60",
        ),
    ],
    "mi_course.recipes.grokking_113:train_grokking": [
        Bad(
            lambda k: grokking_113.train_grokking(induction_2l.INDUCTION_RECIPE),
            TypeError,
            "train_grokking expected recipe to be a GrokkingRecipe, got Recipe",
        ),
        Bad(
            lambda k: grokking_113.train_grokking(dataclasses.replace(grokking_113.GROKKING_RECIPE, epochs=15)),
            ValueError,
            r"expected epochs \(15\) to be a multiple of log_every \(10\)",
        ),
    ],
    "mi_course.recipes.induction_2l:induction_batches": [
        Bad(
            lambda k: induction_2l.induction_batches(grokking_113.GROKKING_RECIPE),
            TypeError,
            "induction_batches expected recipe to be a Recipe, got GrokkingRecipe",
        ),
    ],
    "mi_course.recipes.induction_2l:train_induction": [
        Bad(
            lambda k: induction_2l.train_induction(grokking_113.GROKKING_RECIPE),
            TypeError,
            "train_induction expected recipe to be a Recipe, got GrokkingRecipe",
        ),
    ],
    "mi_course.recipes.shakespeare_char:_held_out_loss": [
        Bad(
            lambda k: shakespeare_char._held_out_loss(k.native, torch.zeros(100, dtype=torch.long), 50, 0),
            ValueError,
            "_held_out_loss expected window >= 1 and <= 61, got 0",
        ),
        Bad(
            lambda k: shakespeare_char._held_out_loss(k.native, torch.zeros(100), 50, 10),
            ValueError,
            r"_held_out_loss expected held_out of shape \(characters\) with dtype int64 or int32, got torch.float32",
        ),
        Bad(
            lambda k: shakespeare_char._held_out_loss(k.native, torch.zeros(100, dtype=torch.long), 51, 10),
            ValueError,
            "_held_out_loss expected bos >= 0 and <= 50, got 51",
        ),
    ],
    "mi_course.recipes.shakespeare_char:_periodic_random_rows": [
        Bad(
            lambda k: shakespeare_char._periodic_random_rows(2, 10, 5, (6, 3), torch.Generator()),
            ValueError,
            r"_periodic_random_rows expected periods = \(low, high\) with 1 <= low <= high, got \(6, 3\)",
        ),
        Bad(
            lambda k: shakespeare_char._periodic_random_rows(0, 10, 5, (2, 3), torch.Generator()),
            ValueError,
            "_periodic_random_rows expected rows >= 1, got 0",
        ),
        Bad(
            lambda k: shakespeare_char._periodic_random_rows(2, 10, 5, (2, 3), None),
            TypeError,
            "_periodic_random_rows expected generator to be a Generator, got NoneType",
        ),
    ],
    "mi_course.recipes.shakespeare_char:shakespeare_split": [
        Bad(
            lambda k: shakespeare_char.shakespeare_split(""),
            ValueError,
            "shakespeare_split expected a non-empty text, got an empty str",
        ),
        Bad(
            lambda k: shakespeare_char.shakespeare_split(b"to be"),
            TypeError,
            "shakespeare_split expected text to be a str, got bytes",
        ),
    ],
    "mi_course.recipes.shakespeare_char:train_shakespeare_char": [
        Bad(
            lambda k: shakespeare_char.train_shakespeare_char("recipe"),
            TypeError,
            "train_shakespeare_char expected recipe to be a Recipe, got str",
        ),
        Bad(
            lambda k: shakespeare_char.train_shakespeare_char(induction_phase=None),
            TypeError,
            "train_shakespeare_char expected induction_phase to be a Recipe, got NoneType",
        ),
    ],
}
# What takes no input, or only free text, and so has no bad input to refuse.
NO_BAD_INPUT: dict[str, str] = {
    "mi_course.recipes.grokking_113:GrokkingRecipe": "a record of the course's own recipe; train_grokking checks its type and epochs",
    "mi_course.recipes.gpt2_twin:TwinRecipe": "a record of the course's own recipe; train_twin checks its type",
    "mi_course.recipes.shakespeare_sae:SAERecipe": "a record of the course's own recipe; train_shakespeare_sae checks its type",
}


@pytest.mark.parametrize("case", bad_input_params(BAD_INPUTS))
def test_bad_input_raises_a_clear_error(case, tmp_path_factory):
    assert_refused(case, shared_kit(tmp_path_factory))
