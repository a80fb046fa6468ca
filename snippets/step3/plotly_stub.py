# Exercise: three figures in Plotly itself. Fill in the
# functions, run it, and read what the checker says.
from collections.abc import Sequence
from typing import Any

import plotly.express as px
import plotly.graph_objects as go

from mi_course import CheckerInputError, seed_everything
from mi_course.checkers.plotly import check_plotly_figures

seed_everything(0)


def loss_curves(losses: dict[str, Sequence[float]]) -> go.Figure:
    """Every curve of ``losses`` on one plot: one line per name, so that the legend says
    which is which."""
    # One trace per key, named by it; a title, and a title on each axis.
    raise NotImplementedError("fill in loss_curves")


def head_scatter(
    x: Sequence[float], y: Sequence[float], labels: Sequence[str]
) -> go.Figure:
    """One point per head, its previous-token score against its induction score, named
    when you hover on it."""
    raise NotImplementedError("fill in head_scatter")


def attention_heatmap(pattern: Any, tokens: Sequence[str]) -> go.Figure:
    """A head's attention pattern: a row per query, a column per key, colour from 0
    (none) to 1 (all of it)."""
    # A token may repeat: each must keep its own
    # column and row, with its own tick label.
    raise NotImplementedError("fill in attention_heatmap")


try:
    print(check_plotly_figures(loss_curves, head_scatter, attention_heatmap))
except CheckerInputError as error:
    print(error)
