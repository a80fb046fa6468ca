"""mi_course.scratch: bad input to the from-scratch transformer of Step 2 and its helpers.

What the scratch transformer computes is tested with Step 2 (tests/test_step2.py).
"""

import pytest
import torch

from mi_course import scratch
from tests.bad_input import TOK, Bad, assert_refused, bad_input_params, shared_kit

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
