"""Input checks shared by the helpers: each raises a TypeError or ValueError that names the function,
what it expected and what it got, e.g. "token_losses expected model to be a TransformerBridge, got str".

The checks come as functions (``integer(value, function, what)``, ...) and, for a function's
arguments, as specs that ``guard`` applies before each call (``@guard(model=IsModel(), ...)``).
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
from torch import Tensor

F = TypeVar("F", bound=Callable[..., Any])

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


def device(value: Any, function: str, what: str = "device") -> torch.device:
    """``torch.device(value)``, or an error naming the devices expected instead of torch's RuntimeError."""
    instance(value, (str, torch.device), function, what)
    try:
        return torch.device(value)
    except RuntimeError as error:  # "Expected one of cpu, cuda, ... device type at start of device string: ..."
        raise ValueError(
            f"{function} expected {what} to be a device such as 'cpu', 'cuda' or 'cuda:0', got {value!r}"
        ) from error


# The guard: a function's argument checks declared beside it, e.g.
#
#     @guard(model=IsModel(), tokens=Tokens(fits="model"), kind=OneOf("zero", "mean"))
#     def ablation_sweep(model, tokens, metric, kind): ...
#
# Each spec is a callable ``spec(value, name, call)`` that returns the value to call the function
# with (usually ``value`` itself) or raises the one-line TypeError or ValueError; ``call`` holds the
# function's name and its arguments, those checked so far as checked, so a spec can compare an
# argument with an earlier one. The specs run in the order given; a module may add its own.


@dataclass(frozen=True)
class Call:
    """The call a spec checks: the function's name and its arguments by name."""

    function: str
    arguments: dict[str, Any]


Spec = Callable[[Any, str, Call], Any]  # (value, name, call) -> the value to call with


def guard(*, returns: Spec | None = None, **specs: Spec) -> Callable[[F], F]:
    """Check a function's arguments with ``specs`` before each call, in their order (and its result with ``returns``)."""

    def decorate(function: F) -> F:
        signature = inspect.signature(function)
        if unknown := set(specs) - set(signature.parameters):
            raise TypeError(f"guard: {function.__name__} has no argument {unknown}")

        @functools.wraps(function)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError:  # Python's own message names the function
                return function(*args, **kwargs)  # e.g. "f() missing 1 required ..."
            bound.apply_defaults()
            call = Call(function.__name__, bound.arguments)
            for name, spec in specs.items():
                bound.arguments[name] = spec(bound.arguments[name], name, call)
            result = function(*bound.args, **bound.kwargs)
            return result if returns is None else returns(result, "result", call)

        return guarded  # type: ignore[return-value]  # wraps keeps the signature

    return decorate


Bound = int | Callable[[Call], int] | None  # a bound, or how to read it off the call


@dataclass(frozen=True)
class Integer:
    """An int (not a bool) within ``[minimum, maximum]``."""

    minimum: Bound = None
    maximum: Bound = None

    def __call__(self, value: Any, name: str, call: Call) -> int:
        low, high = (
            b(call) if callable(b) else b for b in (self.minimum, self.maximum)
        )
        return integer(value, call.function, name, minimum=low, maximum=high)


def head_index(model: str = "model") -> Integer:
    """A head index of the model in argument ``model``."""
    return Integer(0, lambda call: call.arguments[model].cfg.n_heads - 1)


def token_id(model: str = "model") -> Integer:
    """A token id of the model in argument ``model``."""
    return Integer(0, lambda call: call.arguments[model].cfg.d_vocab - 1)


@dataclass(frozen=True)
class Number:
    """A finite real number (``> 0`` if ``positive``, ``>= minimum``)."""

    minimum: float | None = None
    positive: bool = False

    def __call__(self, value: Any, name: str, call: Call) -> float:
        return number(
            value, call.function, name, minimum=self.minimum, positive=self.positive
        )


@dataclass(frozen=True)
class Probability:
    """A number in (0, 1]."""

    def __call__(self, value: Any, name: str, call: Call) -> float:
        if number(value, call.function, name, positive=True) > 1:
            raise ValueError(
                f"{call.function} expected {name} in (0, 1] (a probability), got {value!r}"
            )
        return value


@dataclass(frozen=True)
class IsA:
    """An instance of ``kind``."""

    kind: type | tuple[type, ...]

    def __call__(self, value: Any, name: str, call: Call) -> Any:
        return instance(value, self.kind, call.function, name)


@dataclass(frozen=True)
class IsModel:
    """A TransformerBridge, as mi_course.load_model gives."""

    def __call__(self, value: Any, name: str, call: Call) -> Any:
        return model(value, call.function, name)


@dataclass(frozen=True)
class Shape:
    """A tensor of the named dims, e.g. ``Shape("batch pos d_vocab")``, of a float dtype if ``floating``."""

    dims: str
    floating: bool = False
    like: str | None = None  # an argument whose shape this one must have

    def __call__(self, value: Any, name: str, call: Call) -> Tensor:
        dims = tuple(self.dims.split())
        tensor(value, call.function, name, dims=dims)
        if self.floating and not value.is_floating_point():
            raise ValueError(
                f"{call.function} expected {name} of shape ({', '.join(dims)}) with a floating-point dtype, "
                f"got {described(value)}"
            )
        return _alike(value, name, call, self.like)


def _alike(value: Tensor, name: str, call: Call, like: str | None) -> Tensor:
    """``value`` if it has the shape of argument ``like``; the error says "clean and corrupted tokens" for
    clean_tokens and corrupted_tokens."""
    if like is not None and value.shape != (other := call.arguments[like]).shape:
        (first, *noun), (second, *other_noun) = like.split("_", 1), name.split("_", 1)
        both = (
            f"{first} and {second} {noun[0]}"
            if noun and noun == other_noun
            else f"{like} and {name}"
        )
        raise ValueError(
            f"{call.function} expected {both} of one shape, got {tuple(other.shape)} and {tuple(value.shape)}"
        )
    return value


@dataclass(frozen=True)
class Tokens:
    """``(batch, pos)`` token ids, valid for the model in argument ``fits`` and of the shape of argument ``like``."""

    fits: str | None = "model"
    like: str | None = None

    def __call__(self, value: Any, name: str, call: Call) -> Tensor:
        bridge = call.arguments[self.fits] if self.fits else None
        tokens(value, call.function, bridge, name)
        return _alike(value, name, call, self.like)


@dataclass(frozen=True)
class Metric:
    """A function of the logits (not a module)."""

    def __call__(self, value: Any, name: str, call: Call) -> Any:
        if not callable(value) or isinstance(value, torch.nn.Module):
            raise TypeError(
                f"{call.function} expected {name} to be a function of the logits, got {type(value).__name__}"
            )
        return value


@dataclass(frozen=True)
class OneOf:
    """One of ``choices``."""

    choices: tuple[Any, ...]

    def __init__(self, *choices: Any) -> None:
        object.__setattr__(self, "choices", choices)

    def __call__(self, value: Any, name: str, call: Call) -> Any:
        if value not in self.choices:
            wanted = " or ".join(map(repr, self.choices))
            raise ValueError(f"{call.function} expected {name} {wanted}, got {value!r}")
        return value


@dataclass(frozen=True)
class Maybe:
    """None, or what ``spec`` accepts."""

    spec: Spec

    def __call__(self, value: Any, name: str, call: Call) -> Any:
        return None if value is None else self.spec(value, name, call)


@dataclass(frozen=True)
class SomeOf:
    """Some of ``choices``, each once, as a tuple: e.g. ``("q", "v")`` of ``SomeOf("q", "k", "v")``."""

    choices: tuple[Any, ...]

    def __init__(self, *choices: Any) -> None:
        object.__setattr__(self, "choices", choices)

    def __call__(self, value: Any, name: str, call: Call) -> tuple:
        some = tuple(value) if isinstance(value, (str, Sequence)) else ()
        if not some or len(set(some)) < len(some) or not set(some) <= set(self.choices):
            raise ValueError(
                f"{call.function} expected {name} to be some of {', '.join(map(str, self.choices))}, got {value!r}"
            )
        return some


@dataclass(frozen=True)
class HeadsOf:
    """A non-empty list of ``(layer, head)`` pairs of the model in argument ``model``, as a list of int pairs."""

    model: str = "model"

    def __call__(self, value: Any, name: str, call: Call) -> list[tuple[int, int]]:
        if (
            isinstance(value, (str, bytes))
            or not isinstance(value, Sequence)
            or not value
        ):
            raise TypeError(
                f"{call.function} expected {name} to be a non-empty list of (layer, head) pairs, "
                f"got {described(value)} {value!r}"
            )
        cfg = call.arguments[self.model].cfg
        pairs = []
        for pair in value:
            if not isinstance(pair, Sequence) or len(pair) != 2:
                raise TypeError(
                    f"{call.function} expected each of {name} to be a (layer, head) pair, got {pair!r}"
                )
            layer = integer(
                pair[0],
                call.function,
                f"the layer of each of {name}",
                minimum=0,
                maximum=cfg.n_layers - 1,
            )
            head = integer(
                pair[1],
                call.function,
                f"the head of each of {name}",
                minimum=0,
                maximum=cfg.n_heads - 1,
            )
            pairs.append((layer, head))
        return pairs


@dataclass(frozen=True)
class HookNames:
    """A list of hook names of the model in argument ``model``; a typo gets "did you mean ...?"."""

    model: str = "model"

    def __call__(self, value: Any, name: str, call: Call) -> Any:
        from mi_course.hooks import check_hook_names  # hooks imports this module

        if isinstance(value, str):
            raise TypeError(
                f"{call.function} expected {name} to be a list of hook names, got the str {value!r}"
            )
        check_hook_names(call.arguments[self.model], value)
        return value


def patching(**more: Spec) -> dict[str, Spec]:
    """The specs of a patching function's model, clean_tokens, corrupted_tokens and metric, then ``more``
    (one of the four named again replaces its spec in place)."""
    return {
        "model": IsModel(),
        "clean_tokens": Tokens(),
        "corrupted_tokens": Tokens(like="clean_tokens"),
        "metric": Metric(),
    } | more
