"""Repeated random tokens, and the scores that find induction heads on them.

An induction head attends from a token's second occurrence to the token just after its first
occurrence, then copies it. On a sequence ``[BOS] x_1 .. x_L x_1 .. x_L``, a query at position
``q`` in the repeat attends to key ``q - L + 1``. Introduced on the page "Step 2: Understand
transformers"; Step 3 builds on it.
"""

from __future__ import annotations

import torch
from torch import Tensor
from transformer_lens import TransformerBridge


def repeated_random_tokens(
    batch: int, seq_len: int, n_symbols: int, bos: int, *, generator: torch.Generator | None = None
) -> Tensor:
    """``(batch, 1 + 2 * seq_len)`` tokens: BOS, ``seq_len`` uniform random symbols, then the same again."""
    if seq_len < 2:
        raise ValueError(f"expected seq_len >= 2 so that the sequence repeats something, got {seq_len}")
    if not 0 <= bos or n_symbols < 2:
        raise ValueError(f"expected n_symbols >= 2 and a non-negative bos id, got {n_symbols} and {bos}")
    first_half = torch.randint(0, n_symbols, (batch, seq_len), generator=generator)
    return torch.cat([torch.full((batch, 1), bos), first_half, first_half], dim=1)


def induction_stripe(seq_len: int) -> tuple[Tensor, Tensor]:
    """Query and key positions of the induction stripe on ``[BOS] x x`` of half-length ``seq_len``."""
    queries = torch.arange(seq_len + 1, 2 * seq_len + 1)
    return queries, queries - seq_len + 1


@torch.inference_mode()
def induction_scores(model: TransformerBridge, tokens: Tensor, seq_len: int) -> Tensor:
    """Mean attention each head pays along the induction stripe: ``(n_layers, n_heads)``, in [0, 1]."""
    if tokens.ndim != 2 or tokens.shape[1] != 1 + 2 * seq_len:
        raise ValueError(f"expected tokens of shape (batch, {1 + 2 * seq_len}) for seq_len={seq_len}, got {tuple(tokens.shape)}")
    if not torch.equal(tokens[:, 1 : 1 + seq_len], tokens[:, 1 + seq_len :]):
        raise ValueError("the tokens do not repeat: expected [BOS] x_1..x_L x_1..x_L, as repeated_random_tokens makes")
    _, cache = model.run_with_cache(tokens, names_filter=lambda name: name.endswith("hook_pattern"))
    queries, keys = induction_stripe(seq_len)
    scores = [cache["pattern", layer][:, :, queries, keys].mean(dim=(0, 2)) for layer in range(model.cfg.n_layers)]
    return torch.stack(scores).cpu()


@torch.inference_mode()
def repeated_half_loss(model: TransformerBridge, tokens: Tensor, seq_len: int) -> float:
    """Mean next-token loss on the repeat: predicting ``x_2 .. x_L`` of the second copy, in nats."""
    logits = model(tokens)
    log_probs = logits[:, seq_len + 1 : -1].log_softmax(dim=-1)
    targets = tokens[:, seq_len + 2 :]
    return -log_probs.gather(-1, targets.unsqueeze(-1)).mean().item()


def name_heads(scores: Tensor, threshold: float) -> list[str]:
    """``"layer.head"`` names of the heads scoring at least ``threshold``, highest first."""
    flat, n_heads = scores.flatten(), scores.shape[1]
    return [f"{i // n_heads}.{i % n_heads}" for i in flat.argsort(descending=True).tolist() if flat[i] >= threshold]
