"""What the bad-input cases share (GitHub issue 7): the case type, what the cases call with, the runner.

Each module of mi_course has its bad-input cases beside its other tests: ``tests/test_X.py``
holds ``BAD_INPUTS`` for the functions and classes of ``mi_course.X`` (and of ``mi_course.X.*``),
per ``"module:name"`` a list of calls with bad input, the exception each must raise and a regex
its message must match: a message that names the function, what it expected and what it got.
Beside it, ``NO_BAD_INPUT`` lists the module's public names that take no bad input, each with
its reason, and property tests (hypothesis) cover the wide input spaces. ``tests/test_bad_input.py``
enumerates the package's public functions and classes and fails on any that has neither.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

TOK = torch.zeros(2, 5, dtype=torch.long)  # (batch, pos) token ids that any shipped model accepts


@dataclass(frozen=True)
class Bad:
    """``call(kit)`` must raise ``error`` with a message matching ``match`` (``re.search``)."""

    call: Callable[[Kit], object]
    error: type[BaseException]
    match: str


class Kit:
    """What the cases call with: a shipped model, small data and models, a scratch folder.

    Each is built on first use, once per test session, and shared by every test file's cases.
    """

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp

    @cached_property
    def bridge(self):
        from mi_course.zoo import load_model

        return load_model("induction-2l", device="cpu")

    @cached_property
    def twin(self):
        from mi_course.zoo import load_model

        return load_model("gpt2-twin", device="cpu")

    @cached_property
    def ioi_case(self):
        """Four IOI prompts, their ABC corruptions and the IOI metric on ``twin``."""
        from mi_course.ioi import patching_case

        return patching_case(self.twin, 4)

    @cached_property
    def twin_patching_case(self):
        """Two IOI prompts of one template on ``twin``, their corruptions and a metric of the logits."""
        from mi_course.ioi import TEMPLATES, corrupted, ioi_prompts

        prompts = ioi_prompts(2, templates=TEMPLATES[:1])
        return self.twin, prompts.tokens, corrupted(prompts).tokens, lambda logits: logits[:, -1, 0].mean()

    @cached_property
    def repeated(self) -> torch.Tensor:
        from mi_course.induction import repeated_random_tokens

        return repeated_random_tokens(64, 13, 50, 50, generator=torch.Generator().manual_seed(1))

    @cached_property
    def data5(self):
        from mi_course.grokking import modular_addition

        return modular_addition(5, 0.5, 0)

    @cached_property
    def data7(self):
        from mi_course.grokking import modular_addition

        return modular_addition(7, 0.5, 0)

    @cached_property
    def shape(self):
        from mi_course.memory import TransformerShape

        return TransformerShape(n_layers=2, d_model=64, n_heads=4, d_vocab=50, n_ctx=64)

    @cached_property
    def toy(self):
        from mi_course.toy_models import ToyConfig, ToyModel

        return ToyModel(ToyConfig())

    @cached_property
    def sae(self):
        from mi_course.toy_models import SparseAutoencoder

        return SparseAutoencoder(2, 5)

    @cached_property
    def demo(self):
        from mi_course.scratch import DemoTransformer, ScratchConfig

        return DemoTransformer(ScratchConfig(d_model=8, n_layers=1, n_heads=2, d_head=4, d_mlp=16, d_vocab=10, n_ctx=8))

    @cached_property
    def native(self):
        from mi_course.recipes.induction_2l import INDUCTION_RECIPE
        from mi_course.training import new_native_model

        return new_native_model(INDUCTION_RECIPE.config(51), 0)

    @cached_property
    def tokenizer(self):
        from mi_course.tokenization import symbol_tokenizer

        return symbol_tokenizer(3)


_KIT: list[Kit] = []  # the session's one Kit


def shared_kit(tmp_path_factory: pytest.TempPathFactory) -> Kit:
    """The session's Kit, made on the first call with a scratch folder from ``tmp_path_factory``."""
    if not _KIT:
        _KIT.append(Kit(tmp_path_factory.mktemp("bad_input")))
    return _KIT[0]


def bad_input_params(cases: dict[str, list[Bad]]) -> list:
    """One pytest param per case, named ``function-index``."""
    return [
        pytest.param(case, id=f"{key.split(':')[1]}-{index}")
        for key, group in cases.items()
        for index, case in enumerate(group)
    ]


def assert_refused(case: Bad, kit: Kit) -> None:
    """The case's call raises its exception type, with a one-line message that matches its regex."""
    with pytest.raises(case.error, match=case.match) as raised:
        case.call(kit)
    assert "\n" not in str(raised.value), f"a bad input is answered in one line, not: {raised.value}"


# Hypothesis settings and a strategy that the property tests share: wide input spaces, where a bad
# input must give the clear error and never an obscure one.
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
sizes = st.one_of(st.integers(-2, 12), st.none(), st.floats(-1, 8), st.text(max_size=2), st.booleans())
