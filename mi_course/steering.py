"""Contrastive activation addition: a steering vector from contrast pairs, added to the residual stream while sampling.

The vector is the mean, over many pairs of texts that differ in one property, of the difference
of their residual streams at the last position: a difference in means, as in contrastive
activation addition (Rimsky et al., 2023). Turner et al.'s ActAdd (2023) uses one pair instead.
Added at one hook, it pushes what the model writes toward that property; random vectors of the
same norm (``mi_course.baselines.random_directions``) are the control, and ``sample_texts`` draws
many runs in one batch, one vector per row, so that the effect can be held over seeds and controls.
Introduced on the page "Features in a language model".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import torch
from jaxtyping import Float
from torch import Tensor

from mi_course import _checks

if (
    TYPE_CHECKING
):  # importing TransformerLens takes seconds; Step 1's checker should not wait for it
    from transformer_lens import TransformerBridge
    from transformer_lens.hook_points import HookPoint


@torch.inference_mode()
def steering_vector(
    model: TransformerBridge, hook: str, pairs: Sequence[tuple[str, str]]
) -> Float[Tensor, "d_model"]:
    """The mean over ``pairs`` of (the first text's activation at ``hook`` - the second's), at each text's last position."""
    _checks.model(model, "steering_vector")
    _checks.instance(hook, str, "steering_vector", "hook")
    if (
        isinstance(pairs, str)
        or not isinstance(pairs, Sequence)
        or not pairs
        or any(
            not isinstance(pair, tuple)
            or len(pair) != 2
            or not all(isinstance(text, str) and text for text in pair)
            for pair in pairs
        )
    ):
        raise ValueError(
            f"steering_vector expected a non-empty list of (text, text) pairs, got {pairs!r:.80}"
        )

    rows = [model.to_tokens(text)[0] for pair in pairs for text in pair]
    # One batch, padded on the right: a causal model's activation at a text's last token ignores what follows it.
    tokens = torch.nn.utils.rnn.pad_sequence(
        rows, batch_first=True, padding_value=int(rows[0][0])
    )
    _, cache = model.run_with_cache(tokens, names_filter=lambda name: name == hook)
    last = cache[hook][
        torch.arange(len(rows)), torch.tensor([len(row) - 1 for row in rows])
    ]
    return (last[0::2] - last[1::2]).mean(dim=0)


def addition_hook(
    model: TransformerBridge,
    hook: str,
    vector: Tensor,
    *,
    positions: Tensor | None = None,
) -> tuple[str, Callable[[Tensor, HookPoint], Tensor]]:
    """``(hook, function)`` for ``fwd_hooks``: the function adds ``vector`` to the activation at ``hook``.

    ``vector`` is one ``(d_model,)`` vector for every row, or ``(batch, d_model)``, one per row of
    the batch, so that one forward pass tries many vectors. It is added at every position but the
    first, or, given ``positions`` (a boolean ``(batch, pos)`` mask of the tokens), only where that
    is True. The first position holds BOS (or, past ``n_ctx``, the oldest token), which every later
    position attends to; steering it too sends the model off its text entirely.
    """
    _checks.model(model, "addition_hook")
    if (
        not isinstance(vector, Tensor)
        or vector.ndim not in (1, 2)
        or vector.shape[-1] != model.cfg.d_model
    ):
        got = (
            f"shape {tuple(vector.shape)}"
            if isinstance(vector, Tensor)
            else type(vector).__name__
        )
        raise ValueError(
            f"addition_hook expected a vector of width d_model = {model.cfg.d_model} to add at {hook} "
            f"(one, or one per row), got {got}"
        )
    if positions is not None and (
        not isinstance(positions, Tensor)
        or positions.dtype != torch.bool
        or positions.ndim != 2
    ):
        raise ValueError(
            f"addition_hook expected positions to be a boolean (batch, pos) mask, got {_checks.described(positions)}"
        )

    def add(activation: Tensor, hook: HookPoint) -> Tensor:
        where = torch.ones(
            activation.shape[:2], dtype=torch.bool, device=activation.device
        )
        where[:, 0] = False
        if positions is not None:
            if positions.shape != activation.shape[:2]:
                raise ValueError(
                    f"addition_hook's positions have shape {tuple(positions.shape)}, the activation (batch, pos) "
                    f"{tuple(activation.shape[:2])}"
                )
            where = positions.to(activation.device)
        rows = vector.to(activation).expand(
            activation.shape[0], -1
        )  # raises if a (batch, d_model) vector has another batch
        return activation + where[..., None] * rows[:, None, :]

    return hook, add


@torch.inference_mode()
def sample_texts(
    model: TransformerBridge,
    *,
    samples: int,
    length: int,
    seed: int | Sequence[int],
    fwd_hooks: Sequence[tuple[str, Callable[[Tensor, HookPoint], Tensor]]] = (),
) -> list[str]:
    """``samples`` texts of ``length`` tokens per seed, each drawn from BOS with ``fwd_hooks`` running.

    ``seed`` is one seed or a list of them: the texts come seed by seed, ``samples`` each, all in
    one batch (rows ``i * samples`` to ``(i + 1) * samples - 1`` for the ``i``-th seed). Each seed
    draws its own random numbers, so runs with different seeds share none, and two runs with the
    same seed share them all (and so start alike until their distributions part). BOS is never
    drawn, and the model reads at most its last ``n_ctx`` tokens.
    """
    _checks.model(model, "sample_texts")
    seeds = [seed] if isinstance(seed, int) else seed
    if isinstance(seeds, str) or not isinstance(seeds, Sequence) or not seeds:
        raise ValueError(
            f"sample_texts expected seed to be a seed or a non-empty list of seeds, got {seed!r:.80}"
        )
    for what, value, minimum in (
        ("samples", samples, 1),
        ("length", length, 1),
        *(("seed", value, 0) for value in seeds),
    ):
        _checks.integer(value, "sample_texts", what, minimum=minimum)
    bos = model.tokenizer.bos_token_id
    generators = [torch.Generator().manual_seed(value) for value in seeds]
    tokens = torch.full((samples * len(seeds), 1), bos, device=model.cfg.device)
    for _ in range(length):
        logits = (
            model.run_with_hooks(
                tokens[:, -model.cfg.n_ctx :], fwd_hooks=list(fwd_hooks)
            )[:, -1]
            .float()
            .cpu()
        )
        logits[:, bos] = -torch.inf
        uniform = torch.cat(
            [torch.rand(samples, generator=generator) for generator in generators]
        )
        drawn = torch.searchsorted(
            logits.softmax(dim=-1).cumsum(dim=-1), uniform[:, None]
        ).clamp_max(logits.shape[-1] - 1)
        tokens = torch.cat([tokens, drawn.to(tokens.device)], dim=1)
    return [model.tokenizer.decode(row[1:].tolist()) for row in tokens]
