"""Direct logit attribution: split a logit difference into what each head, MLP and embedding wrote.

The residual stream at the last layer is a sum of parts; the final LayerNorm divides it by one
scale, and the unembedding is linear, so the logit difference is a sum of one number per part
(plus the biases that no part owns). That holds only with the LayerNorms folded, as a bridge's
compatibility mode folds them. Introduced on the page "Step 3: MI tooling".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from jaxtyping import Float
from torch import Tensor

from mi_course._checks import Call, Integer, IsModel, Spec, guard, instance, token_id

if (
    TYPE_CHECKING
):  # importing TransformerLens takes seconds; Step 1's checker should not wait for it
    from transformer_lens import ActivationCache, TransformerBridge


def _compatible(model: object, name: str, call: Call) -> TransformerBridge:
    """A model in compatibility mode, whose parts' contributions are linear."""
    if not getattr(IsModel()(model, name, call), "compatibility_mode", False):
        raise ValueError(
            f"{call.function} expected a model in compatibility mode (call model.enable_compatibility_mode() first), "
            "so that its LayerNorms are folded and each part's contribution is linear"
        )
    return model


def _whole_run(cache: object, name: str, call: Call) -> ActivationCache:
    """The ActivationCache of a whole run, down to the final LayerNorm."""
    from transformer_lens import ActivationCache

    if (
        "ln_final.hook_scale"
        not in instance(cache, ActivationCache, call.function, name).keys()
    ):
        raise ValueError(
            f"{call.function} expected the cache of a whole run, from model.run_with_cache(tokens); it has no ln_final.hook_scale"
        )
    return cache


def _position(pos: object, name: str, call: Call) -> int:
    """A position of the cached run, counted from the start or (negative) the end."""
    positions = call.arguments["cache"]["ln_final.hook_scale"].shape[1]
    return Integer(-positions, positions - 1)(pos, name, call)


_LOGIT_ATTRIBUTION: dict[str, Spec] = dict(
    model=_compatible,
    cache=_whole_run,
    answer=token_id(),
    rival=token_id(),
    pos=_position,
)


@guard(**_LOGIT_ATTRIBUTION)
@torch.inference_mode()
# --8<-- [start:logit-attribution]
def logit_attribution(
    model: TransformerBridge,
    cache: ActivationCache,
    answer: int,
    rival: int,
    pos: int = -1,
) -> tuple[Float[Tensor, "part batch"], list[str]]:
    """What each part of the residual stream adds to ``logit(answer) - logit(rival)`` at
    position ``pos``.

    The parts are every head (``L0H0``, ``L0H1``, ...), then the embeddings and each
    MLP, then ``biases``: what no part owns. They sum to the logit difference, sequence
    by sequence.
    """
    heads, head_labels = cache.stack_head_results(
        layer=-1, pos_slice=pos, return_labels=True
    )  # (head, batch, d_model)
    others, other_labels = cache.decompose_resid(
        mode="mlp", pos_slice=pos, return_labels=True
    )  # embed, pos_embed, MLPs
    biases = model.b_O.sum(dim=0).expand(
        1, heads.shape[1], -1
    )  # the attention output biases, which no head owns
    stack = torch.cat(
        [heads, others, biases]
    )  # (part, batch, d_model): together, the final residual stream
    # The final LayerNorm divides the whole residual stream by one scale per sequence:
    # divide each part by it too.
    scaled = cache.apply_ln_to_stack(stack, layer=-1, pos_slice=pos)
    direction = (
        model.W_U[:, answer] - model.W_U[:, rival]
    )  # reading it gives logit(answer) - logit(rival)
    contributions = scaled @ direction
    contributions[-1] += (
        model.b_U[answer] - model.b_U[rival]
    )  # the unembedding's bias joins the biases
    return contributions, head_labels + other_labels + ["biases"]


# --8<-- [end:logit-attribution]
