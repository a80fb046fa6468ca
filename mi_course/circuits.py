"""Circuits read off the weights: a head's full OV circuit, its copying score, and K-composition between heads.

Following Elhage et al., "A Mathematical Framework for Transformer Circuits" (2021), in TransformerLens'
row-vector conventions: a residual vector ``x`` is a row, a head reads it as ``x @ W_V`` and writes
``x @ W_V @ W_O``, and scores a query against a key as ``q @ W_Q @ W_K.T @ k.T``. So one head's
``W_OV = W_V @ W_O`` and ``W_QK = W_Q @ W_K.T`` are ``(d_model, d_model)``. Each score comes with the
same score of random weights, the baseline a measured score has to beat. Introduced on the page
"Step 4: Key concepts".
"""

from __future__ import annotations

import torch
from jaxtyping import Float
from torch import Tensor

from mi_course import _checks
from mi_course._checks import Call, Shape, described, guard
from mi_course.baselines import Distribution

# The shapes of one head's weights, as TransformerLens stores them (model.W_V[layer, head] and so on).
_HEAD_SHAPES = {
    "W_E": ("d_vocab", "d_model"),
    "W_V": ("d_model", "d_head"),
    "W_O": ("d_head", "d_model"),
    "W_U": ("d_model", "d_vocab"),
}
# One head's matrix, for an argument given a stack of heads (model.W_V is (n_layers, n_heads, d_model, d_head)).
_ONE_HEAD = {
    "W_V": "model.W_V[layer, head]",
    "W_O": "model.W_O[layer, head]",
    "W_OV_earlier": "model.W_V[layer, head] @ model.W_O[layer, head]",
    "W_QK_later": "model.W_Q[layer, head] @ model.W_K[layer, head].T",
}


def _matrix(value: object, function: str, what: str, dims: tuple[str, str]) -> Tensor:
    """``value`` if it is a floating-point matrix, else an error naming the dims expected (and, for a stack of heads, one head's)."""
    if isinstance(value, Tensor) and value.ndim > 2 and what in _ONE_HEAD:
        raise ValueError(
            f"{function} expected {what} of shape ({', '.join(dims)}), one head's, got {described(value)}; "
            f"pass one head's, e.g. {_ONE_HEAD[what]}"
        )
    return Shape(" ".join(dims), floating=True)(value, what, Call(function, {}))


def _head_weight(value: object, name: str, call: Call) -> Tensor:
    """One head's weight matrix ``name`` of ``full_ov_circuit``, its sizes agreeing with the weights before it."""
    _matrix(value, call.function, name, _HEAD_SHAPES[name])
    weights = {what: call.arguments[what] for what in _HEAD_SHAPES}
    sizes: dict[str, int] = {}
    for what in list(_HEAD_SHAPES)[: list(_HEAD_SHAPES).index(name) + 1]:
        for dim, size in zip(_HEAD_SHAPES[what], weights[what].shape, strict=True):
            if sizes.setdefault(dim, size) != size:
                shapes = ", ".join(f"{w} {tuple(m.shape)}" for w, m in weights.items())
                raise ValueError(
                    f"{call.function} expected W_E (d_vocab, d_model), W_V (d_model, d_head), W_O (d_head, d_model) and "
                    f"W_U (d_model, d_vocab), one head's, whose sizes agree; got {shapes}: {dim} is {sizes[dim]} and {size}"
                )
    return value


def _full_ov(full_ov: object, name: str, call: Call) -> Tensor:
    """A square, non-empty floating-point matrix, as ``full_ov_circuit`` gives."""
    _matrix(full_ov, call.function, name, ("d_vocab", "d_vocab"))
    if full_ov.shape[0] != full_ov.shape[1] or not full_ov.numel():
        raise ValueError(
            f"{call.function} expected full_ov of shape (d_vocab, d_vocab), square, as full_ov_circuit gives, "
            f"got {described(full_ov)}"
        )
    return full_ov


def _square(value: object, name: str, call: Call) -> Tensor:
    """A square floating-point ``(d_model, d_model)`` matrix."""
    _matrix(value, call.function, name, ("d_model", "d_model"))
    if value.shape[0] != value.shape[1]:
        raise ValueError(
            f"{call.function} expected {name} of shape (d_model, d_model), square (W_V @ W_O, or W_Q @ W_K.T), "
            f"got {described(value)}"
        )
    return value


def _composable(W_QK_later: object, name: str, call: Call) -> Tensor:
    """A square matrix of ``W_OV_earlier``'s shape, both of a finite non-zero norm (the score divides by them)."""
    W_OV_earlier = call.arguments["W_OV_earlier"]
    if _square(W_QK_later, name, call).shape != W_OV_earlier.shape:
        raise ValueError(
            f"{call.function} expected W_OV_earlier and W_QK_later of one shape (d_model, d_model), "
            f"got {tuple(W_OV_earlier.shape)} and {tuple(W_QK_later.shape)}"
        )
    for what, value in (("W_OV_earlier", W_OV_earlier), ("W_QK_later", W_QK_later)):
        if not torch.isfinite(norm := value.norm()) or norm == 0:
            raise ValueError(
                f"{call.function} expected {what} with a finite, non-zero norm (the score divides by it), got norm {norm.item()}"
            )
    return W_QK_later


@guard(W_E=_head_weight, W_V=_head_weight, W_O=_head_weight, W_U=_head_weight)
# --8<-- [start:full-ov-circuit]
def full_ov_circuit(
    W_E: Float[Tensor, "d_vocab d_model"],
    W_V: Float[Tensor, "d_model d_head"],
    W_O: Float[Tensor, "d_head d_model"],
    W_U: Float[Tensor, "d_model d_vocab"],
) -> Float[Tensor, "d_vocab d_vocab"]:
    """One head's full OV circuit: row ``s`` is the logits the head adds when it attends
    to token ``s``.
    """
    # A row vector goes left to right: embed the attended token, read it (W_V), write it
    # (W_O), unembed it.
    return W_E @ W_V @ W_O @ W_U


# --8<-- [end:full-ov-circuit]


@guard(full_ov=_full_ov)
# --8<-- [start:copying-score]
def copying_score(full_ov: Float[Tensor, "d_vocab d_vocab"]) -> float:
    """Top-1 accuracy of the diagonal: the fraction of tokens whose own logit is the
    largest of their row.
    """
    raised_most = full_ov.argmax(
        dim=-1
    )  # for each attended token (row), the logit (column) it raises most
    tokens = torch.arange(full_ov.shape[0], device=full_ov.device)
    return (
        (raised_most == tokens).float().mean().item()
    )  # 1: the head copies every token; chance: 1 / d_vocab


# --8<-- [end:copying-score]


@guard(W_OV_earlier=_square, W_QK_later=_composable)
# --8<-- [start:k-composition]
def k_composition_score(
    W_OV_earlier: Float[Tensor, "d_model d_model"],
    W_QK_later: Float[Tensor, "d_model d_model"],
) -> float:
    """How much a later head forms its keys from what an earlier head writes, from 0
    (not at all) to 1.

    The score TransformerLens' ``all_composition_scores("K")`` gives each pair of heads.
    """
    # The earlier head writes x @ W_OV into the residual; as the later head's key it is
    # scored as q @ W_QK @ (x @ W_OV).T, through W_QK @ W_OV.T, whose Frobenius norm is
    # that of its transpose, W_OV @ W_QK.T
    composed = W_OV_earlier @ W_QK_later.T
    return (
        composed.norm() / (W_OV_earlier.norm() * W_QK_later.norm())
    ).item()  # .norm() of a matrix: Frobenius


# --8<-- [end:k-composition]


def _baseline_args(
    function: str, samples: int, generator: torch.Generator | None, **dims: int
) -> None:
    for what, size in dims.items():
        _checks.integer(size, function, what, minimum=1)
    _checks.integer(samples, function, "samples", minimum=2)
    if generator is not None:
        _checks.instance(generator, torch.Generator, function, "generator")


def _mean_and_95th(scores: list[float]) -> tuple[float, float]:
    spread = Distribution(tuple(scores))
    return spread.mean, spread.p95


@torch.inference_mode()
def random_head_copying_score(
    W_E: Float[Tensor, "d_vocab d_model"],
    W_U: Float[Tensor, "d_model d_vocab"],
    d_head: int,
    samples: int = 100,
    *,
    generator: torch.Generator | None = None,
) -> tuple[float, float]:
    """Mean and 95th percentile of ``copying_score`` for heads with random ``W_V``, ``W_O`` between the model's ``W_E`` and ``W_U``.

    Only the head is random (independent Gaussian entries; their scale does not change an argmax),
    so the baseline keeps whatever the model's own embeddings do. Chance is ``1 / d_vocab``.
    """
    _matrix(W_E, "random_head_copying_score", "W_E", _HEAD_SHAPES["W_E"])
    _matrix(W_U, "random_head_copying_score", "W_U", _HEAD_SHAPES["W_U"])
    if W_E.shape[::-1] != W_U.shape:
        raise ValueError(
            f"random_head_copying_score expected W_E (d_vocab, d_model) and W_U (d_model, d_vocab) of one model, "
            f"got {tuple(W_E.shape)} and {tuple(W_U.shape)}"
        )
    _baseline_args("random_head_copying_score", samples, generator, d_head=d_head)
    d_model = W_E.shape[1]
    scores = []
    for _ in range(samples):
        W_V, W_O = (
            torch.randn(shape, generator=generator).to(W_E)
            for shape in ((d_model, d_head), (d_head, d_model))
        )
        scores.append(copying_score(full_ov_circuit(W_E, W_V, W_O, W_U)))
    return _mean_and_95th(scores)


@torch.inference_mode()
def random_composition_baseline(
    d_model: int,
    d_head: int,
    samples: int = 1000,
    *,
    generator: torch.Generator | None = None,
) -> tuple[float, float]:
    """Mean and 95th percentile of ``k_composition_score`` between independent random rank-``d_head`` matrices.

    Each of ``W_OV`` and ``W_QK`` is a ``(d_model, d_head)`` by ``(d_head, d_model)`` product of Gaussians,
    the shape of one head's. The score of two heads means something only where it stands above this.
    """
    _baseline_args(
        "random_composition_baseline",
        samples,
        generator,
        d_model=d_model,
        d_head=d_head,
    )
    if d_head > d_model:
        raise ValueError(
            f"random_composition_baseline expected d_head <= d_model, got d_head={d_head} and d_model={d_model}"
        )

    def low_rank() -> Tensor:
        return torch.randn(d_model, d_head, generator=generator) @ torch.randn(
            d_head, d_model, generator=generator
        )

    return _mean_and_95th(
        [k_composition_score(low_rank(), low_rank()) for _ in range(samples)]
    )
