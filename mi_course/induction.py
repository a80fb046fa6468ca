"""Repeated random tokens, and the scores that find induction heads on them.

An induction head attends from a token's second occurrence to the token just after its first
occurrence, then copies it. On a sequence ``[BOS] x_1 .. x_L x_1 .. x_L``, a query at position
``q`` in the repeat attends to key ``q - L + 1``; a duplicate-token head attends to ``q - L``, the
token's first occurrence, and a previous-token head to ``q - 1``. Introduced on the page "Step 2:
Understand transformers"; Step 3 builds on it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import torch
from jaxtyping import Float, Int
from torch import Tensor

from mi_course import _checks
from mi_course._checks import Call, Integer, Shape, Tokens, described, guard
from mi_course.hooks import check_hook_names

if (
    TYPE_CHECKING
):  # importing TransformerLens takes seconds; Step 1's checker should not wait for it
    from transformer_lens import TransformerBridge
    from transformer_lens.hook_points import HookPoint


def repeated_random_tokens(
    batch: int,
    seq_len: int,
    n_symbols: int,
    bos: int,
    *,
    generator: torch.Generator | None = None,
) -> Tensor:
    """``(batch, 1 + 2 * seq_len)`` tokens: BOS, ``seq_len`` uniform random symbols, then the same again."""
    _checks.integer(batch, "repeated_random_tokens", "batch", minimum=1)
    for what, value in (("seq_len", seq_len), ("n_symbols", n_symbols), ("bos", bos)):
        _checks.integer(value, "repeated_random_tokens", what)
    if seq_len < 2:
        raise ValueError(
            f"repeated_random_tokens expected seq_len >= 2 so that the sequence repeats something, got {seq_len}"
        )
    if not 0 <= bos or n_symbols < 2:
        raise ValueError(
            f"repeated_random_tokens expected n_symbols >= 2 and a non-negative bos id, got {n_symbols} and {bos}"
        )
    if generator is not None:
        _checks.instance(
            generator, torch.Generator, "repeated_random_tokens", "generator"
        )
    first_half = torch.randint(0, n_symbols, (batch, seq_len), generator=generator)
    return torch.cat([torch.full((batch, 1), bos), first_half, first_half], dim=1)


def _repeated_pattern(pattern: object, name: str, call: Call) -> Tensor:
    """A ``(batch, head, 1 + 2L, 1 + 2L)`` pattern, for ``L = seq_len``."""
    Shape("batch head query key")(pattern, name, call)
    positions = 1 + 2 * call.arguments["seq_len"]
    if pattern.shape[-2:] != (positions, positions):
        raise ValueError(
            f"{call.function} expected pattern of shape (batch, head, {positions}, {positions}) for "
            f"seq_len={call.arguments['seq_len']}, that is (batch, head, 1 + 2 * seq_len, 1 + 2 * seq_len), "
            f"got {tuple(pattern.shape)}"
        )
    return pattern


@guard(seq_len=Integer(1), pattern=_repeated_pattern)
# --8<-- [start:induction-score]
def induction_score(
    pattern: Float[Tensor, "batch head query key"], seq_len: int
) -> Float[Tensor, "head"]:
    """Mean attention each head pays from the second copy of a token to the token after
    its first copy.
    """
    queries = torch.arange(seq_len + 1, 2 * seq_len + 1)  # the second copy
    keys = queries - seq_len + 1  # one after the same token's first occurrence
    return pattern[:, :, queries, keys].mean(
        dim=(0, 2)
    )  # over the batch and the queries


# --8<-- [end:induction-score]


def _square_pattern(pattern: object, name: str, call: Call) -> Tensor:
    """A float ``(batch, head, pos, pos)`` pattern with ``pos >= 3``."""
    Shape("batch head query key")(pattern, name, call)
    if (
        pattern.shape[-1] != pattern.shape[-2]
        or pattern.shape[-1] < 3
        or not pattern.is_floating_point()
    ):
        raise ValueError(
            f"{call.function} expected a float pattern of shape (batch, head, pos, pos) with pos >= 3, got {described(pattern)}"
        )
    return pattern


def _repeating_tokens(tokens: object, name: str, call: Call) -> Tensor:
    """``(batch, pos)`` ids of the pattern's sequences, some token seen twice."""
    ids, pattern = Tokens(fits=None)(tokens, name, call), call.arguments["pattern"]
    if ids.shape != (pattern.shape[0], pattern.shape[-1]):
        raise ValueError(
            f"{call.function} expected tokens of shape {(pattern.shape[0], pattern.shape[-1])} (batch, pos) "
            f"for a pattern of shape {tuple(pattern.shape)}, got {tuple(ids.shape)}"
        )
    if not (ids[:, :, None] == ids[:, None, :]).tril(diagonal=-1).any():
        raise ValueError(
            f"{call.function}: no token of tokens {tuple(ids.shape)} repeats an earlier one, so there is nothing to score"
        )
    return ids


# --8<-- [start:head-detectors]
def previous_token_score(
    pattern: Float[Tensor, "batch head query key"],
) -> Float[Tensor, "head"]:
    """Mean attention each head pays from a token to the one just before it.

    The queries start at position 2: the token at position 1 has only BOS before it,
    where heads with nothing to do rest their attention anyway.
    """
    queries = torch.arange(2, pattern.shape[-2])
    return pattern[:, :, queries, queries - 1].mean(
        dim=(0, 2)
    )  # over the batch and the queries


def duplicate_token_score(
    pattern: Float[Tensor, "batch head query key"], tokens: Int[Tensor, "batch pos"]
) -> Float[Tensor, "head"]:
    """Mean attention each head pays from a token to the earlier positions that hold the
    same token.

    It reads the tokens, not the positions, so it works on any text: only the queries
    whose token appeared before count, and the attention to all of that token's earlier
    copies adds up.
    """
    same = (
        tokens[:, :, None] == tokens[:, None, :]
    )  # (batch, query, key): the key holds the query's token
    earlier = same.tril(
        diagonal=-1
    )  # only keys before the query: a token always matches itself
    on_copies = (pattern * earlier[:, None]).sum(
        dim=-1
    )  # (batch, head, query): attention on earlier copies
    repeats = earlier.any(
        dim=-1
    )  # (batch, query): the queries whose token appeared before
    return on_copies.transpose(0, 1)[:, repeats].mean(
        dim=1
    )  # over those (sequence, query) pairs


def first_token_score(
    pattern: Float[Tensor, "batch head query key"],
) -> Float[Tensor, "head"]:
    """Mean attention each head pays from a token to position 0, BOS: where a head looks
    when it has nothing to do.

    The BOS query itself is left out: it can attend only to itself.
    """
    return pattern[:, :, 1:, 0].mean(
        dim=(0, 2)
    )  # over the batch and the queries after BOS


# --8<-- [end:head-detectors]


# Guarded here, after the section, so that the page shows the three functions together.
previous_token_score = guard(pattern=_square_pattern)(previous_token_score)
duplicate_token_score = guard(pattern=_square_pattern, tokens=_repeating_tokens)(
    duplicate_token_score
)
first_token_score = guard(pattern=_square_pattern)(first_token_score)


def _float_scores(scores: object, name: str, call: Call) -> Tensor:
    """A float ``(n_layers, n_heads)`` tensor to write into."""
    if not Shape("n_layers n_heads")(scores, name, call).is_floating_point():
        raise ValueError(
            f"{call.function} expected float scores to write into, got {described(scores)}"
        )
    return scores


def _checking_pattern(write: Callable, name: str, call: Call) -> Callable:
    """The hook, refusing a layer or heads that ``scores`` has no row or column for."""
    scores = call.arguments["scores"]

    @functools.wraps(write)
    def hook(pattern: Tensor, hook) -> None:  # TransformerLens passes hook=
        layer = getattr(hook, "layer", lambda: None)()
        if (
            layer is None
            or not 0 <= layer < scores.shape[0]
            or pattern.ndim != 4
            or pattern.shape[1] != scores.shape[1]
        ):
            raise ValueError(
                f"{call.function}: a hook for blocks.L.attn.hook_pattern writes into scores[L, head] of scores "
                f"{tuple(scores.shape)}, got layer {layer} and a pattern {described(pattern)}"
            )
        return write(pattern, hook)

    return hook


@guard(seq_len=Integer(1), scores=_float_scores, returns=_checking_pattern)
# --8<-- [start:induction-score-hook]
def induction_score_hook(
    seq_len: int, scores: Float[Tensor, "n_layers n_heads"]
) -> Callable[[Float[Tensor, "batch head query key"], HookPoint], None]:
    """A hook for ``blocks.L.attn.hook_pattern`` that writes layer L's induction scores
    into ``scores[L]`` during the run.

    It returns nothing, so the run goes on unchanged: the hook only reads, and nothing
    is cached.
    """

    def hook(pattern: Float[Tensor, "batch head query key"], hook) -> None:
        scores[hook.layer()] = induction_score(
            pattern, seq_len
        )  # hook.layer() is L of blocks.L.attn.hook_pattern

    return hook


# --8<-- [end:induction-score-hook]


def _stripe_score(
    stripe: Callable[[int], tuple[Tensor, Tensor]],
) -> Callable[[Tensor, int], Tensor]:
    """A score like ``induction_score`` for another stripe: ``stripe(seq_len)`` gives its (queries, keys)."""

    def score(pattern: Tensor, seq_len: int) -> Tensor:
        queries, keys = stripe(seq_len)
        return pattern[:, :, queries, keys].mean(dim=(0, 2))

    return score


# Each kind of head attends from a query to one key. On [BOS] x x of half-length L, the previous-token
# stripe runs from each query to the key before it (previous_token_score, from query 2 on), the
# duplicate-token stripe from the second copy to the first (what duplicate_token_score measures when
# x has no repeats of its own); the induction stripe is induction_score's.
STRIPES = {
    "previous-token": lambda seq_len: (
        torch.arange(2, 2 * seq_len + 1),
        torch.arange(1, 2 * seq_len),
    ),
    "duplicate-token": lambda seq_len: (
        torch.arange(seq_len + 1, 2 * seq_len + 1),
        torch.arange(1, seq_len + 1),
    ),
}
# What each kind of head scores on a pattern: ``(pattern, seq_len) -> (head,)``, in [0, 1].
SCORES: dict[str, Callable[[Tensor, int], Tensor]] = {
    **{kind: _stripe_score(stripe) for kind, stripe in STRIPES.items()},
    "induction": induction_score,
}


@torch.inference_mode()
def head_scores(
    model: TransformerBridge, tokens: Tensor, seq_len: int
) -> dict[str, Tensor]:
    """Mean attention each head pays along the stripe of each kind of ``SCORES``: ``{kind: (n_layers, n_heads)}``, in [0, 1]."""
    _check_repeated(tokens, seq_len, "head_scores", model)
    _, cache = model.run_with_cache(
        tokens, names_filter=lambda name: name.endswith("hook_pattern")
    )
    patterns = [
        cache["pattern", layer] for layer in range(model.cfg.n_layers)
    ]  # each (batch, head, query, key)
    return {
        kind: torch.stack([score(pattern, seq_len) for pattern in patterns]).cpu()
        for kind, score in SCORES.items()
    }


def induction_scores(model: TransformerBridge, tokens: Tensor, seq_len: int) -> Tensor:
    """``induction_score`` of every head: ``(n_layers, n_heads)``, in [0, 1]."""
    _check_repeated(tokens, seq_len, "induction_scores", model)
    return head_scores(model, tokens, seq_len)["induction"]


def _check_repeated(
    tokens: Tensor,
    seq_len: int,
    function: str,
    model: TransformerBridge | None = None,
    *,
    repeats: bool = True,
) -> None:
    if model is not None:
        _checks.model(model, function)
    _checks.integer(seq_len, function, "seq_len", minimum=1)
    _checks.tokens(tokens, function, model)
    if tokens.shape[1] != 1 + 2 * seq_len:
        raise ValueError(
            f"{function} expected tokens of shape (batch, {1 + 2 * seq_len}) for seq_len={seq_len}, that is (batch, 1 + 2 * seq_len), "
            f"got {tuple(tokens.shape)}"
        )
    if repeats and not torch.equal(
        tokens[:, 1 : 1 + seq_len], tokens[:, 1 + seq_len :]
    ):
        raise ValueError(
            f"{function}: the tokens do not repeat after {seq_len} tokens: expected [BOS] x_1..x_L x_1..x_L with L={seq_len}, "
            "as repeated_random_tokens makes"
        )


@torch.inference_mode()
def repeated_half_loss(
    model: TransformerBridge,
    tokens: Tensor,
    seq_len: int,
    fwd_hooks: Sequence[tuple] = (),
) -> float:
    """Mean next-token loss on the repeat: predicting ``x_2 .. x_L`` of the second copy, in nats.

    ``fwd_hooks`` are ``(hook name, hook function)`` pairs to run with, as ``run_with_hooks`` takes them.
    """
    _check_repeated(tokens, seq_len, "repeated_half_loss", model)
    check_hook_names(model, [name for name, _ in fwd_hooks])
    return repeated_half_loss_of(
        model.run_with_hooks(tokens, fwd_hooks=list(fwd_hooks)), tokens, seq_len
    )


def repeated_half_loss_of(logits: Tensor, tokens: Tensor, seq_len: int) -> float:
    """``repeated_half_loss`` from logits already computed on ``tokens``."""
    _check_repeated(tokens, seq_len, "repeated_half_loss_of", repeats=False)
    _checks.tensor(
        logits, "repeated_half_loss_of", "logits", dims=("batch", "pos", "d_vocab")
    )
    if logits.shape[:2] != tokens.shape:
        raise ValueError(
            f"repeated_half_loss_of expected logits of shape {tuple(tokens.shape)} + (d_vocab,) for tokens of that shape, got {tuple(logits.shape)}"
        )
    log_probs = logits[:, seq_len + 1 : -1].log_softmax(dim=-1)
    targets = tokens[:, seq_len + 2 :]
    return -log_probs.gather(-1, targets.unsqueeze(-1)).mean().item()


def name_heads(scores: Tensor, threshold: float) -> list[str]:
    """``"layer.head"`` names of the heads scoring at least ``threshold``, highest first."""
    _checks.tensor(scores, "name_heads", "scores", dims=("n_layers", "n_heads"))
    _checks.number(threshold, "name_heads", "threshold")
    flat, n_heads = scores.flatten(), scores.shape[1]
    return [
        f"{i // n_heads}.{i % n_heads}"
        for i in flat.argsort(descending=True).tolist()
        if flat[i] >= threshold
    ]
