"""Activation addition (Turner et al., 2023): a steering vector from contrast pairs, added to the residual stream while sampling.

The vector is the mean, over pairs of texts that differ in one property, of the difference of
their residual streams at the last position. Added at one hook at every position, it pushes what
the model writes toward that property; a random vector of the same norm is the control.
Introduced on the page "Features in a language model".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import torch
from jaxtyping import Float
from torch import Tensor

from mi_course import _checks
from mi_course.sampling import sample_next_token

if TYPE_CHECKING:  # importing TransformerLens takes seconds; Step 1's checker should not wait for it
    from transformer_lens import TransformerBridge
    from transformer_lens.hook_points import HookPoint


@torch.inference_mode()
def steering_vector(model: TransformerBridge, hook: str, pairs: Sequence[tuple[str, str]]) -> Float[Tensor, "d_model"]:
    """The mean over ``pairs`` of (the first text's activation at ``hook`` - the second's), at each text's last position."""
    _checks.model(model, "steering_vector")
    _checks.instance(hook, str, "steering_vector", "hook")
    if isinstance(pairs, str) or not isinstance(pairs, Sequence) or not pairs or any(
            not isinstance(pair, tuple) or len(pair) != 2 or not all(isinstance(text, str) and text for text in pair) for pair in pairs):
        raise ValueError(f"steering_vector expected a non-empty list of (text, text) pairs, got {pairs!r:.80}")

    def last_activation(text: str) -> Tensor:
        _, cache = model.run_with_cache(model.to_tokens(text), names_filter=lambda name: name == hook)
        return cache[hook][0, -1]

    return torch.stack([last_activation(first) - last_activation(second) for first, second in pairs]).mean(dim=0)


def addition_hook(model: TransformerBridge, hook: str, vector: Tensor) -> tuple[str, Callable[[Tensor, HookPoint], Tensor]]:
    """``(hook, function)`` for ``fwd_hooks``: the function adds ``vector`` at every position of the activation but the first.

    The first position holds BOS (or, past ``n_ctx``, the oldest token), which every later position
    attends to; steering it too sends the model off its text entirely.
    """
    _checks.model(model, "addition_hook")
    if not isinstance(vector, Tensor) or vector.shape != (model.cfg.d_model,):
        got = f"shape {tuple(vector.shape)}" if isinstance(vector, Tensor) else type(vector).__name__
        raise ValueError(f"addition_hook expected a vector of width d_model = {model.cfg.d_model} to add at {hook}, got {got}")

    def add(activation: Tensor, hook: HookPoint) -> Tensor:
        activation = activation.clone()
        activation[:, 1:] += vector.to(activation)
        return activation

    return hook, add


@torch.inference_mode()
def sample_texts(model: TransformerBridge, *, samples: int, length: int, seed: int,
                 fwd_hooks: Sequence[tuple[str, Callable[[Tensor, HookPoint], Tensor]]] = ()) -> list[str]:
    """``samples`` texts of ``length`` tokens, each drawn from BOS with ``fwd_hooks`` running; the draws use ``seed``.

    BOS is never drawn, and the model reads at most its last ``n_ctx`` tokens.
    """
    _checks.model(model, "sample_texts")
    for what, value, minimum in (("samples", samples, 1), ("length", length, 1), ("seed", seed, 0)):
        _checks.integer(value, "sample_texts", what, minimum=minimum)
    bos = model.tokenizer.bos_token_id
    generator = torch.Generator().manual_seed(seed)
    tokens = torch.full((samples, 1), bos, device=model.cfg.device)
    for _ in range(length):
        logits = model.run_with_hooks(tokens[:, -model.cfg.n_ctx :], fwd_hooks=list(fwd_hooks))[:, -1].float().cpu()
        logits[:, bos] = -torch.inf
        tokens = torch.cat([tokens, sample_next_token(logits, generator=generator)[:, None].to(tokens.device)], dim=1)
    return [model.tokenizer.decode(row[1:].tolist()) for row in tokens]
