"""mi_course.memory: bad input to the memory calculator, and any config either taken or refused clearly.

Its estimates are checked against what the shipped models allocate at the end of this file.
"""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from mi_course import load_model, memory, model_card
from mi_course.memory import TransformerShape, count_parameters, estimate_memory
from tests.bad_input import FAST, Bad, assert_refused, bad_input_params, shared_kit, sizes

BAD_INPUTS: dict[str, list[Bad]] = {
    "mi_course.memory:TransformerShape": [
        Bad(
            lambda k: memory.TransformerShape(n_layers=0, d_model=64, n_heads=4, d_vocab=50, n_ctx=64),
            ValueError,
            "TransformerShape: n_layers must be a positive integer, got 0",
        ),
        Bad(
            lambda k: memory.TransformerShape(n_layers=2, d_model=100, n_heads=3, d_vocab=50, n_ctx=64),
            ValueError,
            r"d_model \(100\) is not divisible by n_heads \(3\)",
        ),
        Bad(
            lambda k: memory.TransformerShape(n_layers=2, d_model=64, n_heads=4, d_vocab=50, n_ctx=64, d_mlp="256"),
            ValueError,
            "TransformerShape: d_mlp must be a positive integer or None, got '256'",
        ),
    ],
    "mi_course.memory:TransformerShape.from_config": [
        Bad(
            lambda k: memory.TransformerShape.from_config({"n_layers": 2}),
            ValueError,
            "TransformerShape.from_config expected a config with n_layers, .* got one without d_model, n_heads, d_vocab, n_ctx",
        ),
        Bad(
            lambda k: memory.TransformerShape.from_config("induction-2l"),
            TypeError,
            "TransformerShape.from_config expected config to be a dict, got str",
        ),
    ],
    "mi_course.memory:count_parameters": [
        Bad(
            lambda k: memory.count_parameters({"n_layers": 2}),
            TypeError,
            "count_parameters expected shape to be a TransformerShape, got dict",
        ),
    ],
    "mi_course.memory:estimate_memory": [
        Bad(
            lambda k: memory.estimate_memory(k.shape, batch=1, seq_len=8, dtype="float32"),
            TypeError,
            "estimate_memory expected dtype to be a dtype, got str",
        ),
        Bad(
            lambda k: memory.estimate_memory(k.shape, batch=1, seq_len=8, dtype=torch.int64),
            ValueError,
            "estimate_memory expected a floating-point dtype such as torch.float32 or torch.bfloat16, got torch.int64",
        ),
        Bad(
            lambda k: memory.estimate_memory(k.shape, batch=0, seq_len=8),
            ValueError,
            "estimate_memory expected batch >= 1",
        ),
        Bad(
            lambda k: memory.estimate_memory(k.shape, batch=1, seq_len=65),
            ValueError,
            r"estimate_memory expected batch >= 1 and 1 <= seq_len <= n_ctx \(64\), got batch 1, seq_len 65",
        ),
        Bad(
            lambda k: memory.estimate_memory(k.shape, batch=1.5, seq_len=8),
            TypeError,
            "estimate_memory expected batch to be an int, got float",
        ),
    ],
}
# What takes no input, or only free text, and so has no bad input to refuse.
NO_BAD_INPUT: dict[str, str] = {
    "mi_course.memory:MemoryEstimate": "a record that estimate_memory builds from a checked TransformerShape",
}


@pytest.mark.parametrize("case", bad_input_params(BAD_INPUTS))
def test_bad_input_raises_a_clear_error(case, tmp_path_factory):
    assert_refused(case, shared_kit(tmp_path_factory))


@FAST
@given(
    n_layers=sizes,
    d_model=sizes,
    n_heads=sizes,
    d_vocab=sizes,
    n_ctx=sizes,
    d_mlp=sizes,
    d_head=sizes,
    batch=st.integers(-2, 4),
    seq_len=st.integers(-2, 16),
)
def test_memory_calculator_takes_any_config_or_says_what_is_wrong(
    n_layers, d_model, n_heads, d_vocab, n_ctx, d_mlp, d_head, batch, seq_len
):
    try:
        shape = memory.TransformerShape(
            n_layers=n_layers,
            d_model=d_model,
            n_heads=n_heads,
            d_vocab=d_vocab,
            n_ctx=n_ctx,
            d_mlp=d_mlp,
            d_head=d_head,
        )
    except ValueError as error:
        assert str(error).startswith("TransformerShape: "), error
        return
    try:
        estimate = memory.estimate_memory(shape, batch=batch, seq_len=seq_len)
    except ValueError as error:
        assert str(error).startswith("estimate_memory expected batch >= 1 and 1 <= seq_len"), error
        assert batch < 1 or not 1 <= seq_len <= shape.n_ctx
        return
    assert estimate.parameters == memory.count_parameters(shape) > 0


@pytest.mark.parametrize("name", ["induction-2l", "shakespeare-char"])
def test_the_calculator_matches_what_the_shipped_models_allocate(name):
    model = load_model(name, device="cpu")
    shape = TransformerShape.from_config(model_card(name).config)
    assert count_parameters(shape) == sum(parameter.numel() for parameter in model.parameters())
    estimate = estimate_memory(shape, batch=4, seq_len=32)
    with torch.inference_mode():
        _, cache = model.run_with_cache(torch.zeros(4, 32, dtype=torch.long))
    measured = sum({t.untyped_storage().data_ptr(): t.untyped_storage().nbytes() for t in cache.values()}.values())
    assert abs(estimate.activations_bytes - measured) / measured < 0.10
    assert estimate_memory(shape, batch=4, seq_len=32, dtype=torch.bfloat16).weights_bytes * 2 == estimate.weights_bytes


def test_gpt2_small_has_its_published_parameter_count():
    gpt2 = TransformerShape(
        n_layers=12, d_model=768, n_heads=12, d_vocab=50257, n_ctx=1024, d_mlp=3072, tied_embeddings=True
    )
    assert count_parameters(gpt2) == 124_439_808  # Hugging Face's gpt2: sum of p.numel() over its parameters


def test_the_calculator_refuses_impossible_configs():
    with pytest.raises(ValueError, match=r"d_model \(100\) is not divisible by n_heads \(3\)"):
        TransformerShape(n_layers=2, d_model=100, n_heads=3, d_vocab=50, n_ctx=64)
    with pytest.raises(ValueError, match="n_layers must be a positive integer, got 0"):
        TransformerShape(n_layers=0, d_model=64, n_heads=4, d_vocab=50, n_ctx=64)
    shape = TransformerShape(n_layers=2, d_model=64, n_heads=4, d_vocab=50, n_ctx=64)
    with pytest.raises(ValueError, match=r"1 <= seq_len <= n_ctx \(64\)"):
        estimate_memory(shape, batch=1, seq_len=65)
    with pytest.raises(ValueError, match="expected a floating-point dtype"):
        estimate_memory(shape, batch=1, seq_len=8, dtype=torch.int8)
