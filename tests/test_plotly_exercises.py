"""mi_course.plotly_exercises: bad input to the reference solutions of Step 3's Plotly exercise.

What the checker says about right and wrong figures is tested in tests/test_checkers_plotly.py.
"""

import numpy as np
import pytest

from mi_course import plotly_exercises
from tests.bad_input import Bad, assert_refused, bad_input_params, shared_kit

PATTERN = np.tril(np.ones((3, 3))) / np.arange(1, 4)[:, None]

BAD_INPUTS: dict[str, list[Bad]] = {
    "mi_course.plotly_exercises:loss_curves": [
        Bad(
            lambda k: plotly_exercises.loss_curves([1.0, 2.0]),
            TypeError,
            r"loss_curves expected losses to be a dict \{name: list of losses\}, got list",
        ),
        Bad(
            lambda k: plotly_exercises.loss_curves({}),
            ValueError,
            "loss_curves expected at least one curve in losses, got an empty dict",
        ),
        Bad(
            lambda k: plotly_exercises.loss_curves({"train": "3.0"}),
            TypeError,
            r"loss_curves expected losses\['train'\] to be a list, tensor or array of numbers, got str",
        ),
        Bad(
            lambda k: plotly_exercises.loss_curves({"train": [[1.0]]}),
            ValueError,
            r"loss_curves expected losses\['train'\] of shape \(points,\), got shape \(1, 1\)",
        ),
        Bad(
            lambda k: plotly_exercises.loss_curves({0: [1.0]}),
            TypeError,
            "loss_curves expected each name in losses to be a str, got int",
        ),
    ],
    "mi_course.plotly_exercises:head_scatter": [
        Bad(
            lambda k: plotly_exercises.head_scatter([0.1, 0.2], [0.3], ["a", "b"]),
            ValueError,
            "head_scatter got 2 x values but 1 y values",
        ),
        Bad(
            lambda k: plotly_exercises.head_scatter([0.1], [0.3], "a"),
            TypeError,
            "head_scatter expected labels to be a list of strings, got str",
        ),
        Bad(
            lambda k: plotly_exercises.head_scatter([0.1], [0.3], ["a", "b"]),
            ValueError,
            "head_scatter got 2 labels for 1 points: give one per point",
        ),
        Bad(
            lambda k: plotly_exercises.head_scatter(None, [0.3], ["a"]),
            TypeError,
            "head_scatter expected x to be a list, tensor or array of numbers, got NoneType",
        ),
        Bad(
            lambda k: plotly_exercises.head_scatter(["a"], [0.3], ["a"]),
            TypeError,
            "head_scatter expected x to hold only numbers, got list",
        ),
    ],
    "mi_course.plotly_exercises:attention_heatmap": [
        Bad(
            lambda k: plotly_exercises.attention_heatmap(PATTERN[0], ["a", "b", "c"]),
            ValueError,
            r"attention_heatmap expected pattern of shape \(query, key\), got shape \(3,\)",
        ),
        Bad(
            lambda k: plotly_exercises.attention_heatmap(PATTERN[:2], ["a", "b"]),
            ValueError,
            r"attention_heatmap expected a square \(query, key\) pattern, .*got shape \(2, 3\)",
        ),
        Bad(
            lambda k: plotly_exercises.attention_heatmap(PATTERN, ["a", "b"]),
            ValueError,
            "attention_heatmap got 2 tokens for 3 points",
        ),
        Bad(
            lambda k: plotly_exercises.attention_heatmap(PATTERN, [1, 2, 3]),
            TypeError,
            "attention_heatmap expected tokens to be a list of strings, got list",
        ),
    ],
}
NO_BAD_INPUT: dict[str, str] = {}


@pytest.mark.parametrize("case", bad_input_params(BAD_INPUTS))
def test_bad_input_raises_a_clear_error(case, tmp_path_factory):
    assert_refused(case, shared_kit(tmp_path_factory))
