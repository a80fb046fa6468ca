"""Attribution patching (Nanda, 2023): activation patching of every head at every position, estimated from one backward pass.

Patching head h's clean output ``z_clean`` into the corrupted run changes the metric by about
``(z_clean - z_corrupted) · d metric / d z``, the gradient taken in the corrupted run. One forward
and one backward pass of the corrupted run, and one forward pass of the clean run, give that
estimate for every head and position at once, where activation patching needs one run for each.
It is exact only where the metric is linear in ``z``; attention patterns and LayerNorm are not.
Introduced on the page "Build on a paper: the IOI circuit".
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING

import torch
from jaxtyping import Float, Int
from torch import Tensor

from mi_course._checks import Call, Metric, described, guard, patching

if (
    TYPE_CHECKING
):  # importing TransformerLens takes seconds; Step 1's checker should not wait for it
    from transformer_lens import TransformerBridge


def _differentiable(metric: object, name: str, call: Call) -> Callable:
    """A metric that attribution patching can differentiate: refused in inference mode, and its value checked."""
    metric = Metric()(metric, name, call)
    if torch.is_inference_mode_enabled():
        raise RuntimeError(
            f"{call.function} needs gradients: call it outside torch.inference_mode()"
        )

    @functools.wraps(metric)
    def differentiable(logits: Tensor) -> Tensor:
        value = metric(logits)
        if (
            not isinstance(value, Tensor)
            or value.numel() != 1
            or not value.requires_grad
        ):
            got = described(value) + (
                " that does not depend on the logits' graph"
                if isinstance(value, Tensor)
                else ""
            )
            raise TypeError(
                f"{call.function} expected metric to return a one-element tensor it can differentiate, got {got}; "
                "return the tensor itself, not .item(), and compute it from the logits"
            )
        return value

    return differentiable


@guard(**patching(metric=_differentiable))
# --8<-- [start:attribution-patch-heads]
def attribution_patch_heads(
    model: TransformerBridge,
    clean_tokens: Int[Tensor, "batch pos"],
    corrupted_tokens: Int[Tensor, "batch pos"],
    metric: Callable[[Float[Tensor, "batch pos d_vocab"]], Tensor],
) -> Float[Tensor, "n_layers n_heads pos"]:
    """The linear estimate of patching each head's clean output, at each position, into
    the corrupted run.

    Entry ``[layer, head, p]`` estimates ``patch_by_position`` of that head's ``hook_z``
    at ``p``: ``(z_clean - z_corrupted) · d metric / d z`` at the corrupted run, summed
    over the batch and ``d_head``.
    """
    z_names = [f"blocks.{layer}.attn.hook_z" for layer in range(model.cfg.n_layers)]
    with torch.inference_mode():
        _, clean = model.run_with_cache(
            clean_tokens, names_filter=lambda name: name in z_names
        )
    corrupted, offsets = {}, {}

    def track(z, hook, name: str):
        corrupted[name] = z.detach()
        offsets[name] = torch.zeros_like(
            z, requires_grad=True
        )  # adding it changes nothing; its gradient is z's
        return z + offsets[name]

    with torch.enable_grad():
        value = metric(
            model.run_with_hooks(
                corrupted_tokens,
                fwd_hooks=[
                    (name, functools.partial(track, name=name)) for name in z_names
                ],
            )
        )
        gradients = torch.autograd.grad(
            value, [offsets[name] for name in z_names]
        )  # no .grad left on the model
    estimates = [
        ((clean[name] - corrupted[name]) * gradient).sum(dim=(0, 3))
        for name, gradient in zip(z_names, gradients)
    ]
    return torch.stack(estimates).transpose(
        1, 2
    )  # (layer, pos, head) -> (layer, head, pos)


# --8<-- [end:attribution-patch-heads]
