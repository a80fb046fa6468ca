"""How much memory a transformer needs: weights, cached activations, and training state.

A back-of-the-envelope calculator for the question "will this fit on my GPU?", checked against
what the course's shipped models really use. Introduced on the page "Appendix: compute".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from mi_course import _checks

GIB = 1024**3


@dataclass(frozen=True)
class TransformerShape:
    """The sizes that decide memory.

    ``d_mlp=None`` means attention-only; ``d_head`` defaults to ``d_model // n_heads``;
    ``tied_embeddings`` shares one matrix between embedding and unembedding, as GPT-2 does.
    """

    n_layers: int
    d_model: int
    n_heads: int
    d_vocab: int
    n_ctx: int
    d_mlp: int | None = None
    d_head: int | None = None
    layer_norm: bool = True
    tied_embeddings: bool = False

    def __post_init__(self) -> None:
        for name in ("n_layers", "d_model", "n_heads", "d_vocab", "n_ctx"):
            if (
                not isinstance(getattr(self, name), int)
                or isinstance(getattr(self, name), bool)
                or getattr(self, name) < 1
            ):
                raise ValueError(
                    f"TransformerShape: {name} must be a positive integer, got {getattr(self, name)!r}"
                )
        if self.d_head is None and self.d_model % self.n_heads:
            raise ValueError(
                f"TransformerShape: d_model ({self.d_model}) is not divisible by n_heads ({self.n_heads}): each head gets d_model / n_heads "
                "dimensions, so pick sizes that divide, or give d_head explicitly"
            )
        for name in ("d_mlp", "d_head"):
            value = getattr(self, name)
            if value is not None and (
                not isinstance(value, int) or isinstance(value, bool) or value < 1
            ):
                raise ValueError(
                    f"TransformerShape: {name} must be a positive integer or None, got {value!r}"
                )

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> TransformerShape:
        """From a model card's config (or any dict with TransformerLens' names)."""
        _checks.instance(config, dict, "TransformerShape.from_config", "config")
        missing = [
            key
            for key in ("n_layers", "d_model", "n_heads", "d_vocab", "n_ctx")
            if key not in config
        ]
        if missing:
            raise ValueError(
                f"TransformerShape.from_config expected a config with n_layers, d_model, n_heads, d_vocab and n_ctx, got one without {', '.join(missing)}"
            )
        return cls(
            n_layers=config["n_layers"],
            d_model=config["d_model"],
            n_heads=config["n_heads"],
            d_vocab=config["d_vocab"],
            n_ctx=config["n_ctx"],
            d_mlp=None if config.get("attn_only") else config.get("d_mlp"),
            d_head=config.get("d_head"),
            layer_norm=config.get("normalization_type") is not None,
        )

    @property
    def head_size(self) -> int:
        return self.d_head if self.d_head is not None else self.d_model // self.n_heads


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes for the weights, for one batch's cached activations, and for gradients plus AdamW's two moments."""

    parameters: int
    weights_bytes: int
    activations_bytes: int
    training_state_bytes: int

    @property
    def inference_bytes(self) -> int:
        return self.weights_bytes + self.activations_bytes

    @property
    def training_bytes(self) -> int:
        return self.weights_bytes + self.activations_bytes + self.training_state_bytes

    def __str__(self) -> str:
        return (
            f"{self.parameters:,} parameters: weights {_size(self.weights_bytes)}, activations {_size(self.activations_bytes)}, "
            f"gradients + AdamW {_size(self.training_state_bytes)}; inference {_size(self.inference_bytes)}, "
            f"training {_size(self.training_bytes)}"
        )


def count_parameters(shape: TransformerShape) -> int:
    """Parameters of a GPT-2-style model: learned positions, biased attention and MLP, no unembedding bias."""
    _checks.instance(shape, TransformerShape, "count_parameters", "shape")
    d, heads, d_head = shape.d_model, shape.n_heads, shape.head_size
    attention = 4 * d * heads * d_head + 3 * heads * d_head + d
    mlp = 0 if shape.d_mlp is None else 2 * d * shape.d_mlp + shape.d_mlp + d
    norms = (2 if shape.d_mlp is not None else 1) * 2 * d if shape.layer_norm else 0
    embeddings = shape.d_vocab * d + shape.n_ctx * d
    unembedding = 0 if shape.tied_embeddings else d * shape.d_vocab
    return (
        embeddings
        + shape.n_layers * (attention + mlp + norms)
        + (2 * d if shape.layer_norm else 0)
        + unembedding
    )


def _activation_elements(shape: TransformerShape, batch: int, seq_len: int) -> int:
    """Elements ``run_with_cache`` keeps for one batch: the distinct activations of every layer, and the logits.

    Per layer: the residual stream before, between and after its halves; each LayerNorm's output
    and scale; queries, keys, values and z; attention scores and pattern; the attention output; and
    for an MLP its input and output widths. ``estimate_memory`` checks the arguments.
    """
    tokens, d, heads = batch * seq_len, shape.d_model, shape.n_heads
    norm = (
        tokens * (d + 1) if shape.layer_norm else 0
    )  # normalized output and one scale per token
    attention = (
        4 * tokens * heads * shape.head_size
        + 2 * batch * heads * seq_len**2
        + tokens * d
    )
    mlp = 0 if shape.d_mlp is None else norm + 2 * tokens * shape.d_mlp + tokens * d
    residuals = (3 if shape.d_mlp is not None else 2) * tokens * d
    per_layer = residuals + norm + attention + mlp
    return 2 * tokens * d + shape.n_layers * per_layer + norm + tokens * shape.d_vocab


def estimate_memory(
    shape: TransformerShape,
    *,
    batch: int,
    seq_len: int,
    dtype: torch.dtype = torch.float32,
) -> MemoryEstimate:
    """Estimate memory for ``shape`` at ``dtype``: weights, one batch's cached activations, gradients and AdamW state."""
    _checks.instance(shape, TransformerShape, "estimate_memory", "shape")
    _checks.instance(dtype, torch.dtype, "estimate_memory", "dtype")
    if not dtype.is_floating_point:
        raise ValueError(
            f"estimate_memory expected a floating-point dtype such as torch.float32 or torch.bfloat16, got {dtype}"
        )
    _checks.integer(batch, "estimate_memory", "batch")
    _checks.integer(seq_len, "estimate_memory", "seq_len")
    if batch < 1 or not 1 <= seq_len <= shape.n_ctx:
        raise ValueError(
            f"estimate_memory expected batch >= 1 and 1 <= seq_len <= n_ctx ({shape.n_ctx}), got batch {batch}, seq_len {seq_len}"
        )
    element = torch.empty((), dtype=dtype).element_size()
    parameters = count_parameters(shape)
    return MemoryEstimate(
        parameters=parameters,
        weights_bytes=parameters * element,
        activations_bytes=_activation_elements(shape, batch, seq_len) * element,
        training_state_bytes=3
        * parameters
        * element,  # a gradient and AdamW's two moments per parameter
    )


def _size(n_bytes: int) -> str:
    for unit, scale in (("GiB", GIB), ("MiB", 1024**2), ("KiB", 1024)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.1f} {unit}"
    return f"{n_bytes} B"
