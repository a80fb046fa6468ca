"""mi_course.baselines: random controls and seeds as distributions, and bad input to them."""

import pytest
import torch

from mi_course.baselines import Distribution, random_directions
from tests.bad_input import Bad, assert_refused, bad_input_params, shared_kit


def test_a_distribution_summarises_its_values_as_torch_does():
    values = tuple(float(v) for v in range(1, 21))
    spread = Distribution(values)
    assert spread.mean == 10.5 and (spread.low, spread.high) == (1.0, 20.0)
    assert spread.p95 == pytest.approx(torch.tensor(values).quantile(0.95).item())
    assert spread.describe() == "mean 10.50, 95th percentile 19.05, range 1.00 to 20.00, over 20"


def test_random_directions_have_the_norm_asked_for_and_no_preferred_axis():
    directions = random_directions(2000, 16, norm=3.0, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(directions.norm(dim=-1), torch.full((2000,), 3.0))
    assert directions.mean(0).abs().max() < 0.25  # uniform on the sphere: no axis favoured


BAD_INPUTS: dict[str, list[Bad]] = {
    "mi_course.baselines:Distribution": [
        Bad(
            lambda k: Distribution((0.5,)),
            ValueError,
            "Distribution expected at least 2 values, got 1: one draw has no spread",
        ),
    ],
    "mi_course.baselines:random_directions": [
        Bad(lambda k: random_directions(1, 8), ValueError, "random_directions expected count >= 2, got 1"),
        Bad(
            lambda k: random_directions(4, 8, norm=0),
            ValueError,
            r"random_directions expected norm to be a finite number > 0, got 0",
        ),
        Bad(
            lambda k: random_directions(4, 8, generator=1),
            TypeError,
            "random_directions expected generator to be a Generator, got int",
        ),
    ],
}
NO_BAD_INPUT: dict[str, str] = {}


@pytest.mark.parametrize("case", bad_input_params(BAD_INPUTS))
def test_bad_input_raises_a_clear_error(case, tmp_path_factory):
    assert_refused(case, shared_kit(tmp_path_factory))
