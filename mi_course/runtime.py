"""Where code runs and how it is seeded: the two things every snippet sets first.

Introduced on the page "Step 1: ML prerequisites".
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

DEVICE_ENV_VAR = "MI_COURSE_DEVICE"


def get_device() -> torch.device:
    """Return the device the course runs on: ``cuda`` when there is one, else ``cpu``.

    Set the environment variable ``MI_COURSE_DEVICE`` (for example to ``cpu``) to override.
    """
    requested = os.environ.get(DEVICE_ENV_VAR)
    if requested:
        device = torch.device(requested)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"{DEVICE_ENV_VAR}={requested!r}, but torch sees no CUDA device")
        return device
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and PyTorch's random generators (CPU and CUDA)."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"expected a non-negative int seed, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
