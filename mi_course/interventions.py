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

if (
    TYPE_CHECKING
):  # importing TransformerLens takes seconds; Step 1's checker should not wait for it
    from transformer_lens import TransformerBridge
    from transformer_lens.hook_points import HookPoint

HookFunction = Callable[[Tensor, "HookPoint"], Tensor]


def _checks_heads(
    make_hook: Callable[[list[int]], HookFunction],
) -> Callable[[Sequence[int]], HookFunction]:
    """``make_hook(heads)``, refusing ``heads`` that are not head indices, and a hook that refuses a ``z`` it cannot ablate.

    The checks sit here, outside the function, so that its own lines are what the page shows.
    """
    function = make_hook.__name__

    @functools.wraps(make_hook)
    def make(heads: Sequence[int]) -> HookFunction:
        heads = _check_heads(heads, function)
        ablate = make_hook(heads)

        @functools.wraps(ablate)
        def hook_z(
            z: Tensor, hook: HookPoint
        ) -> Tensor:  # TransformerLens passes the hook point as hook=
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
    """A hook for ``blocks.L.attn.hook_z`` that replaces the outputs of ``heads`` by
    their mean over the batch.

    The mean is taken position by position, so what stays is what the head does on
    average at that position, and what goes is what it does for this particular
    sequence.
    """

    def hook(
        z: Float[Tensor, "batch pos head d_head"], hook
    ) -> Float[Tensor, "batch pos head d_head"]:
        z = z.clone()  # leave the cached activation as it was
        z[:, :, heads] = z[:, :, heads].mean(
            dim=0, keepdim=True
        )  # keepdim: broadcast over the batch
        return z

    return hook


# --8<-- [end:mean-ablation-hook]


def _check_heads(heads: Sequence[int], function: str) -> list[int]:
    if isinstance(heads, (str, bytes)) or not isinstance(heads, Sequence | Tensor):
        raise TypeError(
            f"{function} expected heads to be a list of head indices, got {type(heads).__name__} {heads!r}"
        )
    return [
        _checks.integer(head, function, "each head index", minimum=0)
        for head in (heads.tolist() if isinstance(heads, Tensor) else heads)
    ]


def _check_z(z: Tensor, heads: list[int], function: str) -> None:
    _checks.tensor(
        z, function, "z (a hook_z activation)", dims=("batch", "pos", "head", "d_head")
    )
    if heads and max(heads) >= z.shape[2]:
        raise ValueError(
            f"{function} expected head indices below the {z.shape[2]} heads of z {tuple(z.shape)}, got heads {heads}"
        )


def _checks_sweep(sweep: Callable) -> Callable:
    """``sweep(model, tokens, metric, kind)`` in inference mode, refusing a model, tokens, metric or kind it cannot sweep with.

    The checks sit here, outside the function, so that its own lines are what the page shows.
    """
    function = sweep.__name__

    @functools.wraps(sweep)
    def checked(
        model: TransformerBridge,
        tokens: Tensor,
        metric: Callable[[Tensor], float],
        kind: str,
    ) -> Tensor:
        _checks.model(model, function)
        _checks.tokens(tokens, function, model)
        if not callable(metric) or isinstance(metric, torch.nn.Module):
            raise TypeError(
                f"{function} expected metric to be a function of the logits, got {type(metric).__name__}"
            )
        if kind not in ("zero", "mean"):
            raise ValueError(f"{function} expected kind 'zero' or 'mean', got {kind!r}")
        if kind == "mean" and tokens.shape[0] < 2:
            raise ValueError(
                f"{function} with kind='mean' expected at least 2 sequences to average over, got tokens {tuple(tokens.shape)}"
            )
        with torch.inference_mode():
            return sweep(model, tokens, metric, kind)

    return checked


@_checks_sweep
# --8<-- [start:ablation-sweep]
def ablation_sweep(
    model, tokens, metric, kind: str
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


def _checks_patching(patch: Callable) -> Callable:
    """``patch(model, clean_tokens, corrupted_tokens, hook_names, metric, head)`` in inference mode, refusing what it cannot patch.

    The checks sit here, outside the function, so that its own lines are what the page shows.
    """
    function = patch.__name__

    @functools.wraps(patch)
    def checked(
        model: TransformerBridge,
        clean_tokens: Tensor,
        corrupted_tokens: Tensor,
        hook_names: Sequence[str],
        metric: Callable[[Tensor], float],
        head: int | None = None,
    ) -> Tensor:
        _checks.model(model, function)
        _checks.paired_tokens(clean_tokens, corrupted_tokens, function, model)
        _checks.metric(metric, function)
        if head is not None:
            _checks.integer(
                head, function, "head", minimum=0, maximum=model.cfg.n_heads - 1
            )
        if isinstance(hook_names, str):
            raise TypeError(
                f"{function} expected hook_names to be a list of hook names, got the str {hook_names!r}"
            )
        check_hook_names(model, hook_names)
        with torch.inference_mode():
            return patch(
                model, clean_tokens, corrupted_tokens, hook_names, metric, head
            )

    return checked


@_checks_patching
# --8<-- [start:patch-by-position]
def patch_by_position(
    model,
    clean_tokens,
    corrupted_tokens,
    hook_names: list[str],
    metric,
    head: int | None = None,
):
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


def _checks_head_patching(patch: Callable) -> Callable:
    """``patch(model, clean_tokens, corrupted_tokens, metric)`` in inference mode, refusing tokens of two shapes and a metric
    that is not a function.

    The checks sit here, outside the function, so that its own lines are what the page shows.
    """
    function = patch.__name__

    @functools.wraps(patch)
    def checked(
        model: TransformerBridge,
        clean_tokens: Tensor,
        corrupted_tokens: Tensor,
        metric: Callable[[Tensor], float],
    ) -> Tensor:
        _checks.model(model, function)
        _checks.paired_tokens(clean_tokens, corrupted_tokens, function, model)
        _checks.metric(metric, function)
        with torch.inference_mode():
            return patch(model, clean_tokens, corrupted_tokens, metric)

    return checked


@_checks_head_patching
# --8<-- [start:patch-heads]
def patch_heads(
    model, clean_tokens, corrupted_tokens, metric
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


def _checks_normalised(normalise: Callable) -> Callable:
    """``normalise(metric, clean_logits, corrupted_logits)``, refusing a metric that is not a function, logits that are
    not ``(batch, pos, d_vocab)`` tensors of one shape, and runs the metric cannot tell apart.

    The checks sit here, outside the function, so that its own lines are what the page shows.
    """
    function = normalise.__name__

    @functools.wraps(normalise)
    def checked(
        metric: Callable[[Tensor], float],
        clean_logits: Tensor,
        corrupted_logits: Tensor,
    ) -> Callable[[Tensor], float]:
        if not callable(metric) or isinstance(metric, torch.nn.Module):
            raise TypeError(
                f"{function} expected metric to be a function of the logits, got {type(metric).__name__}"
            )
        for what, logits in (
            ("clean_logits", clean_logits),
            ("corrupted_logits", corrupted_logits),
        ):
            _checks.tensor(logits, function, what, dims=("batch", "pos", "d_vocab"))
        if clean_logits.shape != corrupted_logits.shape:
            raise ValueError(
                f"{function} expected clean and corrupted logits of one shape, got {tuple(clean_logits.shape)} "
                f"and {tuple(corrupted_logits.shape)}"
            )
        clean, corrupted = float(metric(clean_logits)), float(metric(corrupted_logits))
        if clean == corrupted:
            raise ValueError(
                f"{function}: the metric scores the clean and the corrupted run alike ({clean:.4g}), "
                "so there is no gap to measure a share of"
            )
        return normalise(metric, clean_logits, corrupted_logits)

    return checked


@_checks_normalised
# --8<-- [start:normalised-metric]
def normalised_metric(metric, clean_logits, corrupted_logits):
    """``metric`` rescaled so that the corrupted run scores 0 and the clean run 1.

    A patched run's score is then the share of the clean run's performance that the
    patch restores.
    """
    clean, corrupted = metric(clean_logits), metric(corrupted_logits)

    def normalised(logits: Float[Tensor, "batch pos d_vocab"]) -> float:
        return (metric(logits) - corrupted) / (clean - corrupted)

    return normalised


# --8<-- [end:normalised-metric]


@torch.inference_mode()
def token_losses(
    model: TransformerBridge,
    tokens: Tensor,
    fwd_hooks: Sequence[tuple[str, HookFunction]] = (),
) -> Tensor:
    """Next-token loss in nats at each position, ``(batch, pos - 1)``, with ``fwd_hooks`` running.

    Entry ``[b, p]`` is the loss of predicting ``tokens[b, p + 1]`` from ``tokens[b, : p + 1]``.
    """
    _checks.model(model, "token_losses")
    if (
        not isinstance(tokens, Tensor)
        or tokens.ndim != 2
        or tokens.shape[1] < 2
        or tokens.dtype not in (torch.int32, torch.int64)
    ):
        raise ValueError(
            f"token_losses expected integer tokens of shape (batch, pos) with pos >= 2, got {_checks.described(tokens)}"
        )
    _checks.tokens(tokens, "token_losses", model)
    check_hook_names(model, [name for name, _ in fwd_hooks])
    logits = model.run_with_hooks(tokens, fwd_hooks=list(fwd_hooks))
    return torch.nn.functional.cross_entropy(
        logits[:, :-1].transpose(1, 2), tokens[:, 1:].long(), reduction="none"
    )
