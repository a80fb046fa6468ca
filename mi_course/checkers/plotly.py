"""The checker of Step 3's Plotly exercise: loss curves, a scatter of heads, an attention heatmap.

Introduced on the page "Step 3: Plotting and CircuitsVis". It calls each of your three functions
on the checker's own data and inspects the Figure it returns: the kind and number of traces, the
values they plot, the names in the legend, the title and both axis titles, and for the heatmap
its tick labels and colour scale. At the first thing that is off it says what to change.
A figure made with ``mi_course.plotting``'s helpers passes too: what is checked is the figure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import plotly.colors
import plotly.graph_objects as go
import torch

from mi_course.checkers.harness import first_line
from mi_course.checkers.report import CheckerInputError, CheckReport, CriterionResult

# What plotly.express calls an axis or a legend when it is not told: no reader learns anything from them.
PX_DEFAULT_TITLES = frozenset({"x", "y", "index", "value", "variable", "color"})
_TOKENS = (
    "<|BOS|>",
    "When",
    " the",
    " cat",
    " sat",
    ",",
    " the",
    " cat",
)  # " the" and " cat" repeat
_N_HEADS = 12  # three layers of four heads


def check_plotly_figures(
    loss_curves: Callable[[dict[str, list[float]]], go.Figure],
    head_scatter: Callable[[list[float], list[float], list[str]], go.Figure],
    attention_heatmap: Callable[[np.ndarray, list[str]], go.Figure],
) -> CheckReport:
    """Check your three Plotly functions; one result per function.

    ``loss_curves(losses)`` gets ``{"train": [...], "test": [...]}``; ``head_scatter(x, y, labels)``
    the previous-token and induction scores of 12 heads and their names ("0.0" to "2.3");
    ``attention_heatmap(pattern, tokens)`` a causal (query, key) pattern as a numpy array, with 8
    tokens of which two repeat.
    """
    functions = {
        "loss_curves": loss_curves,
        "head_scatter": head_scatter,
        "attention_heatmap": attention_heatmap,
    }
    for name, function in functions.items():
        if not callable(function):
            raise CheckerInputError(
                f"check_plotly_figures expected your {name} function, got {type(function).__name__}"
            )
    generator = torch.Generator().manual_seed(0)
    losses = _losses(generator)
    x, y = (
        torch.rand(_N_HEADS, generator=generator).round(decimals=3).tolist()
        for _ in range(2)
    )
    labels = [f"{layer}.{head}" for layer in range(3) for head in range(4)]
    pattern = _causal_pattern(len(_TOKENS), generator)
    return CheckReport(
        "step3",
        (
            _result(
                "loss_curves",
                _loss_curves_problem(
                    _figure("loss_curves", lambda: loss_curves(losses)), losses
                ),
                "one named line per curve, the losses as y, a title and axis titles",
            ),
            _result(
                "head_scatter",
                _scatter_problem(
                    _figure(
                        "head_scatter",
                        lambda: head_scatter(list(x), list(y), list(labels)),
                    ),
                    x,
                    y,
                    labels,
                ),
                "markers at (x[i], y[i]) named by labels[i], a title and axis titles",
            ),
            _result(
                "attention_heatmap",
                _heatmap_problem(
                    _figure(
                        "attention_heatmap",
                        lambda: attention_heatmap(pattern.copy(), list(_TOKENS)),
                    ),
                    pattern,
                ),
                "one heatmap of the pattern, a tick per token on both axes, colours from 0, a title and axis titles",
            ),
        ),
    )


def _losses(generator: torch.Generator) -> dict[str, list[float]]:
    steps = torch.arange(10.0)
    train = (
        3.0 * torch.exp(-steps / 4) + 0.5 + 0.05 * torch.rand(10, generator=generator)
    )
    test = train + 0.2 + 0.05 * torch.rand(10, generator=generator)
    return {
        "train": train.round(decimals=4).tolist(),
        "test": test.round(decimals=4).tolist(),
    }


def _causal_pattern(n: int, generator: torch.Generator) -> np.ndarray:
    scores = 2 * torch.randn(n, n, generator=generator)
    future = torch.triu(torch.ones(n, n, dtype=torch.bool), diagonal=1)
    return (
        scores.masked_fill(future, float("-inf"))
        .softmax(dim=-1)
        .numpy()
        .astype(np.float64)
    )


def _figure(name: str, call: Callable[[], object]) -> go.Figure:
    """What ``call`` returns, if it is a Figure; else a one-line CheckerInputError."""
    try:
        figure = call()
    except Exception as error:
        raise CheckerInputError(
            f"{name} raised {type(error).__name__}: {first_line(error, empty='(no message)')}"
        ) from error
    if isinstance(figure, go.Figure):
        return figure
    if figure is None:
        raise CheckerInputError(
            f"{name} should return a plotly Figure, got None: return the figure (fig.show() returns None)"
        )
    extra = (
        ": return the Figure itself, not figure.to_dict()"
        if isinstance(figure, dict)
        else ""
    )
    raise CheckerInputError(
        f"{name} should return a plotly Figure (go.Figure, or what plotly.express makes), got {type(figure).__name__}{extra}"
    )


def _result(name: str, problem: str | None, criterion: str) -> CriterionResult:
    return CriterionResult(
        name,
        problem is None,
        "the figure has all it should" if problem is None else problem,
        criterion,
    )


def _array(values: Any) -> np.ndarray | None:
    if values is None:
        return None
    try:
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        return None


def _same(values: Any, expected: Sequence[float] | np.ndarray) -> bool:
    array, target = _array(values), np.asarray(expected, dtype=float)
    return (
        array is not None
        and array.shape == target.shape
        and bool(np.allclose(array, target, rtol=1e-5, atol=1e-6))
    )


def _titles_problem(figure: go.Figure) -> str | None:
    """What is missing of the title and axis titles, or None."""
    title = figure.layout.title.text
    if not (title and title.strip()):
        return "give the figure a title: update_layout(title=...) (or title= in plotly.express)"
    for axis in ("x", "y"):
        text = getattr(figure.layout, f"{axis}axis").title.text
        if not (text and text.strip()):
            return f"label the {axis} axis: update_layout({axis}axis_title=...) (or labels={{...}} in plotly.express)"
        if text.strip() in PX_DEFAULT_TITLES:
            return (
                f"the {axis} axis is called {text!r}, plotly.express's default: say what it shows, with "
                f"labels={{{text.strip()!r}: ...}} or update_layout({axis}axis_title=...)"
            )
    return None


def _loss_curves_problem(
    figure: go.Figure, losses: dict[str, list[float]]
) -> str | None:
    traces, names = list(figure.data), list(losses)
    lengths = sum(len(values) for values in losses.values())
    if (
        len(traces) == 1
        and len(names) > 1
        and _array(traces[0].y) is not None
        and len(_array(traces[0].y)) == lengths
    ):
        return (
            f"all {len(names)} curves are in one trace, so they draw as one line: add one trace per key of losses "
            "(a go.Scatter per curve, or px.line with color=)"
        )
    if len(traces) != len(names):
        return f"expected one trace per curve ({len(names)}: {', '.join(names)}), got {len(traces)}"
    for trace in traces:
        if trace.type not in ("scatter", "scattergl"):
            return f"draw each curve as a line (go.Scatter or px.line), not a {trace.type} trace"
        if trace.mode is not None and "lines" not in trace.mode:
            return f"draw each curve as a line: mode='lines', not {trace.mode!r}"
    trace_names = [trace.name for trace in traces]
    if not any(trace_names):
        return "name each trace after its key of losses (name=...), so that the legend says which curve is which"
    if sorted(map(str, trace_names)) != sorted(names):
        return f"the traces are named {trace_names}; name each after its key of losses: {names}"
    for trace in traces:
        values = losses[trace.name]
        if trace.y is None and _same(trace.x, values):
            return f"curve {trace.name!r} has its losses on the x axis: put them on y, the step goes on x"
        if not _same(trace.y, values):
            return f"trace {trace.name!r} should plot losses[{trace.name!r}] as its y values, in order"
        x = _array(trace.x)
        if x is not None and x.shape != (len(values),):
            return f"trace {trace.name!r} has {len(trace.x)} x values for {len(values)} losses"
    if figure.layout.showlegend is False or any(
        trace.showlegend is False for trace in traces
    ):
        return "show the legend: it is what says which curve is which"
    return _titles_problem(figure)


def _point_labels(trace: Any) -> list[str] | None:
    for field in ("hovertext", "text"):
        values = getattr(trace, field)
        if values is not None and not isinstance(values, str):
            return [str(value) for value in values]
    return None


def _scatter_problem(
    figure: go.Figure, x: list[float], y: list[float], labels: list[str]
) -> str | None:
    traces = list(figure.data)
    if not traces:
        return "the figure has no trace: add the points with go.Scatter(mode='markers') or px.scatter"
    points: list[tuple[float, float]] = []
    point_labels: list[str] | None = []
    for trace in traces:
        if trace.type not in ("scatter", "scattergl"):
            return f"draw the points as a scatter (go.Scatter or px.scatter), not a {trace.type} trace"
        if trace.mode is None or "markers" not in trace.mode or "lines" in trace.mode:
            return (
                f"draw markers only, mode='markers' (it is {trace.mode!r}; unset, plotly joins fewer than 20 points with "
                "lines): a line would join heads that have nothing to do with each other"
            )
        xs, ys = _array(trace.x), _array(trace.y)
        if xs is None or ys is None or xs.shape != ys.shape or xs.ndim != 1:
            return "give each point an x and a y: go.Scatter(x=x, y=y, ...) or px.scatter(x=x, y=y, ...)"
        points += [(round(float(a), 6), round(float(b), 6)) for a, b in zip(xs, ys)]
        names = _point_labels(trace)
        point_labels = (
            None
            if names is None or point_labels is None or len(names) != len(xs)
            else point_labels + names
        )
    wanted = [(round(a, 6), round(b, 6)) for a, b in zip(x, y)]
    if sorted(points) != sorted(wanted):
        if sorted(points) == sorted((b, a) for a, b in wanted):
            return "x and y are swapped: x[i] goes on the x axis, y[i] on the y axis"
        return f"the points should be (x[i], y[i]), one per head ({len(wanted)}); got {len(points)} other points"
    if point_labels is None:
        return "name each point after its head: hover_name=labels in px.scatter, or text=labels in go.Scatter"
    if sorted(zip(points, point_labels)) != sorted(zip(wanted, labels)):
        return "each point should carry its own label: labels[i] names the point (x[i], y[i])"
    return _titles_problem(figure)


def _tick_problem(
    figure: go.Figure, trace: Any, axis: str, tokens: Sequence[str]
) -> str | None:
    """Whether ``axis`` shows one label per token, a repeated token in a column of its own; else what is wrong."""
    n, role = len(tokens), {"x": "key (column)", "y": "query (row)"}[axis]
    coordinates = getattr(trace, axis)
    layout_axis = getattr(figure.layout, f"{axis}axis")
    if coordinates is not None and any(isinstance(value, str) for value in coordinates):
        labels = [str(value) for value in coordinates]
        if len(set(labels)) < len(labels):
            repeated = next(label for label in labels if labels.count(label) > 1)
            return (
                f"the {axis} axis is a category axis on which the repeated token {repeated!r} is one column: plot the "
                f"positions 0..{n - 1} and show the tokens with {axis}axis tickmode='array', tickvals, ticktext"
            )
        if len(labels) != n or not all(
            token.strip() in label for token, label in zip(tokens, labels)
        ):
            return f"label each {role} with its token, in order: {list(tokens)}"
        return None
    positions = list(range(n)) if coordinates is None else _array(coordinates)
    ticktext = layout_axis.ticktext
    if ticktext is None:
        return (
            f"label each {role} with its token: {axis}axis tickmode='array', tickvals=positions, ticktext=tokens "
            f"(with tokens as {axis} itself, the repeated ones would merge into one)"
        )
    tickvals = _array(layout_axis.tickvals)
    if (
        [str(text) for text in ticktext] != list(tokens)
        or tickvals is None
        or not _same(tickvals, positions)
    ):
        return f"the {axis} axis should show one tick per token, token i at position i: ticktext={list(tokens)}"
    return None


def _heatmap_problem(figure: go.Figure, pattern: np.ndarray) -> str | None:
    heatmaps = [trace for trace in figure.data if trace.type == "heatmap"]
    if len(heatmaps) != 1 or len(figure.data) != 1:
        kinds = ", ".join(trace.type for trace in figure.data) or "none"
        return f"draw the pattern as one heatmap (go.Heatmap or px.imshow); the figure's traces: {kinds}"
    trace = heatmaps[0]
    if not _same(trace.z, pattern):
        if _same(trace.z, pattern.T):
            return "the heatmap is transposed: z is the pattern itself, a row per query (y) and a column per key (x)"
        return "the heatmap should show the pattern itself: z=pattern, rows queries and columns keys"
    for axis in ("x", "y"):
        problem = _tick_problem(figure, trace, axis, _TOKENS)
        if problem is not None:
            return problem
    coloraxis = figure.layout.coloraxis if trace.coloraxis else None
    low = coloraxis.cmin if coloraxis is not None else trace.zmin
    middle = coloraxis.cmid if coloraxis is not None else trace.zmid
    if middle is not None:
        return "attention is a probability, from 0 to 1: use a sequential colour scale from 0 (zmin=0), not one centred on a middle value"
    if low != 0:
        return (
            "start the colour scale at 0 (zmin=0, or cmin=0 on px.imshow's coloraxis): a weight's colour should say how "
            "much attention, from none, not how much above the smallest weight shown"
        )
    high = coloraxis.cmax if coloraxis is not None else trace.zmax
    if high is not None and high < pattern.max() - 1e-6:
        return (
            f"the colour scale stops at {high:.3g}, below the largest weight, {pattern.max():.3g}: every weight above it "
            "gets the same colour; leave zmax unset (or at 1)"
        )
    scale = coloraxis.colorscale if coloraxis is not None else trace.colorscale
    if scale and _has_a_middle(scale):
        return (
            "attention is a probability, from 0 to 1: use a sequential colour scale, light to dark (such as 'Blues'), "
            "not a diverging one like 'RdBu', whose pale middle marks a value that means nothing here"
        )
    return _titles_problem(figure)


def lightness(colour: str) -> float:
    """A colour's relative luminance, 0 (black) to 1 (white), from Plotly's ``#rrggbb`` or ``rgb(r, g, b)``."""
    red, green, blue = (
        plotly.colors.hex_to_rgb(colour)
        if colour.startswith("#")
        else plotly.colors.unlabel_rgb(colour)
    )
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255


def _has_a_middle(scale) -> bool:
    """Whether a colour scale's lightness rises and falls along it (a diverging or rainbow scale)."""
    steps = np.diff([lightness(colour) for _, colour in scale])
    steps = [step for step in steps if abs(step) > 0.02]
    return bool(steps) and min(steps) < 0 < max(steps)


__all__ = ["PX_DEFAULT_TITLES", "check_plotly_figures", "lightness"]
