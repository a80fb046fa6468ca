"""Interventions on a running model: ablating attention heads and patching activations.

Both work through hooks, so the model itself never changes. Introduced on the page "Step 3: MI
tooling".
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import torch
from jaxtyping import Float, Int
from torch import Tensor

from mi_course._checks import (
    Call,
    HookNames,
    IsModel,
    Maybe,
    Metric,
    OneOf,
    Shape,
    Tokens,
    described,
    guard,
    head_index,
    integer,
    patching,
    tensor,
)
from mi_course.hooks import check_hook_names

if (
    TYPE_CHECKING
):  # importing TransformerLens takes seconds; Step 1's checker should not wait for it
    from transformer_lens import TransformerBridge
    from transformer_lens.hook_points import HookPoint

HookFunction = Callable[[Tensor, "HookPoint"], Tensor]


def _head_indices(heads: object, name: str, call: Call) -> list[int]:
    """Head indices, as a list of ints (from a list, tuple or tensor)."""
    if isinstance(heads, (str, bytes)) or not isinstance(heads, Sequence | Tensor):
        raise TypeError(
            f"{call.function} expected {name} to be a list of head indices, got {type(heads).__name__} {heads!r}"
        )
    return [
        integer(head, call.function, "each head index", minimum=0)
        for head in (heads.tolist() if isinstance(heads, Tensor) else heads)
    ]


def _checking_z(ablate: HookFunction, name: str, call: Call) -> HookFunction:
    """The hook, refusing a ``z`` that is not a hook_z activation with the heads it ablates."""
    heads = call.arguments["heads"]

    @functools.wraps(ablate)
    def hook_z(z: Tensor, hook: HookPoint) -> Tensor:  # TransformerLens passes hook=
        tensor(
            z,
            call.function,
            "z (a hook_z activation)",
            dims=("batch", "pos", "head", "d_head"),
        )
        if heads and max(heads) >= z.shape[2]:
            raise ValueError(
                f"{call.function} expected head indices below the {z.shape[2]} heads of z {tuple(z.shape)}, got heads {heads}"
            )
        return ablate(z, hook)

    return hook_z


@guard(heads=_head_indices, returns=_checking_z)
def zero_ablation_hook(heads: Sequence[int]) -> HookFunction:
    """A hook for ``blocks.L.attn.hook_z`` that sets the outputs of ``heads`` to zero."""

    def hook(z: Tensor, hook: HookPoint) -> Tensor:
        z = z.clone()
        z[:, :, heads] = 0.0
        return z

    return hook


@guard(heads=_head_indices, returns=_checking_z)
# --8<-- [start:mean-ablation-hook]
def mean_ablation_hook(heads: list[int]) -> Callable[[Tensor, HookPoint], Tensor]:
    """A hook for ``blocks.L.attn.hook_z`` that replaces the outputs of ``heads`` by
    their mean over the batch.

    The mean is taken position by position, so what stays is what the head does on
    average at that position, and what goes is what it does for this particular
    sequence.
    """

    def hook(
        z: Float[Tensor, "batch pos head d_head"], hook: HookPoint
    ) -> Float[Tensor, "batch pos head d_head"]:
        z = z.clone()  # leave the cached activation as it was
        z[:, :, heads] = z[:, :, heads].mean(
            dim=0, keepdim=True
        )  # keepdim: broadcast over the batch
        return z

    return hook


# --8<-- [end:mean-ablation-hook]


def _kind(kind: object, name: str, call: Call) -> str:
    """``"zero"`` or ``"mean"``, and for ``"mean"`` at least 2 sequences to average over."""
    if OneOf("zero", "mean")(kind, name, call) == "mean" and (
        (tokens := call.arguments["tokens"]).shape[0] < 2
    ):
        raise ValueError(
            f"{call.function} with kind='mean' expected at least 2 sequences to average over, got tokens {tuple(tokens.shape)}"
        )
    return kind


@guard(model=IsModel(), tokens=Tokens(), metric=Metric(), kind=_kind)
@torch.inference_mode()
# --8<-- [start:ablation-sweep]
def ablation_sweep(
    model: TransformerBridge,
    tokens: Int[Tensor, "batch pos"],
    metric: Callable[[Float[Tensor, "batch pos d_vocab"]], float],
    kind: str,
) -> Float[Tensor, "n_layers n_heads"]:
    """How much ``metric(logits)`` changes when each head alone is ablated:
    ``(n_layers, n_heads)``.

    ``kind`` is ``"zero"`` (the head's output becomes 0) or ``"mean"`` (its mean over
    the batch, position by position). Entry ``[layer, head]`` is the ablated run's
    metric minus the clean run's.
    """
    make_hook = {"zero": zero_ablation_hook, "mean": mean_ablation_hook}[kind]
    clean = metric(model(tokens))
    changes = torch.zeros(model.cfg.n_layers, model.cfg.n_heads)
    for layer in range(model.cfg.n_layers):
        for head in range(model.cfg.n_heads):
            hooks = [
                (f"blocks.{layer}.attn.hook_z", make_hook([head]))
            ]  # this one head, nothing else
            changes[layer, head] = (
                metric(model.run_with_hooks(tokens, fwd_hooks=hooks)) - clean
            )
    return changes


# --8<-- [end:ablation-sweep]


@guard(**patching(head=Maybe(head_index()), hook_names=HookNames()))
@torch.inference_mode()
# --8<-- [start:patch-by-position]
def patch_by_position(
    model: TransformerBridge,
    clean_tokens: Int[Tensor, "batch pos"],
    corrupted_tokens: Int[Tensor, "batch pos"],
    hook_names: list[str],
    metric: Callable[[Float[Tensor, "batch pos d_vocab"]], float],
    head: int | None = None,
) -> Float[Tensor, "hook pos"]:
    """Activation patching: ``metric(logits)`` of the corrupted run with one clean
    activation patched in.

    Returns ``(len(hook_names), pos)``: entry ``[i, p]`` patches the clean activation of
    hook ``hook_names[i]`` at position ``p`` into the corrupted run, and nothing else.
    With ``head``, only that head's slice is patched, for hooks with a head dimension
    such as ``hook_z``.
    """
    _, clean_cache = model.run_with_cache(clean_tokens)
    results = torch.zeros(len(hook_names), clean_tokens.shape[1])
    for row, name in enumerate(hook_names):
        for position in range(clean_tokens.shape[1]):
            where = (
                (slice(None), position)
                if head is None
                else (slice(None), position, head)
            )

            def patch(
                activation: Tensor, hook, where: tuple = where, name: str = name
            ) -> Tensor:
                activation = (
                    activation.clone()
                )  # a copy to edit: the run's own activation stays as it was
                activation[where] = clean_cache[name][
                    where
                ]  # this position (and head) only, from the clean run
                return activation

            results[row, position] = metric(
                model.run_with_hooks(corrupted_tokens, fwd_hooks=[(name, patch)])
            )
    return results


# --8<-- [end:patch-by-position]


@guard(**patching())
@torch.inference_mode()
# --8<-- [start:patch-heads]
def patch_heads(
    model: TransformerBridge,
    clean_tokens: Int[Tensor, "batch pos"],
    corrupted_tokens: Int[Tensor, "batch pos"],
    metric: Callable[[Float[Tensor, "batch pos d_vocab"]], float],
) -> Float[Tensor, "n_layers n_heads"]:
    """Activation patching of each head's whole output: ``metric`` of the corrupted run
    with that head's clean ``hook_z``.

    Entry ``[layer, head]`` patches the head at every position at once, and nothing
    else.
    """
    z_names = [f"blocks.{layer}.attn.hook_z" for layer in range(model.cfg.n_layers)]
    _, clean_cache = model.run_with_cache(
        clean_tokens, names_filter=lambda name: name in z_names
    )
    results = torch.zeros(model.cfg.n_layers, model.cfg.n_heads)
    for layer, name in enumerate(z_names):
        for head in range(model.cfg.n_heads):

            def patch(
                z: Tensor, hook, head: int = head, clean: Tensor = clean_cache[name]
            ) -> Tensor:
                z = z.clone()
                z[:, :, head] = clean[
                    :, :, head
                ]  # every position of this head, from the clean run
                return z

            results[layer, head] = metric(
                model.run_with_hooks(corrupted_tokens, fwd_hooks=[(name, patch)])
            )
    return results


# --8<-- [end:patch-heads]


def _gap(corrupted_logits: object, name: str, call: Call) -> Tensor:
    """Logits like the clean run's, which the metric scores differently: there is a gap to share."""
    Shape("batch pos d_vocab", like="clean_logits")(corrupted_logits, name, call)
    metric = call.arguments["metric"]
    clean = float(metric(call.arguments["clean_logits"]))
    if clean == float(metric(corrupted_logits)):
        raise ValueError(
            f"{call.function}: the metric scores the clean and the corrupted run alike ({clean:.4g}), "
            "so there is no gap to measure a share of"
        )
    return corrupted_logits


@guard(metric=Metric(), clean_logits=Shape("batch pos d_vocab"), corrupted_logits=_gap)
# --8<-- [start:normalised-metric]
def normalised_metric(
    metric: Callable[[Float[Tensor, "batch pos d_vocab"]], float],
    clean_logits: Float[Tensor, "batch pos d_vocab"],
    corrupted_logits: Float[Tensor, "batch pos d_vocab"],
) -> Callable[[Float[Tensor, "batch pos d_vocab"]], float]:
    """``metric`` rescaled so that the corrupted run scores 0 and the clean run 1.

    A patched run's score is then the share of the clean run's performance that the
    patch restores.
    """
    clean, corrupted = metric(clean_logits), metric(corrupted_logits)

    def normalised(logits: Float[Tensor, "batch pos d_vocab"]) -> float:
        return (metric(logits) - corrupted) / (clean - corrupted)

    return normalised


# --8<-- [end:normalised-metric]


def _two_positions(tokens: object, name: str, call: Call) -> Tensor:
    """Tokens of at least two positions: one to predict from, one to predict."""
    if (
        not isinstance(tokens, Tensor)
        or tokens.ndim != 2
        or tokens.shape[1] < 2
        or tokens.dtype not in (torch.int32, torch.int64)
    ):
        raise ValueError(
            f"{call.function} expected integer tokens of shape (batch, pos) with pos >= 2, got {described(tokens)}"
        )
    return Tokens()(tokens, name, call)


@guard(model=IsModel(), tokens=_two_positions)
@torch.inference_mode()
def token_losses(
    model: TransformerBridge,
    tokens: Tensor,
    fwd_hooks: Sequence[tuple[str, HookFunction]] = (),
) -> Tensor:
    """Next-token loss in nats at each position, ``(batch, pos - 1)``, with ``fwd_hooks`` running.

    Entry ``[b, p]`` is the loss of predicting ``tokens[b, p + 1]`` from ``tokens[b, : p + 1]``.
    """
    check_hook_names(model, [name for name, _ in fwd_hooks])
    logits = model.run_with_hooks(tokens, fwd_hooks=list(fwd_hooks))
    return torch.nn.functional.cross_entropy(
        logits[:, :-1].transpose(1, 2), tokens[:, 1:].long(), reduction="none"
    )
