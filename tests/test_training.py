"""mi_course.training: the shared loop checks its first batch once and draws a bar only on a terminal, train_and_save writes what a trainer returns, bad input."""

import importlib
import json
import re
import sys
from dataclasses import replace

import pytest
import torch

from mi_course import _checks, training, zoo
from mi_course.recipes.grokking_113 import GROKKING_RECIPE
from mi_course.recipes.induction_2l import INDUCTION_RECIPE, INDUCTION_SYMBOLS, induction_batches
from mi_course.training import TRAINERS, TrainedModel, train, train_and_save
from tests.bad_input import TOK, Bad, assert_refused, bad_input_params, shared_kit


def test_training_checks_the_tokens_of_its_first_batch_only(monkeypatch):
    checked = []
    real = _checks.tokens
    monkeypatch.setattr(_checks, "tokens", lambda *args, **kwargs: checked.append(args[1]) or real(*args, **kwargs))
    train(replace(INDUCTION_RECIPE, steps=5), INDUCTION_SYMBOLS + 1, induction_batches(), log_every=100)
    assert checked == ["train"]


def test_every_trainer_is_a_function_of_its_recipe_module():
    for name, path in TRAINERS.items():
        module, function = path.split(":")
        assert module.startswith("mi_course.recipes."), name
        assert callable(getattr(importlib.import_module(module), function)), path


def _tiny_trainer() -> TrainedModel:
    """A stand-in trainer: a few steps of induction-2l's recipe, logging once, and one extra file."""
    model, _ = train(replace(INDUCTION_RECIPE, steps=3), INDUCTION_SYMBOLS + 1, induction_batches(), log_every=2)
    card = zoo.ModelCard(
        name="induction-2l",
        description="a stand-in",
        config=INDUCTION_RECIPE.config(INDUCTION_SYMBOLS + 1),
        tokenizer={"kind": "symbols", "n_symbols": INDUCTION_SYMBOLS},
        sha256="",
        data="",
        training={},
        metrics={},
    )
    return TrainedModel(model.state_dict(), card, {"notes.txt": "three steps\n"})


def test_train_and_save_writes_the_weights_the_card_with_their_sha256_and_the_extra_files(monkeypatch, tmp_path):
    monkeypatch.setitem(TRAINERS, "induction-2l", f"{__name__}:_tiny_trainer")
    card = train_and_save("induction-2l", tmp_path)
    folder = tmp_path / "induction-2l"
    assert (
        card.sha256
        == zoo.sha256_of(folder / zoo.WEIGHTS_FILE)
        == json.loads((folder / zoo.CARD_FILE).read_text())["sha256"]
    )
    assert (folder / "notes.txt").read_text() == "three steps\n"


def test_training_prints_its_log_lines_and_draws_a_progress_bar_only_on_a_terminal(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(TRAINERS, "induction-2l", f"{__name__}:_tiny_trainer")
    log_line = r"step 2/3: loss \d+\.\d{3} \(\d+ s\)\n"
    train_and_save("induction-2l", tmp_path)  # stderr captured: not a terminal
    out, err = capsys.readouterr()
    assert re.fullmatch(log_line, out) and err == ""
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    train_and_save("induction-2l", tmp_path)
    out, err = capsys.readouterr()
    assert re.fullmatch(log_line, out)
    assert re.search(r"induction-2l: 100%.*3/3 \[.*<.*, loss=\d+\.\d{3}\]", err), err


BAD_INPUTS: dict[str, list[Bad]] = {
    "mi_course.training:native_logits": [
        Bad(
            lambda k: training.native_logits(k.native, TOK.float()),
            ValueError,
            r"native_logits expected tokens of shape \(batch, pos\) with dtype int64 or int32, got torch.float32",
        ),
        Bad(
            lambda k: training.native_logits(k.native, TOK + 51),
            ValueError,
            r"native_logits expected tokens ids in 0..50",
        ),
        Bad(
            lambda k: training.native_logits(k.bridge, TOK),
            TypeError,
            "native_logits expected model to be a NativeModel, got TransformerBridge",
        ),
    ],
    "mi_course.training:new_native_model": [
        Bad(
            lambda k: training.new_native_model(INDUCTION_RECIPE, 0),
            TypeError,
            "new_native_model expected config to be a dict, got Recipe",
        ),
        Bad(
            lambda k: training.new_native_model(INDUCTION_RECIPE.config(51), -1),
            ValueError,
            "new_native_model expected seed >= 0, got -1",
        ),
    ],
    "mi_course.training:train": [
        Bad(
            lambda k: training.train(GROKKING_RECIPE, 51, lambda step: None),
            TypeError,
            "train expected recipe to be a Recipe, got GrokkingRecipe",
        ),
        Bad(
            lambda k: training.train(INDUCTION_RECIPE, 51, "batches"),
            TypeError,
            "train expected next_batch to be a function, got str",
        ),
        Bad(
            lambda k: training.train(INDUCTION_RECIPE, 51, lambda step: None, log_every=0),
            ValueError,
            "train expected log_every >= 1, got 0",
        ),
        Bad(
            lambda k: training.train(INDUCTION_RECIPE, 51, lambda step: (TOK + 51, TOK)),
            ValueError,
            r"train expected next_batch's inputs ids in 0..50 \(the model's d_vocab is 51\), got ids 51..51",
        ),
        Bad(
            lambda k: training.train(INDUCTION_RECIPE, 51, lambda step: (torch.zeros(2, 5), TOK)),
            ValueError,
            r"train expected next_batch's inputs of shape \(batch, pos\) with dtype int64 or int32, got torch.float32",
        ),
    ],
    "mi_course.training:train_and_save": [
        Bad(
            lambda k: training.train_and_save("gpt2-small", k.tmp),
            ValueError,
            "train_and_save expected one of shakespeare-char, induction-2l, grokking-113, gpt2-twin, shakespeare-char-sae, got 'gpt2-small'",
        ),
        Bad(
            lambda k: training.train_and_save("induction-2l", "zoo"),
            TypeError,
            "train_and_save expected zoo_dir to be a Path, got str",
        ),
    ],
}
# What takes no input, or only free text, and so has no bad input to refuse.
NO_BAD_INPUT: dict[str, str] = {
    "mi_course.training:Recipe": "a record of the course's own recipes; the functions taking one check its type",
    "mi_course.training:TrainedModel": "a record that a trainer builds from its own training run",
}


@pytest.mark.parametrize("case", bad_input_params(BAD_INPUTS))
def test_bad_input_raises_a_clear_error(case, tmp_path_factory):
    assert_refused(case, shared_kit(tmp_path_factory))
