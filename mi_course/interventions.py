"""Interventions on a running model: ablating attention heads and patching activations.

Both work through hooks, so the model itself never changes. Introduced on the page "Step 3: MI
tooling".
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import torch
from jaxtyping import Float
from torch import Tensor

from mi_course import _checks
from mi_course.hooks import check_hook_names

if TYPE_CHECKING:  # importing TransformerLens takes seconds; Step 1's checker should not wait for it
    from transformer_lens import TransformerBridge
    from transformer_lens.hook_points import HookPoint

HookFunction = Callable[[Tensor, "HookPoint"], Tensor]


def _checks_heads(make_hook: Callable[[list[int]], HookFunction]) -> Callable[[Sequence[int]], HookFunction]:
    """``make_hook(heads)``, refusing ``heads`` that are not head indices, and a hook that refuses a ``z`` it cannot ablate.

    The checks sit here, outside the function, so that its own lines are what the page shows.
    """
    function = make_hook.__name__

    @functools.wraps(make_hook)
    def make(heads: Sequence[int]) -> HookFunction:
        heads = _check_heads(heads, function)
        ablate = make_hook(heads)

        @functools.wraps(ablate)
        def hook_z(z: Tensor, hook: HookPoint) -> Tensor:  # TransformerLens passes the hook point as hook=
            _check_z(z, heads, function)
            return ablate(z, hook)

        return hook_z

    return make


@_checks_heads
def zero_ablation_hook(heads: Sequence[int]) -> HookFunction:
    """A hook for ``blocks.L.attn.hook_z`` that sets the outputs of ``heads`` to zero."""

    def hook(z: Tensor, hook: HookPoint) -> Tensor:
        z = z.clone()
        z[:, :, heads] = 0.0
        return z

    return hook


@_checks_heads
# --8<-- [start:mean-ablation-hook]
def mean_ablation_hook(heads: list[int]):
    """A hook for ``blocks.L.attn.hook_z`` that replaces the outputs of ``heads`` by their mean over the batch.

    The mean is taken position by position, so what stays is what the head does on average at
    that position, and what goes is what it does for this particular sequence.
    """

    def hook(z: Float[Tensor, "batch pos head d_head"], hook) -> Float[Tensor, "batch pos head d_head"]:
        z = z.clone()  # leave the cached activation as it was
        z[:, :, heads] = z[:, :, heads].mean(dim=0, keepdim=True)  # keepdim: broadcast over the batch
        return z

    return hook
# --8<-- [end:mean-ablation-hook]


def _check_heads(heads: Sequence[int], function: str) -> list[int]:
    if isinstance(heads, (str, bytes)) or not isinstance(heads, Sequence | Tensor):
        raise TypeError(f"{function} expected heads to be a list of head indices, got {type(heads).__name__} {heads!r}")
    return [_checks.integer(head, function, "each head index", minimum=0) for head in (heads.tolist() if isinstance(heads, Tensor) else heads)]


def _check_z(z: Tensor, heads: list[int], function: str) -> None:
    _checks.tensor(z, function, "z (a hook_z activation)", dims=("batch", "pos", "head", "d_head"))
    if heads and max(heads) >= z.shape[2]:
        raise ValueError(f"{function} expected head indices below the {z.shape[2]} heads of z {tuple(z.shape)}, got heads {heads}")


@torch.inference_mode()
def patch_by_position(
    model: TransformerBridge,
    clean_tokens: Tensor,
    corrupted_tokens: Tensor,
    hook_names: Sequence[str],
    metric: Callable[[Tensor], float],
    head: int | None = None,
) -> Tensor:
    """Activation patching: ``metric(logits)`` of the corrupted run with one clean activation patched in.

    Returns ``(len(hook_names), pos)``: entry ``[i, p]`` patches the clean activation of hook
    ``hook_names[i]`` at position ``p`` into the corrupted run, and nothing else. With ``head``,
    only that head's slice is patched, for hooks with a head dimension such as ``hook_z``.
    """
    _checks.model(model, "patch_by_position")
    _checks.tokens(clean_tokens, "patch_by_position", model, "clean_tokens")
    _checks.tokens(corrupted_tokens, "patch_by_position", model, "corrupted_tokens")
    if not callable(metric):
        raise TypeError(f"patch_by_position expected metric to be a function of the logits, got {type(metric).__name__}")
    if head is not None:
        _checks.integer(head, "patch_by_position", "head", minimum=0, maximum=model.cfg.n_heads - 1)
    if isinstance(hook_names, str):
        raise TypeError(f"patch_by_position expected hook_names to be a list of hook names, got the str {hook_names!r}")
    if clean_tokens.shape != corrupted_tokens.shape:
        raise ValueError(f"clean and corrupted tokens must have one shape, got {tuple(clean_tokens.shape)} and {tuple(corrupted_tokens.shape)}")
    check_hook_names(model, hook_names)
    _, clean_cache = model.run_with_cache(clean_tokens)
    results = torch.zeros(len(hook_names), clean_tokens.shape[1])
    for row, name in enumerate(hook_names):
        for position in range(clean_tokens.shape[1]):

            def patch(activation: Tensor, hook: HookPoint, position: int = position, name: str = name) -> Tensor:
                activation = activation.clone()
                where = (slice(None), position) if head is None else (slice(None), position, head)
                activation[where] = clean_cache[name][where]
                return activation

            results[row, position] = metric(model.run_with_hooks(corrupted_tokens, fwd_hooks=[(name, patch)]))
    return results


@torch.inference_mode()
def token_losses(model: TransformerBridge, tokens: Tensor, fwd_hooks: Sequence[tuple[str, HookFunction]] = ()) -> Tensor:
    """Next-token loss in nats at each position, ``(batch, pos - 1)``, with ``fwd_hooks`` running.

    Entry ``[b, p]`` is the loss of predicting ``tokens[b, p + 1]`` from ``tokens[b, : p + 1]``.
    """
    _checks.model(model, "token_losses")
    if not isinstance(tokens, Tensor) or tokens.ndim != 2 or tokens.shape[1] < 2 or tokens.dtype not in (torch.int32, torch.int64):
        raise ValueError(
            f"token_losses expected integer tokens of shape (batch, pos) with pos >= 2, "
            f"got {_checks.described(tokens)}"
        )
    _checks.tokens(tokens, "token_losses", model)
    check_hook_names(model, [name for name, _ in fwd_hooks])
    logits = model.run_with_hooks(tokens, fwd_hooks=list(fwd_hooks))
    return torch.nn.functional.cross_entropy(logits[:, :-1].transpose(1, 2), tokens[:, 1:].long(), reduction="none")
