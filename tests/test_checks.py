"""The guard of mi_course._checks: each spec accepts what it should and refuses the rest in one line.

``_checks`` is private, so tests/test_bad_input.py does not scan it; the functions that use the
guard have their bad-input cases beside their modules' tests. Here each spec is tried alone, on
a stand-in model (a ``cfg`` with the sizes the specs read), and the guard on small functions.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
import torch

from mi_course._checks import (
    Call,
    HeadsOf,
    HookNames,
    Integer,
    IsA,
    IsModel,
    Maybe,
    Metric,
    Number,
    OneOf,
    Probability,
    Shape,
    SomeOf,
    Tokens,
    guard,
    head_index,
    patching,
    token_id,
)
from tests.bad_input import shared_kit

MODEL = SimpleNamespace(cfg=SimpleNamespace(n_layers=2, n_heads=4, d_vocab=10, n_ctx=6))
TOKENS = torch.zeros(2, 5, dtype=torch.long)


def check(spec, value, **arguments):
    """``spec`` on ``value`` as argument ``x`` of a function ``f`` called with ``arguments``."""
    return spec(value, "x", Call("f", {"model": MODEL, **arguments, "x": value}))


ACCEPTED = [
    (Integer(), 3, 3),
    (Integer(0, 4), 0, 0),
    (Integer(minimum=lambda call: -call.arguments["n"]), -2, -2),
    (head_index(), 3, 3),
    (token_id(), 9, 9),
    (Number(), 2, 2),
    (Number(minimum=0), 0.0, 0.0),
    (Number(positive=True), 0.5, 0.5),
    (Probability(), 1.0, 1.0),
    (IsA(str), "a", "a"),
    (IsA((str, int)), 3, 3),
    (Shape("batch pos"), TOKENS, TOKENS),
    (Shape("batch pos", floating=True), TOKENS.float(), TOKENS.float()),
    (Tokens(), TOKENS, TOKENS),
    (Tokens(fits=None), TOKENS + 50, TOKENS + 50),
    (Metric(), len, len),
    (OneOf("zero", "mean"), "mean", "mean"),
    (Maybe(Integer(0)), None, None),
    (Maybe(Integer(0)), 2, 2),
    (SomeOf("q", "k", "v"), "qv", ("q", "v")),
    (SomeOf("q", "k", "v"), ["k"], ("k",)),
    (HeadsOf(), [(1, 3), [0, 0]], [(1, 3), (0, 0)]),
]


def case_id(*values: object) -> str:
    """A test id from the values' reprs, without object addresses, so that every process collects the same ids."""
    return "-".join(re.sub(r" at 0x[0-9a-f]+", "", repr(value)) for value in values)


@pytest.mark.parametrize(("spec", "value", "passed"), ACCEPTED, ids=[case_id(case[0]) for case in ACCEPTED])
def test_a_spec_passes_on_what_it_accepts(spec, value, passed):
    got = check(spec, value, n=3)
    assert got == passed if not isinstance(got, torch.Tensor) else torch.equal(got, passed)


REFUSED = [
    (Integer(), 2.0, TypeError, "f expected x to be an int, got float 2.0"),
    (Integer(), True, TypeError, "f expected x to be an int, got bool True"),
    (Integer(0, 4), 5, ValueError, "f expected x >= 0 and <= 4, got 5"),
    (head_index(), 4, ValueError, "f expected x >= 0 and <= 3, got 4"),
    (token_id(), -1, ValueError, "f expected x >= 0 and <= 9, got -1"),
    (Number(), "1", TypeError, "f expected x to be a number, got str '1'"),
    (Number(), float("nan"), ValueError, "f expected x to be a finite number, got nan"),
    (Number(minimum=0), -0.5, ValueError, "f expected x to be a finite number >= 0, got -0.5"),
    (Number(positive=True), 0, ValueError, "f expected x to be a finite number > 0, got 0"),
    (Probability(), 1.5, ValueError, r"f expected x in (0, 1] (a probability), got 1.5"),
    (Probability(), 0.0, ValueError, "f expected x to be a finite number > 0, got 0.0"),
    (IsA(str), 3, TypeError, "f expected x to be a str, got int"),
    (IsA((str, int)), 3.0, TypeError, "f expected x to be a str or int, got float"),
    (IsModel(), "gpt2", TypeError, "f expected x to be a TransformerBridge (from mi_course.load_model), got str"),
    (Shape("batch pos"), [[0]], TypeError, "f expected x of shape (batch, pos), got list"),
    (
        Shape("batch pos"),
        torch.zeros(3),
        ValueError,
        "f expected x of shape (batch, pos), got torch.float32 of shape (3,)",
    ),
    (
        Shape("batch pos", floating=True),
        TOKENS,
        ValueError,
        "f expected x of shape (batch, pos) with a floating-point dtype, got torch.int64 of shape (2, 5)",
    ),
    (
        Tokens(),
        TOKENS.float(),
        ValueError,
        "f expected x of shape (batch, pos) with dtype int64 or int32, got torch.float32 of shape (2, 5)",
    ),
    (Tokens(), TOKENS + 10, ValueError, "f expected x ids in 0..9 (the model's d_vocab is 10), got ids 10..10"),
    (Tokens(), torch.zeros(1, 7, dtype=torch.long), ValueError, "f expected at most n_ctx = 6 positions"),
    (Tokens(), torch.zeros(0, 5, dtype=torch.long), ValueError, "f expected x of at least one sequence of one token"),
    (Metric(), "IO - S", TypeError, "f expected x to be a function of the logits, got str"),
    (Metric(), torch.nn.Linear(1, 1), TypeError, "f expected x to be a function of the logits, got Linear"),
    (OneOf("zero", "mean"), "resample", ValueError, "f expected x 'zero' or 'mean', got 'resample'"),
    (Maybe(Integer(0)), -1, ValueError, "f expected x >= 0, got -1"),
    (SomeOf("q", "k", "v"), "query", ValueError, "f expected x to be some of q, k, v, got 'query'"),
    (SomeOf("q", "k", "v"), ("q", "q"), ValueError, "f expected x to be some of q, k, v, got ('q', 'q')"),
    (SomeOf("q", "k", "v"), (), ValueError, "f expected x to be some of q, k, v, got ()"),
    (HeadsOf(), [], TypeError, "f expected x to be a non-empty list of (layer, head) pairs, got list []"),
    (HeadsOf(), "0.1", TypeError, "f expected x to be a non-empty list of (layer, head) pairs, got str '0.1'"),
    (HeadsOf(), [0, 1], TypeError, "f expected each of x to be a (layer, head) pair, got 0"),
    (HeadsOf(), [(2, 0)], ValueError, "f expected the layer of each of x >= 0 and <= 1, got 2"),
    (HeadsOf(), [(0, 1.0)], TypeError, "f expected the head of each of x to be an int, got float 1.0"),
]


@pytest.mark.parametrize(
    ("spec", "value", "error", "message"), REFUSED, ids=[case_id(*case[:2])[:60] for case in REFUSED]
)
def test_a_spec_refuses_what_it_does_not_accept_in_one_line(spec, value, error, message):
    with pytest.raises(error, match=re.escape(message)) as raised:
        check(spec, value)
    assert "\n" not in str(raised.value)


def test_a_shape_like_another_argument_names_both():
    clean, other = torch.zeros(2, 5), torch.zeros(2, 4)
    like = Shape("batch pos", like="clean_logits")
    assert like(clean, "corrupted_logits", Call("f", {"clean_logits": clean})) is clean
    with pytest.raises(ValueError, match=re.escape("f expected clean and corrupted logits of one shape, got (2, 5)")):
        like(other, "corrupted_logits", Call("f", {"clean_logits": clean}))
    with pytest.raises(ValueError, match=re.escape("f expected a and b of one shape, got (2, 5) and (2, 4)")):
        Shape("batch pos", like="a")(other, "b", Call("f", {"a": clean}))
    with pytest.raises(ValueError, match=re.escape("f expected clean and corrupted tokens of one shape")):
        Tokens(like="clean_tokens")(
            TOKENS[:, :4], "corrupted_tokens", Call("f", {"model": MODEL, "clean_tokens": TOKENS})
        )


def test_the_guard_checks_each_argument_in_order_and_calls_with_what_the_specs_return():
    seen = []

    @guard(kind=OneOf("a", "b"), parts=SomeOf("q", "k"), n=Maybe(Integer(1)))
    def f(kind: str, parts: tuple[str, ...], n: int | None = None) -> tuple:
        """f's own docstring."""
        seen.append((kind, parts, n))
        return kind, parts, n

    assert f("a", "qk") == ("a", ("q", "k"), None)
    assert f("b", parts=["k"], n=2) == ("b", ("k",), 2)
    assert f.__name__ == "f" and f.__doc__ == "f's own docstring."
    with pytest.raises(ValueError, match="f expected kind 'a' or 'b', got 'c'"):
        f("c", "x")  # kind is checked first
    with pytest.raises(ValueError, match="f expected parts to be some of q, k, got 'x'"):
        f("a", "x", n=0)
    with pytest.raises(ValueError, match="f expected n >= 1, got 0"):
        f("a", "q", n=0)
    with pytest.raises(TypeError, match=r"f\(\) missing 1 required positional argument: 'parts'"):
        f("a")  # a call that does not fit the signature gets Python's own message
    assert len(seen) == 2


def test_the_guard_checks_the_result_with_returns():
    def positive(value, name, call):
        if value <= 0:
            raise ValueError(f"{call.function} returned {value} for {call.arguments['x']}")
        return value * 10

    @guard(returns=positive, x=Integer())
    def f(x: int) -> int:
        return x

    assert f(2) == 20
    with pytest.raises(ValueError, match="f returned -1 for -1"):
        f(-1)


def test_the_guard_refuses_a_spec_for_an_argument_the_function_does_not_have():
    with pytest.raises(TypeError, match="guard: f has no argument"):

        @guard(y=Integer())
        def f(x: int) -> int:
            return x


def test_is_model_and_hook_names_accept_a_shipped_model(tmp_path_factory):
    bridge = shared_kit(tmp_path_factory).bridge
    call = Call("f", {"model": bridge})
    assert IsModel()(bridge, "model", call) is bridge
    assert Tokens()(TOKENS, "tokens", call) is TOKENS
    assert HookNames()(["blocks.0.attn.hook_z"], "hook_names", call) == ["blocks.0.attn.hook_z"]
    with pytest.raises(TypeError, match="f expected hook_names to be a list of hook names, got the str 'hook_embed'"):
        HookNames()("hook_embed", "hook_names", call)
    with pytest.raises(KeyError, match="no hook named 'blocks.0.attn.hook_zz'"):
        HookNames()(["blocks.0.attn.hook_zz"], "hook_names", call)


def test_patching_gives_the_four_first_specs_of_a_patching_function_then_more():
    specs = patching(metric=len, head=Maybe(head_index()))
    assert list(specs) == ["model", "clean_tokens", "corrupted_tokens", "metric", "head"]
    assert specs["metric"] is len and specs["corrupted_tokens"] == Tokens(like="clean_tokens")
