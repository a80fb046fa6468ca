"""induction-2l: a 2-layer attention-only transformer that learns to continue repeated random tokens.

Its data (``[BOS] x x`` with a repeat length drawn per batch), its recipe, its trainer and its
metrics: the induction phase change as it happens (recorded every 25 steps) and the induction
measured at the end (``mi_course.recipes.with_induction_metrics``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict

import torch
from torch import Tensor
from transformer_lens.model_bridge.sources.native.model import NativeModel

from mi_course import _checks
from mi_course.induction import induction_scores, repeated_half_loss, repeated_random_tokens
from mi_course.recipes import with_induction_metrics
from mi_course.training import Recipe, TrainedModel, train
from mi_course.zoo import ModelCard, bridge_from_state_dict, make_tokenizer

INDUCTION_RECIPE = Recipe(
    n_layers=2, d_model=64, n_heads=4, n_ctx=61, attn_only=True,
    batch_size=64, steps=1_000, lr=3e-3, warmup_steps=50, weight_decay=0.0,
)
INDUCTION_SYMBOLS = 50
INDUCTION_LENGTHS = (8, 30)  # repeat length drawn per batch: a fixed length teaches a position shortcut


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


def train_induction(recipe: Recipe = INDUCTION_RECIPE) -> TrainedModel:
    """Train on ``induction_batches``, recording the phase change on the way; measure induction at the end."""
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
    state_dict = model.state_dict()
    return TrainedModel(state_dict, with_induction_metrics(card, state_dict, n_symbols=INDUCTION_SYMBOLS, bos=INDUCTION_SYMBOLS))
