"""Three figures drawn with Plotly itself: loss curves, a scatter of heads, an attention pattern.

Introduced on the page "Step 3: Plotting and CircuitsVis", as the exercise of writing, with
``plotly.express`` or ``plotly.graph_objects`` directly, what ``mi_course.plotting`` does for
you: several labelled curves on one plot, a scatter plot whose points are named, and a matrix as
a heatmap with a tick per token. ``mi_course.checkers.plotly.check_plotly_figures`` checks yours.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.express as px
import plotly.graph_objects as go
from torch import Tensor

from mi_course._checks import Call, guard, instance


def _values(values: Any, function: str, what: str, ndim: int) -> None:
    """Refuse ``values`` unless it is a list, tuple, tensor or array of ``ndim`` dimensions of numbers."""
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(
        values, (Sequence, Tensor, np.ndarray)
    ):
        raise TypeError(
            f"{function} expected {what} to be a list, tensor or array of numbers, got {type(values).__name__}"
        )
    try:
        array = np.asarray(
            values.detach().cpu() if isinstance(values, Tensor) else values, dtype=float
        )
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{function} expected {what} to hold only numbers, got {type(values).__name__}"
        ) from error
    if array.ndim != ndim:
        shape = "(points,)" if ndim == 1 else "(query, key)"
        raise ValueError(
            f"{function} expected {what} of shape {shape}, got shape {array.shape}"
        )


def _labels(labels: Any, count: int, function: str, what: str) -> None:
    if (
        isinstance(labels, str)
        or not isinstance(labels, Sequence)
        or not all(isinstance(label, str) for label in labels)
    ):
        raise TypeError(
            f"{function} expected {what} to be a list of strings, got {type(labels).__name__}"
        )
    if len(labels) != count:
        raise ValueError(
            f"{function} got {len(labels)} {what} for {count} points: give one per point"
        )


def _curves(losses: object, name: str, call: Call) -> Mapping[str, Sequence[float]]:
    """A non-empty dict of names to 1-D lists of numbers."""
    if not isinstance(losses, Mapping):
        raise TypeError(
            f"{call.function} expected {name} to be a dict {{name: list of losses}}, got {type(losses).__name__}"
        )
    if not losses:
        raise ValueError(
            f"{call.function} expected at least one curve in {name}, got an empty dict"
        )
    for curve, values in losses.items():
        instance(curve, str, call.function, f"each name in {name}")
        _values(values, call.function, f"{name}[{curve!r}]", 1)
    return losses


def _points(values: object, name: str, call: Call) -> Any:
    """1-D numbers; ``y`` as many as ``x``."""
    _values(values, call.function, name, 1)
    if name == "y" and len(x := call.arguments["x"]) != len(values):
        raise ValueError(
            f"{call.function} got {len(x)} x values but {len(values)} y values"
        )
    return values


def _point_labels(labels: object, name: str, call: Call) -> Sequence[str]:
    """One string per point of ``x``."""
    _labels(labels, len(call.arguments["x"]), call.function, name)
    return labels


def _square_pattern(pattern: object, name: str, call: Call) -> Any:
    """A square (query, key) matrix of numbers; a tensor comes back as an array."""
    _values(pattern, call.function, name, 2)
    rows, columns = np.shape(pattern)
    if rows != columns:
        raise ValueError(
            f"{call.function} expected a square (query, key) pattern, one row and column per token, got shape {(rows, columns)}"
        )
    return (
        np.asarray(pattern.detach().cpu()) if isinstance(pattern, Tensor) else pattern
    )


def _token_labels(tokens: object, name: str, call: Call) -> Sequence[str]:
    """One string per row of the pattern."""
    _labels(tokens, len(call.arguments["pattern"]), call.function, name)
    return tokens


@guard(losses=_curves)
# --8<-- [start:loss-curves]
def loss_curves(losses: dict[str, Sequence[float]]) -> go.Figure:
    """Every curve of ``losses`` on one plot: one line per name, so that the legend says
    which is which.
    """
    figure = go.Figure()
    for name, values in losses.items():
        figure.add_trace(
            go.Scatter(y=list(values), mode="lines", name=name)
        )  # x defaults to 0, 1, 2...: the step
    figure.update_layout(
        title="Loss during training",
        xaxis_title="training step",
        yaxis_title="cross-entropy loss",
    )
    return figure


# --8<-- [end:loss-curves]


@guard(x=_points, y=_points, labels=_point_labels)
# --8<-- [start:head-scatter]
def head_scatter(
    x: Sequence[float], y: Sequence[float], labels: Sequence[str]
) -> go.Figure:
    """One point per head, its previous-token score against its induction score, named
    when you hover on it.
    """
    return px.scatter(
        x=x,
        y=y,
        # px.scatter draws markers only: no line joins heads that are unrelated
        hover_name=labels,
        title="Previous-token and induction scores of each head",
        labels={
            "x": "previous-token score",
            "y": "induction score",
        },  # px would name the axes "x" and "y"
    )


# --8<-- [end:head-scatter]


@guard(pattern=_square_pattern, tokens=_token_labels)
# --8<-- [start:attention-heatmap]
def attention_heatmap(pattern: Any, tokens: Sequence[str]) -> go.Figure:
    """A head's attention pattern: a row per query, a column per key, colour from 0
    (none) to 1 (all of it).
    """
    positions = list(
        range(len(tokens))
    )  # numbers, not the tokens: a category axis would merge a repeated token's columns
    figure = go.Figure(
        go.Heatmap(
            z=pattern, x=positions, y=positions, colorscale="Blues", zmin=0, zmax=1
        )
    )
    ticks = {
        "tickmode": "array",
        "tickvals": positions,
        "ticktext": list(tokens),
    }  # one label per position
    figure.update_layout(
        title="Attention pattern",
        xaxis={"title": "key (attended to)", **ticks},
        yaxis={
            "title": "query (attending)",
            "autorange": "reversed",
            **ticks,
        },  # the first token on top, as in a matrix
    )
    return figure


# --8<-- [end:attention-heatmap]


__all__ = ["attention_heatmap", "head_scatter", "loss_curves"]
