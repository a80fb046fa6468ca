"""grokking-113: a 1-layer transformer that groks ``(a + b) mod 113``, after Nanda et al. (2023).

Its recipe (``GrokkingRecipe``: the paper's model and split with a faster learning rate and
stronger weight decay), its fast forward pass (``equals_logits``), its full-batch trainer and its
metrics: losses, accuracies, restricted and excluded loss, weight norm and embedding spectrum,
measured every ``log_every`` epochs into ``history.json``. The data and the analysis are in
``mi_course.grokking``.
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import asdict, dataclass, replace
from typing import Any

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import Tensor
from transformer_lens.model_bridge.sources.native.model import NativeModel

from mi_course import _checks, grokking
from mi_course.runtime import progress, torch_threads
from mi_course.training import TrainedModel, new_native_model
from mi_course.zoo import ModelCard


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
            "n_layers": 1,
            "d_model": self.d_model,
            "n_heads": self.n_heads,
            "d_head": self.d_model // self.n_heads,
            "d_mlp": self.d_mlp,
            "n_ctx": 3,
            "d_vocab": self.p + 1,
            "d_vocab_out": self.p,
            "attn_only": False,
            "act_fn": "relu",
            "normalization_type": None,
            "positional_embedding_type": "standard",
            "seed": self.seed,
        }


# Nanda et al. (2023)'s model, data split and AdamW betas. Their lr 1e-3 and weight decay 1.0 had not
# grokked here after 25 min (10,124 epochs: 14.5% test accuracy). Three times the learning rate and
# twice the weight decay (weights shrink 6x faster) grok at 1,410 epochs (seeds 1 and 2: 1,060 and
# 1,420), after memorising by epoch 110; 2,000 epochs leave time for clean-up. One thread: 94 ms per
# epoch on an idle machine (two: 73 ms), but two threads ran 8x slower while another process used
# the 2 cores. equals_logits computes only the last position, from per-token tables.
GROKKING_RECIPE = GrokkingRecipe(
    p=113,
    train_fraction=0.3,
    d_model=128,
    n_heads=4,
    d_mlp=512,
    lr=3e-3,
    weight_decay=2.0,
    betas=(0.9, 0.98),
    epochs=2_000,
    log_every=10,
    threads=1,
)
PAPER_GROKKING_RECIPE = replace(
    GROKKING_RECIPE, lr=1e-3, weight_decay=1.0, epochs=40_000
)


def equals_logits(model: NativeModel, a: Tensor, b: Tensor) -> Tensor:
    """Logits at ``=`` for the inputs ``a b =``: ``NativeModel.forward``'s last position, for a 1-layer model without norms.

    The key and value of a position depend on its token alone, and the query is always ``=``'s, so
    they are computed once per token (``2p + 1`` rows) instead of once per pair and position.
    """
    _checks.instance(model, NativeModel, "equals_logits", "model")
    cfg = model.cfg
    for what, value in (("a", a), ("b", b)):
        _checks.tensor(value, "equals_logits", what, dims=("pair",), integer=True)
        if (
            value.numel()
            and not 0 <= int(value.min()) <= int(value.max()) < cfg.d_vocab - 1
        ):
            raise ValueError(
                f"equals_logits expected residues {what} in 0..{cfg.d_vocab - 2}, got {int(value.min())}..{int(value.max())}"
            )
    if a.shape != b.shape:
        raise ValueError(
            f"equals_logits expected a and b of one shape, got {tuple(a.shape)} and {tuple(b.shape)}"
        )
    if cfg.n_layers != 1 or cfg.normalization_type is not None or cfg.attn_only:
        raise ValueError(
            "equals_logits expects a 1-layer model with an MLP and no normalization, as GrokkingRecipe makes"
        )
    p, block = cfg.d_vocab - 1, model.layers[0]
    embed, pos = model.tok_embed.weight, model.pos.weight
    rows = torch.cat(
        [embed[:p] + pos[0], embed[:p] + pos[1], (embed[p] + pos[2])[None]]
    )  # (2p + 1, d_model)
    equals = rows[2 * p]
    split = lambda x: rearrange(
        x, "row (head d_head) -> row head d_head", head=cfg.n_heads
    )  # noqa: E731
    keys, values, query = (
        split(block.attn.k(rows)),
        split(block.attn.v(rows)),
        split(block.attn.q(equals[None]))[0],
    )
    scores = (
        torch.einsum("rhd,hd->rh", keys, query) / block.attn.scale
    )  # (2p + 1, head)
    b_rows = p + b
    pattern = torch.stack(
        [scores[a], scores[b_rows], scores[2 * p].expand(len(a), -1)], dim=-1
    ).softmax(dim=-1)
    z = (
        pattern[..., 0:1] * values[a]
        + pattern[..., 1:2] * values[b_rows]
        + pattern[..., 2:3] * values[2 * p]
    )
    residual = equals + block.attn.o(
        rearrange(z, "batch head d_head -> batch (head d_head)")
    )
    residual = residual + block.mlp(residual)
    return model.head(residual)


def train_grokking(recipe: GrokkingRecipe = GROKKING_RECIPE) -> TrainedModel:
    """Full-batch AdamW on the training pairs, keeping the weights every ``log_every`` epochs; then measure them.

    Restricted and excluded loss need the key frequencies, known only at the end, so every curve
    is measured after training, from the kept weights (about 0.9 MB each). The result's extra
    files are ``{"history.json": ...}``.
    """
    _checks.instance(recipe, GrokkingRecipe, "train_grokking", "recipe")
    if recipe.epochs % recipe.log_every:
        raise ValueError(
            f"expected epochs ({recipe.epochs}) to be a multiple of log_every ({recipe.log_every})"
        )
    data = grokking.modular_addition(recipe.p, recipe.train_fraction, recipe.seed)
    a, b = data.train_tokens[:, 0], data.train_tokens[:, 1]
    with torch_threads(recipe.threads):
        model = new_native_model(recipe.config(), recipe.seed)
        optimizer = torch.optim.AdamW(
            model.parameters(),
            lr=recipe.lr,
            betas=recipe.betas,
            weight_decay=recipe.weight_decay,
        )
        kept: list[
            tuple[int, float, dict[str, Tensor]]
        ] = []  # (epoch, seconds of training so far, weights)
        start, keeping = time.perf_counter(), 0.0
        for epoch in progress(
            range(1, recipe.epochs + 1), recipe.epochs, "grokking-113"
        ):
            loss = F.cross_entropy(equals_logits(model, a, b), data.train_labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if epoch % recipe.log_every == 0:
                paused = time.perf_counter()
                weights = {
                    name: tensor.detach().clone()
                    for name, tensor in model.state_dict().items()
                }
                kept.append((epoch, paused - start - keeping, weights))
                keeping += time.perf_counter() - paused
        seconds = time.perf_counter() - start - keeping
        model.eval()
        history = _grokking_history(model, kept, data)
    key = history.pop("key_frequencies")
    grokked = next(
        (
            (epoch, round(at, 1))
            for (epoch, at, _), accuracy in zip(kept, history["test_accuracy"])
            if accuracy > GROKKED_ACCURACY
        ),
        (None, None),
    )
    final = {
        name: history[name][-1]
        for name in history
        if name not in ("epoch", "weight_norm", "embedding_spectrum")
    }
    card = ModelCard(
        name=f"grokking-{recipe.p}",
        description=f"1-layer transformer (attention + ReLU MLP, no LayerNorm) that grokked a + b mod {recipe.p}",
        config=recipe.config(),
        tokenizer={"kind": "modular", "p": recipe.p},
        sha256="",
        data=(
            f"all {recipe.p}^2 pairs (a, b) as tokens a b = ('=' is token {recipe.p}), label (a + b) mod {recipe.p} at '='; "
            f"a random {recipe.train_fraction:.0%} of the pairs (torch.randperm, seed {recipe.seed}) for training, full batch; "
            "the rest held out"
        ),
        training={
            "command": f"python -m mi_course train grokking-{recipe.p}",
            "recipe": asdict(recipe),
            "changed_from_the_paper": {
                name: [getattr(PAPER_GROKKING_RECIPE, name), getattr(recipe, name)]
                for name in ("lr", "weight_decay", "epochs")
            },
            "seconds": round(seconds, 1),
            "epochs": recipe.epochs,
            "epochs_to_test_accuracy_99": grokked[0],
            "seconds_to_test_accuracy_99": grokked[1],
            "history": f"{grokking.HISTORY_FILE}: every {recipe.log_every} epochs",
        },
        metrics={
            **{name: _significant(value) for name, value in final.items()},
            "key_frequencies": key,
        },
    )
    history = {name: _significant(values) for name, values in history.items()}
    return TrainedModel(
        model.state_dict(),
        card,
        {grokking.HISTORY_FILE: json.dumps(history, separators=(",", ":")) + "\n"},
    )


GROKKED_ACCURACY = 0.99  # test accuracy above which the model counts as grokked


@torch.inference_mode()
def _grokking_history(
    model: NativeModel,
    kept: list[tuple[int, float, dict[str, Tensor]]],
    data: grokking.ModularAddition,
) -> dict[str, Any]:
    """Curves of the kept weights: losses, accuracies, weight norm, embedding spectrum, restricted and excluded loss.

    The key frequencies are the final model's; they come back under ``key_frequencies``.
    """
    p = data.p
    key = grokking.key_frequencies(
        grokking.spectrum_of(model.tok_embed.weight[:p].detach(), p)
    )
    history: dict[str, Any] = {
        name: []
        for name in (
            "epoch",
            "train_loss",
            "test_loss",
            "train_accuracy",
            "test_accuracy",
            "restricted_loss",
            "excluded_loss",
            "weight_norm",
            "embedding_spectrum",
        )
    }
    measured = copy.deepcopy(model)
    for epoch, _, weights in kept:
        measured.load_state_dict(weights)
        logits = equals_logits(measured, data.tokens[:, 0], data.tokens[:, 1])
        history["epoch"].append(epoch)
        for name, value in grokking.losses_and_accuracies(logits, data).items():
            history[name].append(value)
        history["restricted_loss"].append(grokking.restricted_loss(logits, data, key))
        history["excluded_loss"].append(grokking.excluded_loss(logits, data, key))
        history["weight_norm"].append(
            torch.cat([weights[name].flatten() for name in weights]).norm().item()
        )
        history["embedding_spectrum"].append(
            grokking.spectrum_of(weights["tok_embed.weight"][:p], p).tolist()
        )
    return {**history, "key_frequencies": key}


def _significant(value: Any, digits: int = 4) -> Any:
    """``value`` (a number or nested lists of them) rounded to ``digits`` significant digits."""
    if isinstance(value, list):
        return [_significant(item, digits) for item in value]
    return value if isinstance(value, int) else float(f"{value:.{digits}g}")
