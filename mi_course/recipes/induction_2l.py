"""induction-2l: a 2-layer attention-only transformer that learns to continue repeated random tokens.

Its data (random filler with one repeated stretch ``x x`` somewhere in it, a repeat length drawn
per row), its recipe, its trainer and its metrics: the induction phase change as it happens
(recorded every 25 steps) and the induction measured at the end
(``mi_course.recipes.with_induction_metrics``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict

import torch
from torch import Tensor
from transformer_lens.model_bridge.sources.native.model import NativeModel

from mi_course import _checks
from mi_course.induction import (
    induction_scores,
    repeated_half_loss,
    repeated_random_tokens,
)
from mi_course.recipes import with_induction_metrics
from mi_course.training import Recipe, TrainedModel, train
from mi_course.zoo import ModelCard, bridge_from_state_dict, make_tokenizer

INDUCTION_RECIPE = Recipe(
    n_layers=2,
    d_model=64,
    n_heads=4,
    n_ctx=61,
    attn_only=True,
    batch_size=64,
    steps=1_100,
    lr=6e-3,
    warmup_steps=50,
    weight_decay=0.0,
)
# 200 symbols: x seldom repeats a token within itself, so each token's earlier copy is unambiguous
INDUCTION_SYMBOLS = 200
# Repeat length drawn per row, and the repeat placed at a random offset in random filler, so that
# no position tells where the copy is; the loss is on the second copy only.
INDUCTION_LENGTHS = (8, 30)


def _repeat_in_filler(
    batch: int, n_positions: int, lengths: tuple[int, int], generator: torch.Generator
) -> tuple[Tensor, Tensor]:
    """``(batch, n_positions)`` rows ``[BOS] filler x x filler``, and a mask that is True on the second copy of ``x``.

    Filler and ``x`` are uniform over ``INDUCTION_SYMBOLS``; each row draws its length ``L`` from
    ``lengths`` (inclusive) and its filler before the first copy from ``0 .. n_positions - 1 - 2L``.
    """
    tokens = torch.randint(
        0, INDUCTION_SYMBOLS, (batch, n_positions), generator=generator
    )
    tokens[:, 0] = INDUCTION_SYMBOLS  # BOS
    length = torch.randint(lengths[0], lengths[1] + 1, (batch,), generator=generator)
    prefix = (
        torch.rand(batch, generator=generator) * (n_positions - 2 * length)
    ).long()
    positions = torch.arange(n_positions)
    start = (1 + prefix + length)[:, None]  # where the second copy begins
    second = (positions >= start) & (positions < start + length[:, None])
    copied = tokens.gather(1, (positions - length[:, None]).clamp(min=0))
    return torch.where(second, copied, tokens), second


def induction_batches(
    recipe: Recipe = INDUCTION_RECIPE,
) -> Callable[[int], tuple[Tensor, Tensor]]:
    """``next_batch`` for ``train``: ``_repeat_in_filler`` rows filling the context; targets are -100 (ignored) off the second copy."""
    _checks.instance(recipe, Recipe, "induction_batches", "recipe")
    if recipe.n_ctx < 2 * INDUCTION_LENGTHS[1]:
        raise ValueError(
            f"induction_batches expected recipe.n_ctx >= {2 * INDUCTION_LENGTHS[1]} to fit [BOS] x x, got {recipe.n_ctx}"
        )
    generator = torch.Generator().manual_seed(recipe.seed)

    def next_batch(step: int) -> tuple[Tensor, Tensor]:
        tokens, second = _repeat_in_filler(
            recipe.batch_size, recipe.n_ctx + 1, INDUCTION_LENGTHS, generator
        )
        return tokens[:, :-1], tokens[:, 1:].masked_fill(
            ~second[:, 1:], -100
        )  # cross_entropy ignores -100

    return next_batch


def train_induction(recipe: Recipe = INDUCTION_RECIPE) -> TrainedModel:
    """Train on ``induction_batches``, recording the phase change on the way; measure induction at the end."""
    _checks.instance(recipe, Recipe, "train_induction", "recipe")
    low, high = INDUCTION_LENGTHS
    config = recipe.config(INDUCTION_SYMBOLS + 1)
    tokenizer = make_tokenizer({"kind": "symbols", "n_symbols": INDUCTION_SYMBOLS})
    seq_len = 13
    tokens = repeated_random_tokens(
        64,
        seq_len,
        INDUCTION_SYMBOLS,
        INDUCTION_SYMBOLS,
        generator=torch.Generator().manual_seed(1),
    )
    history: dict[str, list] = {
        "step": [],
        "repeated_half_loss_len13": [],
        "top_induction_score_len13": [],
    }

    def record(step: int, model: NativeModel) -> bool:
        """The phase change, as it happens: loss on the repeat and the best head's induction score."""
        bridge = bridge_from_state_dict(
            config,
            model.state_dict(),
            tokenizer,
            device=torch.device("cpu"),
            model_name="induction-2l",
        )
        history["step"].append(step)
        history["repeated_half_loss_len13"].append(
            round(repeated_half_loss(bridge, tokens, seq_len), 4)
        )
        history["top_induction_score_len13"].append(
            round(induction_scores(bridge, tokens, seq_len).max().item(), 4)
        )
        return False

    model, seconds = train(
        recipe, INDUCTION_SYMBOLS + 1, induction_batches(recipe), monitor=record
    )
    card = ModelCard(
        name="induction-2l",
        description="2-layer attention-only transformer trained to continue repeated sequences of random tokens",
        config=config,
        tokenizer={"kind": "symbols", "n_symbols": INDUCTION_SYMBOLS},
        sha256="",
        data=f"rows of {recipe.n_ctx + 1} tokens, [BOS] + filler + x + x + filler, filler and x uniform over {INDUCTION_SYMBOLS} symbols, "
        f"repeat length drawn from {low}-{high} per row, filler before x uniform over what fits; loss on the second copy only",
        training={
            "command": "python -m mi_course train induction-2l",
            "recipe": asdict(recipe),
            "seconds": round(seconds, 1),
            "history": history,
        },
        metrics={},
    )
    state_dict = model.state_dict()
    return TrainedModel(
        state_dict,
        with_induction_metrics(
            card, state_dict, n_symbols=INDUCTION_SYMBOLS, bos=INDUCTION_SYMBOLS
        ),
    )
