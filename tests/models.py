"""What several test modules build: random TL-native bridges, their tokens, repeated random tokens
for a shipped model, and the source of a taught function as its page shows it.

The fixtures that load shipped models once per module are in ``tests/conftest.py``.
"""

import inspect
import re

import torch

from mi_course.induction import repeated_random_tokens
from site_tools.pages import SECTION_MARKER

DEFINITION = re.compile(r"(?:async def|def|class) ")

NATIVE = dict(
    d_model=128,
    d_head=32,
    n_heads=4,
    n_layers=4,
    n_ctx=128,
    d_vocab=66,
    d_mlp=512,
    act_fn="gelu_new",
    normalization_type="LN",
    positional_embedding_type="standard",
    seed=0,
)


def native_bridge(**overrides):
    """A random TL-native bridge whose every weight, biases and LayerNorms included, is non-trivial."""
    import transformer_lens.model_bridge.sources.native  # noqa: F401  registers boot_native
    from transformer_lens import TransformerBridge
    from transformer_lens.config import TransformerBridgeConfig

    bridge = TransformerBridge.boot_native(TransformerBridgeConfig(**{**NATIVE, **overrides}))
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for parameter in bridge.original_model.parameters():
            parameter.add_(0.2 * torch.randn(parameter.shape, generator=generator))
    return bridge


def tokens_for(bridge, batch=3, pos=None):
    generator = torch.Generator().manual_seed(2)
    return torch.randint(0, bridge.cfg.d_vocab, (batch, pos or bridge.cfg.n_ctx), generator=generator)


def repeated(model, seq_len=13, batch=64, seed=1):
    """Repeated random tokens for ``model``: BOS, ``seq_len`` random tokens, and the same again."""
    bos = model.cfg.d_vocab - 1
    return repeated_random_tokens(batch, seq_len, bos, bos, generator=torch.Generator().manual_seed(seed))


def as_shown(taught: object) -> str:
    """The source of a class or function of mi_course as a page shows it: from its ``def`` or ``class``
    line (its decorators, the input guard among them, sit above the section), section markers dropped."""
    lines = inspect.getsource(taught).split("\n")
    start = next(index for index, line in enumerate(lines) if DEFINITION.match(line))
    return "\n".join(line for line in lines[start:] if not SECTION_MARKER.match(line))
