"""Path patching (Wang et al., 2022): how much of a behaviour flows from some heads to others, or to the logits.

Activation patching says that a head matters; path patching says through which later part. It
patches a sender head's clean output into the corrupted run while every other head is frozen at
its corrupted output, so the change can reach the receivers only along paths that skip the other
heads (the MLPs recompute). The paper patches the corrupted run into the clean one and measures
the drop; the course patches the clean run into the corrupted one, as its activation patching
does, and measures the share restored. Introduced on the page "Build on a paper: the IOI circuit".
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from mi_course import _checks

if (
    TYPE_CHECKING
):  # importing TransformerLens takes seconds; Step 1's checker should not wait for it
    from transformer_lens import TransformerBridge

Head = tuple[int, int]  # (layer, head)
RECEIVER_INPUTS = ("q", "k", "v")


def _checks_path_patching(patch: Callable) -> Callable:
    """``patch(model, clean_tokens, corrupted_tokens, senders, metric, receivers, receiver_inputs)`` in inference mode,
    refusing heads the model does not have, receivers that no sender can reach, and inputs other than q, k and v.

    The checks sit here, outside the function, so that its own lines are what the page shows.
    """
    function = patch.__name__

    @functools.wraps(patch)
    def checked(
        model: TransformerBridge,
        clean_tokens: Tensor,
        corrupted_tokens: Tensor,
        senders: Sequence[Head],
        metric: Callable[[Tensor], Tensor | float],
        receivers: Sequence[Head] | None = None,
        receiver_inputs: Sequence[str] = ("q",),
    ) -> Tensor | float:
        _checks.model(model, function)
        _checks.paired_tokens(clean_tokens, corrupted_tokens, function, model)
        _checks.metric(metric, function)
        senders = _head_pairs(model, senders, function, "senders")
        if receivers is not None:
            receivers = _head_pairs(model, receivers, function, "receivers")
            first_sender = min(layer for layer, _ in senders)
            if early := [
                f"{layer}.{head}" for layer, head in receivers if layer <= first_sender
            ]:
                raise ValueError(
                    f"{function}: receivers {', '.join(early)} are not in a layer after every sender's "
                    f"(the first sender is in layer {first_sender}), so no sender can reach them"
                )
            parts = (
                tuple(receiver_inputs)
                if isinstance(receiver_inputs, (str, Sequence))
                else ()
            )
            if (
                not parts
                or len(set(parts)) < len(parts)
                or any(part not in RECEIVER_INPUTS for part in parts)
            ):
                raise ValueError(
                    f"{function} expected receiver_inputs to be some of {', '.join(RECEIVER_INPUTS)}, got {receiver_inputs!r}"
                )
        with torch.inference_mode():
            return patch(
                model,
                clean_tokens,
                corrupted_tokens,
                senders,
                metric,
                receivers,
                tuple(receiver_inputs),
            )

    return checked


def _head_pairs(
    model: TransformerBridge, given: Sequence[Head], function: str, what: str
) -> list[Head]:
    """``given`` as a list of ``(layer, head)`` pairs of ``model``, or an error naming the pair it cannot read."""
    if isinstance(given, (str, bytes)) or not isinstance(given, Sequence) or not given:
        raise TypeError(
            f"{function} expected {what} to be a non-empty list of (layer, head) pairs, got {_checks.described(given)} {given!r}"
        )
    pairs = []
    for pair in given:
        if not isinstance(pair, Sequence) or len(pair) != 2:
            raise TypeError(
                f"{function} expected each of {what} to be a (layer, head) pair, got {pair!r}"
            )
        pairs.append(
            (
                _checks.integer(
                    pair[0],
                    function,
                    f"the layer of each of {what}",
                    minimum=0,
                    maximum=model.cfg.n_layers - 1,
                ),
                _checks.integer(
                    pair[1],
                    function,
                    f"the head of each of {what}",
                    minimum=0,
                    maximum=model.cfg.n_heads - 1,
                ),
            )
        )
    return pairs


@_checks_path_patching
# --8<-- [start:path-patch]
def path_patch(
    model,
    clean_tokens,
    corrupted_tokens,
    senders: list[tuple[int, int]],
    metric,
    receivers: list[tuple[int, int]] | None = None,
    receiver_inputs: tuple[str, ...] = ("q",),
):
    """``metric`` of the corrupted run when only the paths from ``senders`` to
    ``receivers`` carry the clean run.

    Step 1 runs the corrupted tokens with the senders' outputs (``hook_z``) taken from
    the clean run and every other head frozen at its corrupted output; the MLPs
    recompute. Without ``receivers``, step 1's logits are scored: the paths from the
    senders to the logits. With ``receivers`` (heads in later layers), step 1 records
    their ``receiver_inputs`` (some of ``"q"``, ``"k"``, ``"v"``), and step 2 runs the
    corrupted tokens with only those patched in.
    """
    z_names = [f"blocks.{layer}.attn.hook_z" for layer in range(model.cfg.n_layers)]
    _, clean = model.run_with_cache(
        clean_tokens, names_filter=lambda name: name in z_names
    )
    _, corrupted = model.run_with_cache(
        corrupted_tokens, names_filter=lambda name: name in z_names
    )

    def freeze(z, hook, layer: int):
        z = corrupted[
            z_names[layer]
        ].clone()  # every head of this layer as in the corrupted run ...
        for head in [head for sender_layer, head in senders if sender_layer == layer]:
            z[:, :, head] = clean[z_names[layer]][
                :, :, head
            ]  # ... but the senders, from the clean run
        return z

    step_1 = [
        (name, functools.partial(freeze, layer=layer))
        for layer, name in enumerate(z_names)
    ]
    if receivers is None:
        return metric(model.run_with_hooks(corrupted_tokens, fwd_hooks=step_1))

    # A hook's own name may be an alias's canonical name, so each hook is told the name
    # it records under.
    input_names = sorted(
        {
            f"blocks.{layer}.attn.hook_{part}"
            for layer, _ in receivers
            for part in receiver_inputs
        }
    )
    recorded = {}

    def record(activation, hook, name: str):
        recorded[name] = activation.clone()
        return activation

    model.run_with_hooks(
        corrupted_tokens,
        fwd_hooks=step_1
        + [(name, functools.partial(record, name=name)) for name in input_names],
    )

    def receive(activation, hook, name: str):
        layer = int(name.split(".")[1])
        activation = activation.clone()
        for head in [
            head for receiver_layer, head in receivers if receiver_layer == layer
        ]:
            activation[:, :, head] = recorded[name][
                :, :, head
            ]  # only the receivers read what step 1 sent
        return activation

    step_2 = [(name, functools.partial(receive, name=name)) for name in input_names]
    return metric(model.run_with_hooks(corrupted_tokens, fwd_hooks=step_2))


# --8<-- [end:path-patch]
