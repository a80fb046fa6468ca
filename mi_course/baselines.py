"""Random baselines as distributions: one number measured over many random controls, or over seeds.

A measurement beside one random control says little: that one draw may be lucky or unlucky. The
course compares an effect with the spread of many controls (at least 20, their 95th percentile)
and holds a claim about sampling over several seeds (at least 5, their mean and range). Every
page that says "against a random direction of the same norm" builds its baseline here.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from mi_course import _checks


@dataclass(frozen=True)
class Distribution:
    """The values of one measurement over independent draws (random controls, or seeds), and their summary."""

    values: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.values) < 2:
            raise ValueError(
                f"Distribution expected at least 2 values, got {len(self.values)}: one draw has no spread, "
                "so it cannot say how far chance alone moves the number"
            )

    @property
    def mean(self) -> float:
        return sum(self.values) / len(self.values)

    @property
    def p95(self) -> float:
        """The 95th percentile (linear interpolation, as ``torch.quantile``)."""
        return torch.tensor(self.values, dtype=torch.float64).quantile(0.95).item()

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)

    def describe(self, digits: int = 2) -> str:
        """``"mean 0.17, 95th percentile 0.19, range 0.15 to 0.20, over 20"``: how a page prints it."""
        numbers = (
            f"{value:.{digits}f}"
            for value in (self.mean, self.p95, self.low, self.high)
        )
        return "mean {}, 95th percentile {}, range {} to {}, over {}".format(
            *numbers, len(self.values)
        )


def _draw_count(count: int, function: str, what: str) -> int:
    _checks.integer(count, function, what, minimum=1)
    if count < 2:
        raise ValueError(
            f"{function} expected {what} >= 2, got {count}: a baseline is a distribution, and one draw has "
            "no spread to compare an effect with (the course uses 20 controls, 5 seeds)"
        )
    return count


def random_directions(
    count: int, d: int, *, norm: float = 1.0, generator: torch.Generator | None = None
) -> Tensor:
    """``(count, d)``: directions uniform on the sphere (normalised Gaussians), each of length ``norm``."""
    _draw_count(count, "random_directions", "count")
    _checks.integer(d, "random_directions", "d", minimum=1)
    _checks.number(norm, "random_directions", "norm", positive=True)
    if generator is not None:
        _checks.instance(generator, torch.Generator, "random_directions", "generator")
    directions = torch.randn(count, d, generator=generator)
    return norm * directions / directions.norm(dim=-1, keepdim=True)
