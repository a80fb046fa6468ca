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
from collections.abc import Callable
from typing import TYPE_CHECKING

import torch
from jaxtyping import Float, Int
from torch import Tensor

from mi_course._checks import Call, HeadsOf, Maybe, SomeOf, guard, patching

if (
    TYPE_CHECKING
):  # importing TransformerLens takes seconds; Step 1's checker should not wait for it
    from transformer_lens import TransformerBridge

RECEIVER_INPUTS = ("q", "k", "v")


def _after_senders(receivers: object, name: str, call: Call) -> list[tuple[int, int]]:
    """Heads of the model in a layer after every sender's, so that a sender can reach them."""
    receivers = HeadsOf()(receivers, name, call)
    first_sender = min(layer for layer, _ in call.arguments["senders"])
    if early := [
        f"{layer}.{head}" for layer, head in receivers if layer <= first_sender
    ]:
        raise ValueError(
            f"{call.function}: receivers {', '.join(early)} are not in a layer after every sender's "
            f"(the first sender is in layer {first_sender}), so no sender can reach them"
        )
    return receivers


_PATH_PATCHING = patching(
    senders=HeadsOf(),
    receivers=Maybe(_after_senders),
    receiver_inputs=SomeOf(*RECEIVER_INPUTS),
)


@guard(**_PATH_PATCHING)
@torch.inference_mode()
# --8<-- [start:path-patch]
def path_patch(
    model: TransformerBridge,
    clean_tokens: Int[Tensor, "batch pos"],
    corrupted_tokens: Int[Tensor, "batch pos"],
    senders: list[tuple[int, int]],
    metric: Callable[[Float[Tensor, "batch pos d_vocab"]], Tensor | float],
    receivers: list[tuple[int, int]] | None = None,
    receiver_inputs: tuple[str, ...] = ("q",),
) -> Tensor | float:
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
