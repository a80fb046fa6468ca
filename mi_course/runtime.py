"""Where code runs and how it is seeded: the two things every snippet sets first.

Introduced on the page "Step 1: ML prerequisites".
"""

from __future__ import annotations

import os
import random
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import numpy as np
import torch
from tqdm import tqdm

from mi_course import _checks

DEVICE_ENV_VAR = "MI_COURSE_DEVICE"


def get_device() -> torch.device:
    """Return the device the course runs on: ``cuda`` when there is one, else ``cpu``.

    Set the environment variable ``MI_COURSE_DEVICE`` (for example to ``cpu``) to override.
    """
    requested = os.environ.get(DEVICE_ENV_VAR)
    if requested:
        device = _checks.device(
            requested, "get_device", f"the environment variable {DEVICE_ENV_VAR}"
        )
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(
                f"{DEVICE_ENV_VAR}={requested!r}, but torch sees no CUDA device"
            )
        return device
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def device_description(device: torch.device | None = None) -> str:
    """Name the hardware behind ``device`` (default: ``get_device()``), e.g. ``"cuda: NVIDIA H100"`` or ``"cpu: 2 cores"``."""
    device = (
        get_device()
        if device is None
        else _checks.device(device, "device_description", "device")
    )
    if device.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(device)}"
    return (
        f"{device.type}: {os.cpu_count()} cores"
        if device.type == "cpu"
        else device.type
    )


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run the block with ``count`` CPU threads, then restore the previous count.

    Tiny models train several times faster on one thread: splitting a 5-by-2 matrix product
    between threads costs more than it saves, and far more when other processes share the cores.
    """
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise ValueError(f"torch_threads expected a positive int, got {count!r}")
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and PyTorch's random generators (CPU and CUDA)."""
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**32:
        raise ValueError(
            f"seed_everything expected a non-negative int seed below 2**32 (NumPy's limit), got {seed!r}"
        )
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


def reachable(url: str, timeout_s: float) -> bool:
    """Whether an HTTPS request to ``url`` gets an answer within ``timeout_s``, name lookup included.

    A full request, not just a TCP connection: some sandboxes accept every connection and then
    never complete a TLS handshake. Code that needs the network asks this first, so that offline it
    fails in seconds with a message, instead of retrying for tens of seconds.
    """
    _checks.instance(url, str, "reachable", "url")
    _checks.number(timeout_s, "reachable", "timeout_s", positive=True)
    outcome: list[bool] = []

    def probe() -> None:
        try:
            urllib.request.urlopen(
                urllib.request.Request(url, method="HEAD"), timeout=timeout_s
            ).close()
            outcome.append(True)
        except urllib.error.HTTPError:
            outcome.append(True)  # the host answered, if only with an error status
        except (OSError, ValueError):
            outcome.append(False)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout_s)
    return bool(outcome and outcome[0])


Item = TypeVar("Item")


def progress(
    items: Iterable[Item], total: int, description: str, unit: str = "step"
) -> tqdm[Item]:
    """``items`` with a progress bar on stderr (``description``, count, rate, time left), drawn only when stderr is a terminal.

    Elsewhere (CI logs, captured snippet output) the bar is disabled and writes nothing, so the
    output does not change; print beside it inside ``tqdm.external_write_mode()``. Training loops
    count steps; the course's long commands count their items (``unit``: "claim", "snippet").
    """
    _checks.integer(total, "progress", "total", minimum=0)
    _checks.instance(description, str, "progress", "description")
    _checks.instance(unit, str, "progress", "unit")
    return tqdm(
        items,
        total=total,
        desc=description,
        unit=unit,
        file=sys.stderr,
        disable=not sys.stderr.isatty(),
    )
