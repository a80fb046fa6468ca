"""Top-k and nucleus (top-p) sampling: which tokens a sampler may draw next, and how likely each is.

Introduced on the page "Step 2: Understand transformers", after ``mi_course.scratch.sample``,
which draws from the whole softmax. Here the distribution is cut first: temperature rescales the
logits, top-k keeps the ``k`` most likely tokens, top-p keeps the smallest set of most likely
tokens whose probabilities add up to at least ``p``; what is kept is renormalised to sum to 1.
The order is Hugging Face's: temperature, then top-k, then top-p on what top-k kept.
"""

from __future__ import annotations

import torch
from jaxtyping import Float, Int
from torch import Tensor

from mi_course._checks import (
    Call,
    Integer,
    IsA,
    Maybe,
    Number,
    Probability,
    Shape,
    Spec,
    guard,
)


def _float_logits(logits: object, name: str, call: Call) -> Tensor:
    """Floating-point ``(batch, d_vocab)`` logits."""
    if not Shape("batch d_vocab")(logits, name, call).is_floating_point():
        raise ValueError(
            f"{call.function} expected floating-point {name}, got {logits.dtype}"
        )
    return logits


_SAMPLING_ARGUMENTS: dict[str, Spec] = {
    "logits": _float_logits,
    "temperature": Number(positive=True),
    "top_k": Maybe(Integer(1, lambda call: call.arguments["logits"].shape[-1])),
    "top_p": Maybe(Probability()),
}


@guard(**_SAMPLING_ARGUMENTS)
# --8<-- [start:next-token-probs]
# --8<-- [start:next-token-probs-signature]
def next_token_probs(
    logits: Float[Tensor, "batch d_vocab"],
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
) -> Float[Tensor, "batch d_vocab"]:
    """The distribution to sample the next token from: tempered, cut to the top k and
    the top p, renormalised.
    """
    # --8<-- [end:next-token-probs-signature]
    logits = (
        logits / temperature
    )  # before the softmax: it sharpens (T < 1) or flattens (T > 1) the distribution
    if top_k is not None:
        kth_largest = logits.topk(top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(
            logits < kth_largest, float("-inf")
        )  # keeps exactly k tokens (without ties)
    if top_p is not None:
        sorted_probs, order = logits.softmax(dim=-1).sort(
            dim=-1, descending=True
        )  # what top-k kept, renormalised
        mass_above = (
            sorted_probs.cumsum(dim=-1) - sorted_probs
        )  # the probability of the tokens ranked above each one
        remove_sorted = (
            mass_above >= top_p
        )  # keep a token while less than p lies above it: the one crossing p stays
        remove = torch.zeros_like(remove_sorted).scatter(
            -1, order, remove_sorted
        )  # back to vocabulary order
        logits = logits.masked_fill(remove, float("-inf"))
    return logits.softmax(
        dim=-1
    )  # the softmax of what is left: the kept tokens' probabilities sum to 1


# --8<-- [end:next-token-probs]


@guard(**_SAMPLING_ARGUMENTS, generator=Maybe(IsA(torch.Generator)))
# --8<-- [start:sample-next-token]
# --8<-- [start:sample-next-token-signature]
def sample_next_token(
    logits: Float[Tensor, "batch d_vocab"],
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
) -> Int[Tensor, "batch"]:
    """One token per row of ``logits``, drawn from ``next_token_probs``; ``generator``
    makes the draw repeatable.
    """
    # --8<-- [end:sample-next-token-signature]
    probs = next_token_probs(logits, temperature, top_k, top_p)
    return torch.multinomial(probs, num_samples=1, generator=generator).squeeze(-1)


# --8<-- [end:sample-next-token]


__all__ = ["next_token_probs", "sample_next_token"]
