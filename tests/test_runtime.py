import pytest
import torch

from mi_course import get_device, seed_everything
from mi_course.runtime import DEVICE_ENV_VAR


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
