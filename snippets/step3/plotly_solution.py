# Loss curves, a scatter of heads and an attention
# pattern in Plotly itself, checked, then shown.
from collections.abc import Sequence
from typing import Any

import plotly.express as px
import plotly.graph_objects as go

from mi_course import seed_everything
from mi_course.checkers.plotly import check_plotly_figures
from mi_course.plotting import show

seed_everything(0)


# --8<-- "mi_course/plotly_exercises.py:loss-curves"


# --8<-- "mi_course/plotly_exercises.py:head-scatter"


# --8<-- "mi_course/plotly_exercises.py:attention-heatmap"


print(check_plotly_figures(loss_curves, head_scatter, attention_heatmap))

show(
    loss_curves({"train": [3.1, 2.2, 1.6, 1.3, 1.1], "test": [3.2, 2.5, 2.1, 1.9, 1.9]})
)
show(
    head_scatter(
        [0.1, 0.9, 0.2, 0.05], [0.05, 0.1, 0.8, 0.7], ["0.0", "0.1", "1.0", "1.1"]
    )
)
show(
    attention_heatmap(
        [[1.0, 0.0, 0.0], [0.3, 0.7, 0.0], [0.6, 0.1, 0.3]], ["<|BOS|>", " the", " the"]
    )
)
