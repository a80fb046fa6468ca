"""The shipped models' recipes, one module per model, each holding its data, recipe, trainer and metrics.

``shakespeare_char``, ``induction_2l`` and ``grokking_113`` train the zoo's models from their
seeds on the shared loop in ``mi_course.training`` (``python -m mi_course train NAME``); each
trainer returns a ``TrainedModel``. This package holds what the two sequence models' cards share:
the induction metrics, measured on repeated random tokens.
"""

from __future__ import annotations

import torch
from torch import Tensor

from mi_course import _checks
from mi_course.induction import (
    induction_scores,
    name_heads,
    repeated_half_loss,
    repeated_random_tokens,
)
from mi_course.zoo import ModelCard, bridge_from_state_dict, make_tokenizer

INDUCTION_HEAD_THRESHOLD = (
    0.4  # mean attention on the induction stripe that names a head
)


def with_induction_metrics(
    card: ModelCard, state_dict: dict[str, Tensor], n_symbols: int, bos: int
) -> ModelCard:
    """``card`` with induction measured on repeated random tokens of length 13 (not a training-specific length).

    Adds the loss on the repeated half, each head's induction score, and the heads whose score
    reaches ``INDUCTION_HEAD_THRESHOLD``; ``n_symbols`` random symbols follow token ``bos``.
    """
    _checks.instance(card, ModelCard, "with_induction_metrics", "card")
    _checks.instance(state_dict, dict, "with_induction_metrics", "state_dict")
    _checks.integer(n_symbols, "with_induction_metrics", "n_symbols", minimum=2)
    _checks.integer(bos, "with_induction_metrics", "bos", minimum=0)
    bridge = bridge_from_state_dict(
        card.config,
        state_dict,
        make_tokenizer(card.tokenizer),
        device=torch.device("cpu"),
        model_name=card.name,
    )
    seq_len = 13
    tokens = repeated_random_tokens(
        64, seq_len, n_symbols, bos, generator=torch.Generator().manual_seed(1)
    )
    scores = induction_scores(bridge, tokens, seq_len)
    metrics = {
        **card.metrics,
        "repeated_half_loss_len13": round(
            repeated_half_loss(bridge, tokens, seq_len), 4
        ),
        "induction_scores_len13": [
            [round(s, 3) for s in row] for row in scores.tolist()
        ],
        "induction_heads": name_heads(scores, INDUCTION_HEAD_THRESHOLD),
    }
    return ModelCard(**{**card.__dict__, "metrics": metrics})
