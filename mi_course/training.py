"""The training loop the zoo's recipes share: ``python -m mi_course train NAME``.

This module holds what every recipe uses: ``Recipe`` (architecture and optimiser settings),
``new_native_model``, ``native_logits`` (the fast forward pass), ``train`` (the AdamW loop),
``TrainedModel`` (what a trainer returns), ``TRAINERS`` (each shipped model's trainer),
``train_and_save`` and ``progress`` (the bar a long loop shows on a terminal). Each shipped
model's data, recipe and metrics live in a module of their own under ``mi_course.recipes``.

Training runs on TransformerLens' native model in plain PyTorch (no hooks, so it is fast); the
result is saved as safetensors plus a model card and loaded back as a TransformerBridge.
"""

from __future__ import annotations

import importlib
import math
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from einops import rearrange
from safetensors.torch import save_file
from torch import Tensor
from tqdm import tqdm
from transformer_lens.config import TransformerBridgeConfig
from transformer_lens.model_bridge.sources.native.init import initialize_native_model
from transformer_lens.model_bridge.sources.native.model import NativeModel

from mi_course import _checks
from mi_course.runtime import progress, seed_everything
from mi_course.zoo import WEIGHTS_FILE, ModelCard, sha256_of


@dataclass(frozen=True)
class Recipe:
    """Architecture and optimiser settings shared by the zoo's recipes."""

    n_layers: int
    d_model: int
    n_heads: int
    n_ctx: int
    attn_only: bool
    batch_size: int
    steps: int
    lr: float
    warmup_steps: int
    weight_decay: float
    seed: int = 0

    def config(self, d_vocab: int) -> dict[str, Any]:
        return {
            "n_layers": self.n_layers,
            "d_model": self.d_model,
            "n_heads": self.n_heads,
            "d_head": self.d_model // self.n_heads,
            "d_mlp": None if self.attn_only else 4 * self.d_model,
            "n_ctx": self.n_ctx,
            "d_vocab": d_vocab,
            "attn_only": self.attn_only,
            "act_fn": "gelu_new",
            "normalization_type": "LN",
            "positional_embedding_type": "standard",
            "seed": self.seed,
        }

    def lr_at(self, step: int) -> float:
        """Linear warmup, then cosine decay to a tenth of the peak."""
        warmup = min(1.0, (step + 1) / self.warmup_steps)
        progress = min(1.0, step / self.steps)
        return self.lr * warmup * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


@dataclass(frozen=True)
class TrainedModel:
    """What a trainer returns: the weights, the card, and more files to write beside them (``{file name: text}``)."""

    state_dict: dict[str, Tensor]
    card: ModelCard
    extra_files: dict[str, str] = field(default_factory=dict)


def new_native_model(config: dict[str, Any], seed: int) -> NativeModel:
    """A freshly initialised native model of ``config``, every generator seeded with ``seed`` first."""
    _checks.instance(config, dict, "new_native_model", "config")
    _checks.integer(seed, "new_native_model", "seed", minimum=0)
    seed_everything(seed)
    cfg = TransformerBridgeConfig.from_dict(config)
    model = NativeModel(cfg)
    initialize_native_model(model, cfg)
    return model


def native_logits(model: NativeModel, tokens: Tensor) -> Tensor:
    """``model``'s logits, computed with PyTorch's fused causal attention.

    The same function as ``NativeModel.forward`` for the zoo's architecture (learned positions,
    pre-LayerNorm, optional MLPs), about 1.5x faster to train on a CPU; a test checks they agree.
    It checks ``tokens`` (their ids' range too); ``train`` checks its first batch once and then
    runs the unchecked forward pass, so no training step pays for the check.
    """
    _checks.instance(model, NativeModel, "native_logits", "model")
    _checks.tokens(tokens, "native_logits", model)
    return _logits(model, tokens)


def _logits(model: NativeModel, tokens: Tensor) -> Tensor:
    """``native_logits`` without its checks: the training loop's forward pass."""
    x = model.tok_embed(tokens) + model.pos.weight[: tokens.shape[1]]
    for block in model.layers:
        normalized = block.ln1(x)
        q, k, v = (
            rearrange(
                linear(normalized),
                "batch pos (head d_head) -> batch head pos d_head",
                head=model.cfg.n_heads,
            )
            for linear in (block.attn.q, block.attn.k, block.attn.v)
        )
        z = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + block.attn.o(
            rearrange(z, "batch head pos d_head -> batch pos (head d_head)")
        )
        if not model.cfg.attn_only:
            x = x + block.mlp(block.ln2(x))
    return model.head(model.ln_out(x))


# The name ``train_and_save`` is training, which ``train``'s progress bar shows (recipes call ``train`` without one).
_training_name: ContextVar[str] = ContextVar(
    "mi_course_training_name", default="training"
)


def train(
    recipe: Recipe,
    d_vocab: int,
    next_batch: Callable[[int], tuple[Tensor, Tensor]],
    log_every: int = 250,
    model: NativeModel | None = None,
    monitor: Callable[[int, NativeModel], bool] | None = None,
    monitor_every: int = 25,
) -> tuple[NativeModel, float]:
    """Train with AdamW on ``next_batch(step) -> (inputs, targets)``; return the model and the seconds taken.

    A fresh model is initialised from ``recipe.seed`` unless ``model`` is given to train further.
    ``monitor(steps_done, model)`` runs every ``monitor_every`` steps, in inference mode, to
    measure the model; returning True ends training early. The seconds exclude its time. The first
    batch's inputs are checked (integer ids below ``d_vocab``, at most ``n_ctx`` positions); the
    others, drawn the same way, are not. Every ``log_every`` steps it prints the step, the loss and
    the seconds so far; on a terminal, a progress bar on stderr shows them at every step too.
    """
    _checks.instance(recipe, Recipe, "train", "recipe")
    _checks.integer(d_vocab, "train", "d_vocab", minimum=1)
    for what, function in (("next_batch", next_batch), ("monitor", monitor)):
        if function is not None and not callable(function):
            raise TypeError(
                f"train expected {what} to be a function, got {type(function).__name__}"
            )
    _checks.integer(log_every, "train", "log_every", minimum=1)
    _checks.integer(monitor_every, "train", "monitor_every", minimum=1)
    if model is not None:
        _checks.instance(model, NativeModel, "train", "model")
    if model is None:
        model = new_native_model(recipe.config(d_vocab), recipe.seed)
    model.train()
    optimizer = torch.optim.AdamW(
        model.parameters(),
        lr=recipe.lr,
        betas=(0.9, 0.99),
        weight_decay=recipe.weight_decay,
    )
    start, checking = time.perf_counter(), 0.0
    with progress(range(recipe.steps), recipe.steps, _training_name.get()) as bar:
        for step in bar:
            for group in optimizer.param_groups:
                group["lr"] = recipe.lr_at(step)
            inputs, targets = next_batch(step)
            if step == 0:
                _checks.tokens(inputs, "train", model, what="next_batch's inputs")
            loss = F.cross_entropy(
                _logits(model, inputs).flatten(0, 1), targets.flatten()
            )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if not bar.disable:
                bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
            if (step + 1) % log_every == 0:
                with (
                    tqdm.external_write_mode()
                ):  # the line goes above the bar, not through it
                    print(
                        f"step {step + 1}/{recipe.steps}: loss {loss.item():.3f} ({time.perf_counter() - start:.0f} s)",
                        flush=True,
                    )
            if monitor is not None and (step + 1) % monitor_every == 0:
                paused = time.perf_counter()
                with torch.inference_mode():
                    done = monitor(step + 1, model)
                checking += time.perf_counter() - paused
                if done:
                    break
    return model.eval(), time.perf_counter() - start - checking


# Each shipped model's trainer, as "module:function": the recipe modules import this one, so it
# imports them only when a model is trained. Each trainer takes no argument and returns a TrainedModel.
TRAINERS = {
    "shakespeare-char": "mi_course.recipes.shakespeare_char:train_shakespeare_char",
    "induction-2l": "mi_course.recipes.induction_2l:train_induction",
    "grokking-113": "mi_course.recipes.grokking_113:train_grokking",
    "gpt2-twin": "mi_course.recipes.gpt2_twin:train_twin",
    "shakespeare-char-sae": "mi_course.recipes.shakespeare_sae:train_shakespeare_sae",
}


def train_and_save(name: str, zoo_dir: Path) -> ModelCard:
    """Train the named model from its seed and write its weights, card and extra files into ``zoo_dir/name``."""
    if name not in TRAINERS:
        raise ValueError(
            f"train_and_save expected one of {', '.join(TRAINERS)}, got {name!r}"
        )
    _checks.instance(zoo_dir, Path, "train_and_save", "zoo_dir")
    module, function = TRAINERS[name].split(":")
    named = _training_name.set(name)
    try:
        trained: TrainedModel = getattr(importlib.import_module(module), function)()
    finally:
        _training_name.reset(named)
    folder = zoo_dir / name
    folder.mkdir(parents=True, exist_ok=True)
    for file_name, text in trained.extra_files.items():
        (folder / file_name).write_text(text)
    save_file(
        {key: value.contiguous() for key, value in trained.state_dict.items()},
        folder / WEIGHTS_FILE,
    )
    card = ModelCard(
        **{**trained.card.__dict__, "sha256": sha256_of(folder / WEIGHTS_FILE)}
    )
    card.write(folder)
    return card
