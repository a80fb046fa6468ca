"""Top-k and nucleus (top-p) sampling: which tokens a sampler may draw next, and how likely each is.

Introduced on the page "Step 2: Understand transformers", after ``mi_course.scratch.sample``,
which draws from the whole softmax. Here the distribution is cut first: temperature rescales the
logits, top-k keeps the ``k`` most likely tokens, top-p keeps the smallest set of most likely
tokens whose probabilities add up to at least ``p``; what is kept is renormalised to sum to 1.
The order is Hugging Face's: temperature, then top-k, then top-p on what top-k kept.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import torch
from jaxtyping import Float, Int
from torch import Tensor

from mi_course import _checks


def _checks_sampling_arguments(
    function: Callable[..., Tensor],
) -> Callable[..., Tensor]:
    """``function(logits, temperature, top_k, top_p, ...)``, refusing arguments it cannot use, in one line each.

    The checks sit here, outside the function, so that its own lines are what the page shows.
    """
    name = function.__name__

    @functools.wraps(function)
    def checked(
        logits: Tensor,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> Tensor:
        _checks.tensor(logits, name, "logits", dims=("batch", "d_vocab"))
        if not logits.is_floating_point():
            raise ValueError(
                f"{name} expected floating-point logits, got {logits.dtype}"
            )
        _checks.number(temperature, name, "temperature", positive=True)
        if top_k is not None:
            _checks.integer(top_k, name, "top_k", minimum=1, maximum=logits.shape[-1])
        if top_p is not None:
            _checks.number(top_p, name, "top_p", positive=True)
            if top_p > 1:
                raise ValueError(
                    f"{name} expected top_p in (0, 1] (a probability), got {top_p!r}"
                )
        if "generator" in kwargs and kwargs["generator"] is not None:
            _checks.instance(kwargs["generator"], torch.Generator, name, "generator")
        return function(logits, temperature, top_k, top_p, *args, **kwargs)

    return checked


@_checks_sampling_arguments
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


@_checks_sampling_arguments
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
