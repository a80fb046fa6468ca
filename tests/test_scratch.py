"""mi_course.scratch: bad input to the from-scratch transformer of Step 2 and its helpers.

That the scratch transformer matches TransformerLens is tested at the end of this file; its checkers in
tests/test_checkers_components.py.
"""

import pytest
import torch

from mi_course import scratch
from mi_course.checkers import check_logits_match
from tests.bad_input import TOK, Bad, assert_refused, bad_input_params, shared_kit
from tests.models import native_bridge, tokens_for

SCRATCH_CLASSES = (
    "LayerNorm",
    "Embed",
    "PosEmbed",
    "Attention",
    "MLP",
    "TransformerBlock",
    "Unembed",
    "DemoTransformer",
)

BAD_INPUTS: dict[str, list[Bad]] = {
    "mi_course.scratch:ScratchConfig": [
        Bad(lambda k: scratch.ScratchConfig(n_heads=0), ValueError, "ScratchConfig expected n_heads >= 1, got 0"),
        Bad(
            lambda k: scratch.ScratchConfig(d_model=128.0),
            TypeError,
            "ScratchConfig expected d_model to be an int, got float",
        ),
        Bad(
            lambda k: scratch.ScratchConfig(layer_norm_eps=-1e-5),
            ValueError,
            "ScratchConfig expected layer_norm_eps to be a finite number >= 0",
        ),
    ],
    "mi_course.scratch:ScratchConfig.from_bridge": [
        Bad(
            lambda k: scratch.ScratchConfig.from_bridge(k.demo),
            TypeError,
            "ScratchConfig.from_bridge expected bridge to be a TransformerBridge .*got DemoTransformer",
        ),
    ],
    **{
        f"mi_course.scratch:{name}": [
            Bad(
                lambda k, name=name: getattr(scratch, name)({"d_model": 8}),
                TypeError,
                f"{name} expected cfg to be a ScratchConfig, got dict",
            ),
        ]
        for name in SCRATCH_CLASSES
    },
    "mi_course.scratch:gelu_new": [
        Bad(lambda k: scratch.gelu_new(1.0), TypeError, "gelu_new expected tensor x, got float"),
    ],
    "mi_course.scratch:bridge_state_dict": [
        Bad(
            lambda k: scratch.bridge_state_dict(k.demo),
            TypeError,
            "bridge_state_dict expected bridge to be a TransformerBridge",
        ),
    ],
    "mi_course.scratch:load_weights_from_bridge": [
        Bad(
            lambda k: scratch.load_weights_from_bridge("induction-2l"),
            TypeError,
            "load_weights_from_bridge expected bridge to be a TransformerBridge .*got str",
        ),
    ],
    "mi_course.scratch:sample": [
        Bad(
            lambda k: scratch.sample(k.demo, TOK.float(), 3),
            ValueError,
            r"sample expected tokens of shape \(batch, pos\) with dtype int64 or int32, got torch.float32",
        ),
        Bad(
            lambda k: scratch.sample(k.demo, TOK, 3, temperature=-1.0),
            ValueError,
            "sample expected temperature to be a finite number >= 0, got -1.0",
        ),
        Bad(lambda k: scratch.sample(k.demo, TOK, -1), ValueError, "sample expected n >= 0, got -1"),
        Bad(
            lambda k: scratch.sample(lambda tokens: tokens, TOK, 3),
            TypeError,
            r"sample expected model to be a model with cfg.n_ctx .*got function",
        ),
    ],
    "mi_course.scratch:train_demo_transformer": [
        Bad(
            lambda k: scratch.train_demo_transformer(
                lambda tokens: tokens, torch.optim.SGD(k.demo.parameters(), lr=0.1), [TOK]
            ),
            TypeError,
            "train_demo_transformer expected model to be a Module, got function",
        ),
        Bad(
            lambda k: scratch.train_demo_transformer(k.demo, 0.1, [TOK]),
            TypeError,
            "train_demo_transformer expected optimizer to be a Optimizer, got float",
        ),
        Bad(
            lambda k: scratch.train_demo_transformer(k.demo, torch.optim.SGD(k.demo.parameters(), lr=0.1), TOK),
            TypeError,
            r"train_demo_transformer expected batches to be a list \(or other iterable\) of \(batch, pos\) token tensors, got torch.int64 of shape \(2, 5\)",
        ),
        Bad(
            lambda k: scratch.train_demo_transformer(
                k.demo, torch.optim.SGD(k.demo.parameters(), lr=0.1), [TOK.float()]
            ),
            ValueError,
            r"train_demo_transformer expected each batch of tokens of shape \(batch, pos\) with dtype int64 or int32, got torch.float32",
        ),
        Bad(
            lambda k: scratch.train_demo_transformer(
                k.demo, torch.optim.SGD(k.demo.parameters(), lr=0.1), [TOK[:, :1]]
            ),
            ValueError,
            r"train_demo_transformer expected each batch of tokens to have at least 2 positions .*got shape \(2, 1\)",
        ),
    ],
}
# What takes no input, or only free text, and so has no bad input to refuse.
NO_BAD_INPUT: dict[str, str] = {}


@pytest.mark.parametrize("case", bad_input_params(BAD_INPUTS))
def test_bad_input_raises_a_clear_error(case, tmp_path_factory):
    assert_refused(case, shared_kit(tmp_path_factory))


# --- the reference matches the bridge -------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"n_layers": 2, "attn_only": True},
        {"d_model": 96, "d_head": 16, "n_heads": 6, "n_layers": 3, "d_mlp": 200, "d_vocab": 101, "n_ctx": 40},
    ],
    ids=["shakespeare-sized", "attn-only", "odd-sizes"],
)
def test_reference_matches_native_bridge(overrides):
    bridge = native_bridge(**overrides)
    model = scratch.load_weights_from_bridge(bridge)
    tokens = tokens_for(bridge)
    with torch.inference_mode():
        difference = (model(tokens) - bridge(tokens)).abs().max().item()
    assert difference <= 1e-4
    report = check_logits_match(model, bridge)
    assert report.passed and str(report).startswith("[step2] PASS  logits match the bridge: max abs difference")


def test_reference_matches_a_gpt2_bridge_offline():
    """GPT-2's architecture adapter, on a small random GPT-2 built locally (no download)."""
    import transformers  # a dependency of mi-course: missing, it must fail, not skip
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from transformer_lens import TransformerBridge

    torch.manual_seed(0)
    hf_config = transformers.GPT2Config(n_layer=2, n_embd=64, n_head=4, n_positions=32, vocab_size=100)
    hf_model = transformers.GPT2LMHeadModel(hf_config).eval()
    with torch.no_grad():
        for parameter in hf_model.parameters():
            parameter.add_(0.05 * torch.randn_like(parameter))
    vocab = Tokenizer(WordLevel({f"t{i}": i for i in range(100)}, unk_token="t0"))
    tokenizer = transformers.PreTrainedTokenizerFast(tokenizer_object=vocab)
    bridge = TransformerBridge.boot_transformers("gpt2", hf_model=hf_model, tokenizer=tokenizer)
    model = scratch.load_weights_from_bridge(bridge)
    tokens = tokens_for(bridge, pos=32)
    assert check_logits_match(model, bridge).passed
    with torch.inference_mode():
        assert (model(tokens) - hf_model(tokens).logits).abs().max().item() <= 1e-4


def test_config_refuses_what_the_scratch_model_lacks():
    with pytest.raises(ValueError, match="positional_embedding_type='rotary'"):
        scratch.ScratchConfig.from_bridge(native_bridge(positional_embedding_type="rotary"))


# --- sampling ----------------------------------------------------------------------------------


def test_sample_is_seeded_greedy_at_temperature_zero_and_respects_n_ctx():
    torch.manual_seed(0)
    model = scratch.DemoTransformer(
        scratch.ScratchConfig(
            d_model=32, n_layers=1, n_heads=2, d_head=16, d_mlp=64, d_vocab=20, n_ctx=8, init_range=0.5
        )
    ).eval()
    prompt = torch.tensor([[1, 2, 3]])
    first, again = scratch.sample(model, prompt, 10, seed=3), scratch.sample(model, prompt, 10, seed=3)
    assert first.shape == (1, 13) and torch.equal(first, again) and torch.equal(first[:, :3], prompt)
    greedy = scratch.sample(model, prompt, 1, temperature=0)
    with torch.inference_mode():
        assert greedy[0, -1] == model(prompt)[0, -1].argmax()
