"""Input checks shared by the helpers: each raises a TypeError or ValueError that names the function,
what it expected and what it got, e.g. "token_losses expected model to be a TransformerBridge, got str".
"""

from __future__ import annotations

import math
import numbers
import sys
from typing import Any

import torch
from torch import Tensor

_INTEGER_DTYPES = (
    torch.int32,
    torch.int64,
)  # what indexing and embeddings take as ids (uint8 would index as a mask)


def described(value: Any) -> str:
    """``value`` in a message: a tensor's dtype and shape, else its type's name."""
    return (
        f"{value.dtype} of shape {tuple(value.shape)}"
        if isinstance(value, Tensor)
        else type(value).__name__
    )


def instance(
    value: Any, kind: type | tuple[type, ...], function: str, what: str
) -> Any:
    """``value`` if it is a ``kind``, else a TypeError."""
    if not isinstance(value, kind):
        names = " or ".join(
            k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,))
        )
        raise TypeError(
            f"{function} expected {what} to be a {names}, got {type(value).__name__}"
        )
    return value


def integer(
    value: Any,
    function: str,
    what: str,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int:
    """``value`` if it is an int (not a bool) within ``[minimum, maximum]``, else a TypeError or ValueError."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(
            f"{function} expected {what} to be an int, got {type(value).__name__} {value!r}"
        )
    if (minimum is not None and value < minimum) or (
        maximum is not None and value > maximum
    ):
        bounds = " and ".join(
            f"{sign} {bound}"
            for sign, bound in ((">=", minimum), ("<=", maximum))
            if bound is not None
        )
        raise ValueError(f"{function} expected {what} {bounds}, got {value}")
    return int(value)


def number(
    value: Any,
    function: str,
    what: str,
    *,
    minimum: float | None = None,
    positive: bool = False,
) -> float:
    """``value`` if it is a finite real number (``> 0`` if ``positive``, ``>= minimum``), else a TypeError or ValueError."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(
            f"{function} expected {what} to be a number, got {type(value).__name__} {value!r}"
        )
    if (
        not (isinstance(value, numbers.Integral) or math.isfinite(value))
        or (positive and value <= 0)
        or (minimum is not None and value < minimum)
    ):
        wanted = (
            "a finite number"
            + (" > 0" if positive else "")
            + (f" >= {minimum}" if minimum is not None else "")
        )
        raise ValueError(f"{function} expected {what} to be {wanted}, got {value!r}")
    return value


def tensor(
    value: Any,
    function: str,
    what: str,
    *,
    dims: tuple[str, ...] | None = None,
    integer: bool = False,
) -> Tensor:
    """``value`` if it is a tensor with ``len(dims)`` dimensions (and an integer dtype if ``integer``)."""
    wanted = (
        f"{what} of shape ({', '.join(dims)})" if dims is not None else f"tensor {what}"
    )
    wanted += " with dtype int64 or int32" if integer else ""
    if (
        not isinstance(value, Tensor)
        or (dims is not None and value.ndim != len(dims))
        or (integer and value.dtype not in _INTEGER_DTYPES)
    ):
        raise (ValueError if isinstance(value, Tensor) else TypeError)(
            f"{function} expected {wanted}, got {described(value)}"
        )
    return value


def model(value: Any, function: str, what: str = "model") -> Any:
    """``value`` if it is a TransformerBridge, else a TypeError (without importing TransformerLens)."""
    bridge_module = sys.modules.get("transformer_lens.model_bridge")
    bridge = getattr(bridge_module, "TransformerBridge", None)
    if bridge is None or not isinstance(value, bridge):
        raise TypeError(
            f"{function} expected {what} to be a TransformerBridge (from mi_course.load_model), got {type(value).__name__}"
        )
    return value


def tokens(
    value: Any, function: str, bridge: Any = None, what: str = "tokens"
) -> Tensor:
    """Integer ``(batch, pos)`` tokens; with ``bridge``, ids below its ``d_vocab`` and ``pos <= n_ctx``."""
    value = tensor(value, function, what, dims=("batch", "pos"), integer=True)
    if not value.numel():
        raise ValueError(
            f"{function} expected {what} of at least one sequence of one token, got shape {tuple(value.shape)}"
        )
    if bridge is not None:
        low, high, d_vocab, n_ctx = (
            int(value.min()),
            int(value.max()),
            bridge.cfg.d_vocab,
            bridge.cfg.n_ctx,
        )
        if low < 0 or high >= d_vocab:
            raise ValueError(
                f"{function} expected {what} ids in 0..{d_vocab - 1} (the model's d_vocab is {d_vocab}), got ids {low}..{high}"
            )
        if value.shape[1] > n_ctx:
            raise ValueError(
                f"{function} expected at most n_ctx = {n_ctx} positions, got {what} of shape {tuple(value.shape)}"
            )
    return value


def paired_tokens(
    clean_tokens: Any, corrupted_tokens: Any, function: str, bridge: Any
) -> None:
    """Clean and corrupted ``(batch, pos)`` tokens of one shape, each valid for ``bridge``, as patching compares them."""
    tokens(clean_tokens, function, bridge, "clean_tokens")
    tokens(corrupted_tokens, function, bridge, "corrupted_tokens")
    if clean_tokens.shape != corrupted_tokens.shape:
        raise ValueError(
            f"{function} expected clean and corrupted tokens of one shape, got {tuple(clean_tokens.shape)} "
            f"and {tuple(corrupted_tokens.shape)}"
        )


def metric(value: Any, function: str) -> Any:
    """``value`` if it is a function of the logits (and not a module), else a TypeError."""
    if not callable(value) or isinstance(value, torch.nn.Module):
        raise TypeError(
            f"{function} expected metric to be a function of the logits, got {type(value).__name__}"
        )
    return value


def device(value: Any, function: str, what: str = "device") -> torch.device:
    """``torch.device(value)``, or an error naming the devices expected instead of torch's RuntimeError."""
    instance(value, (str, torch.device), function, what)
    try:
        return torch.device(value)
    except RuntimeError as error:  # "Expected one of cpu, cuda, ... device type at start of device string: ..."
        raise ValueError(
            f"{function} expected {what} to be a device such as 'cpu', 'cuda' or 'cuda:0', got {value!r}"
        ) from error
