import os
from collections.abc import Callable

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from mi_course import get_device, runtime, seed_everything
from mi_course.runtime import DEVICE_ENV_VAR
from tests.bad_input import FAST, Bad, assert_refused, bad_input_params, shared_kit


def test_get_device_is_cuda_exactly_when_available(monkeypatch):
    monkeypatch.delenv(DEVICE_ENV_VAR, raising=False)
    assert get_device().type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_get_device_honours_the_override(monkeypatch):
    monkeypatch.setenv(DEVICE_ENV_VAR, "cpu")
    assert get_device() == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA, so requesting it is valid")
def test_get_device_refuses_missing_cuda(monkeypatch):
    monkeypatch.setenv(DEVICE_ENV_VAR, "cuda")
    with pytest.raises(RuntimeError, match="no CUDA device"):
        get_device()


def test_seed_everything_makes_draws_repeat():
    seed_everything(3)
    first = torch.randn(4)
    seed_everything(3)
    assert torch.equal(first, torch.randn(4))


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True])
def test_seed_everything_rejects_non_seeds(seed):
    with pytest.raises(ValueError, match="non-negative int seed"):
        seed_everything(seed)


def test_torch_threads_sets_the_count_for_the_block_and_restores_it_even_on_error():
    import torch

    from mi_course.runtime import torch_threads

    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError, match="inside"):
        with torch_threads(1):
            raise RuntimeError("inside")
    assert torch.get_num_threads() == before


def _with_env(name: str, value: str, call: Callable[[], object]) -> object:
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        return call()
    finally:
        if old is None:
            del os.environ[name]
        else:
            os.environ[name] = old


BAD_INPUTS: dict[str, list[Bad]] = {
    "mi_course.runtime:progress": [
        Bad(lambda k: runtime.progress(range(3), -1, "train"), ValueError, "progress expected total >= 0, got -1"),
        Bad(
            lambda k: runtime.progress(range(3), 3, None),
            TypeError,
            "progress expected description to be a str, got NoneType",
        ),
        Bad(lambda k: runtime.progress(range(3), 3, "claims", unit=2), TypeError, "progress expected unit to be a str"),
    ],
    "mi_course.runtime:get_device": [
        Bad(
            lambda k: _with_env(runtime.DEVICE_ENV_VAR, "gpu", runtime.get_device),
            ValueError,
            "get_device expected the environment variable MI_COURSE_DEVICE to be a device such as 'cpu', 'cuda' or 'cuda:0', got 'gpu'",
        ),
    ],
    "mi_course.runtime:device_description": [
        Bad(
            lambda k: runtime.device_description("tpu"),
            ValueError,
            "device_description expected device to be a device such as 'cpu'.*got 'tpu'",
        ),
        Bad(
            lambda k: runtime.device_description(0.5),
            TypeError,
            "device_description expected device to be a str or device, got float",
        ),
    ],
    "mi_course.runtime:seed_everything": [
        Bad(
            lambda k: runtime.seed_everything(-1),
            ValueError,
            "seed_everything expected a non-negative int seed below 2\\*\\*32 .*got -1",
        ),
        Bad(lambda k: runtime.seed_everything(2**32), ValueError, "got 4294967296"),
    ],
    "mi_course.runtime:torch_threads": [
        Bad(lambda k: runtime.torch_threads(0).__enter__(), ValueError, "torch_threads expected a positive int, got 0"),
        Bad(
            lambda k: runtime.torch_threads(True).__enter__(),
            ValueError,
            "torch_threads expected a positive int, got True",
        ),
    ],
    "mi_course.runtime:reachable": [
        Bad(
            lambda k: runtime.reachable(b"https://pypi.org", 1.0),
            TypeError,
            "reachable expected url to be a str, got bytes",
        ),
        Bad(
            lambda k: runtime.reachable("https://pypi.org", 0),
            ValueError,
            "reachable expected timeout_s to be a finite number > 0, got 0",
        ),
    ],
}
# What takes no input, or only free text, and so has no bad input to refuse.
NO_BAD_INPUT: dict[str, str] = {}


@pytest.mark.parametrize("case", bad_input_params(BAD_INPUTS))
def test_bad_input_raises_a_clear_error(case, tmp_path_factory):
    assert_refused(case, shared_kit(tmp_path_factory))


not_seeds = st.one_of(
    st.integers(max_value=-1), st.integers(min_value=2**32), st.floats(), st.text(max_size=3), st.booleans(), st.none()
)


@FAST
@given(seed=not_seeds)
def test_seed_everything_refuses_any_non_seed(seed):
    with pytest.raises(ValueError, match=r"^seed_everything expected a non-negative int seed below 2\*\*32"):
        runtime.seed_everything(seed)
