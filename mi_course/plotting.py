"""Labelled Plotly figures, CircuitsVis views (attention, token activations), and ``show`` for scripts, notebooks and the site.

Introduced on the page "Step 3: Plotting and CircuitsVis". Each figure helper takes its title and
axis labels as required keywords, and checks the shape of what it plots.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import version

import numpy as np
import plotly.graph_objects as go
from torch import Tensor

from mi_course import _checks

FIGURE_HEIGHT_PX = 450  # a figure in a page needs a height, or it collapses
TICK_LABEL_PX = 14  # the height a row's tick label needs
MANY_TICKS = 30  # more labels than this on an axis get a smaller font
CELLS_WITH_VALUES = (
    60  # a heatmap with at most this many cells writes each cell's value in it
)
PLOTLY_DIV_CLASS = "plotly-graph-div"  # the class of the element Plotly draws into
CIRCUITSVIS_DIV_CLASS = "mi-course-circuitsvis"
PATTERN_DECIMALS = (
    4  # attention weights sent to CircuitsVis: enough to see, small in a page
)

Values = Sequence[float] | Tensor | np.ndarray
FigureSink = Callable[[str], None]


@dataclass
class _SiteOutput:
    """Where figures go besides the screen; only the course's own runs change it."""

    sink: FigureSink | None = (
        None  # a script's figures, as page HTML, for the site to place under its snippet
    )
    in_notebook: bool = (
        False  # a notebook's figures drawn with the scripts the site serves once
    )


_site = _SiteOutput()


def send_figures_to(sink: FigureSink | None) -> None:
    """Hand each figure that ``show`` displays in a script, as page HTML, to ``sink`` (None: to no one).

    The course's test runner installs one, so that the site shows a snippet's figures from its run.
    """
    if sink is not None and not callable(sink):
        raise TypeError(
            f"send_figures_to expected sink to be a function of one string, or None, got {type(sink).__name__}"
        )
    _site.sink = sink


def draw_for_site(enabled: bool = True) -> None:
    """Make ``show`` and attention views in a notebook emit HTML that calls the Plotly and CircuitsVis
    scripts the site serves once (site_tools/hooks/figure_scripts.py); the site's notebook runs call it."""
    if not isinstance(enabled, bool):
        raise TypeError(
            f"draw_for_site expected enabled to be a bool, got {type(enabled).__name__}"
        )
    _site.in_notebook = enabled


_element_numbers = itertools.count(
    1
)  # element ids that builds reproduce: the n-th view of a kernel


def line(
    curves: Mapping[str, Values],
    *,
    x: Values | None = None,
    title: str,
    x_label: str,
    y_label: str,
    x_ticks: Sequence[str] | None = None,
) -> go.Figure:
    """Several labelled curves on one plot, such as train and test loss: one trace per key, named by it.

    ``x_ticks`` labels each point under the x axis (the characters or tokens at those positions).
    """
    if not isinstance(curves, Mapping):
        raise TypeError(
            f"line expected curves to be a dict {{name: values}}, got {type(curves).__name__}"
        )
    if not curves:
        raise ValueError("line expected at least one curve, got none")
    x_values = None if x is None else _array(x, ("points",), "line", "x")
    figure = _figure(title, x_label, y_label).update_layout(showlegend=True)
    for name, curve in curves.items():
        y_values = _array(curve, ("points",), "line", f"curve {name!r}")
        if x_values is not None and len(x_values) != len(y_values):
            raise ValueError(
                f"line got {len(x_values)} x values but {len(y_values)} points in curve {name!r}"
            )
        figure.add_scatter(x=x_values, y=y_values, mode="lines", name=name)
        points = len(y_values)
    if x_ticks is not None:
        if len(x_ticks) != points:
            raise ValueError(
                f"line got {len(x_ticks)} x_ticks for {points} points: give one label per point"
            )
        _label_ticks(
            figure, "x", range(points) if x_values is None else x_values, x_ticks
        )
    return figure


def scatter(
    x: Values,
    y: Values,
    *,
    title: str,
    x_label: str,
    y_label: str,
    hover: Sequence[str] | None = None,
    same_scale: bool = False,
) -> go.Figure:
    """Points ``(x[i], y[i])``; ``hover[i]`` names point ``i`` under the mouse.

    ``same_scale`` draws a unit of y as long as a unit of x, for when the geometry is the point
    (angles, lengths): otherwise Plotly stretches each axis to fill the frame.
    """
    x_values, y_values = (
        _array(x, ("points",), "scatter", "x"),
        _array(y, ("points",), "scatter", "y"),
    )
    if len(x_values) != len(y_values):
        raise ValueError(
            f"scatter got {len(x_values)} x values but {len(y_values)} y values"
        )
    if hover is not None and (
        isinstance(hover, str) or not isinstance(hover, Sequence)
    ):
        raise TypeError(
            f"scatter expected hover to be a list of labels, one per point, got {type(hover).__name__}"
        )
    if hover is not None and len(hover) != len(x_values):
        raise ValueError(
            f"scatter got {len(hover)} hover labels for {len(x_values)} points: give one per point"
        )
    _checks.instance(same_scale, bool, "scatter", "same_scale")
    figure = _figure(title, x_label, y_label)
    if same_scale:
        figure.update_yaxes(scaleanchor="x", scaleratio=1)
    figure.add_scatter(
        x=x_values,
        y=y_values,
        mode="markers",
        text=None if hover is None else list(hover),
    )
    return figure


def imshow(
    values: Values,
    *,
    title: str,
    x_label: str,
    y_label: str,
    x_ticks: Sequence[str] | None = None,
    y_ticks: Sequence[str] | None = None,
    diverging: bool = True,
) -> go.Figure:
    """A matrix as a heatmap, row 0 on top, with a label per column and row.

    ``diverging`` values (signed: a change, a difference) get red-white-blue centred on 0; otherwise
    (probabilities, scores from 0 up) white-to-blue from 0, so that colour says how much, not which sign.

    The axes are numeric with the labels as tick text, so a label that repeats (a token seen twice)
    still gets its own column: Plotly would merge equal category names into one.
    """
    matrix = _array(values, ("rows", "columns"), "imshow")
    rows, columns = matrix.shape
    figure = _figure(title, x_label, y_label)
    figure.add_heatmap(
        z=matrix,
        **(
            {"colorscale": "RdBu", "zmid": 0}
            if diverging
            else {"colorscale": "Blues", "zmin": 0}
        ),
        hovertemplate=f"{y_label}: %{{y}}<br>{x_label}: %{{x}}<br>value: %{{z:.3g}}<extra></extra>",
        # a small grid shows its numbers, so that the ones the prose quotes can be read off it
        **({"texttemplate": "%{z:.2f}"} if matrix.size <= CELLS_WITH_VALUES else {}),
    )
    figure.update_yaxes(autorange="reversed")
    for ticks, count, axis in ((x_ticks, columns, "x"), (y_ticks, rows, "y")):
        if ticks is None:
            continue
        if len(ticks) != count:
            dimension = "columns" if axis == "x" else "rows"
            raise ValueError(
                f"imshow got {len(ticks)} {axis}_ticks for {count} {dimension}: give one label per {dimension[:-1]}"
            )
        _label_ticks(figure, axis, range(count), ticks)
    if y_ticks is not None:  # a row of labels needs its height
        figure.update_layout(height=max(FIGURE_HEIGHT_PX, 160 + TICK_LABEL_PX * rows))
    return figure


def bars(
    groups: Mapping[str, Values],
    *,
    labels: Sequence[str],
    title: str,
    x_label: str,
    y_label: str,
) -> go.Figure:
    """Horizontal bars, one row per label (the first on top) and one coloured bar per group in each row,
    such as the loss on the first copy and on the repeat under each ablation.

    Rows read as text, so long labels ("all of layer 1, mean-ablated") stay whole on a phone.
    """
    if not isinstance(groups, Mapping) or not groups:
        raise TypeError(
            f"bars expected groups to be a non-empty dict {{name: values}}, got {type(groups).__name__}"
        )
    if isinstance(labels, str) or not isinstance(labels, Sequence):
        raise TypeError(
            f"bars expected labels to be a list of strings, got {type(labels).__name__}"
        )
    figure = _figure(title, x_label, y_label).update_layout(
        barmode="group",
        showlegend=len(groups) > 1,
        # under the plot, not beside it (on a phone the labels take half the width)
        # nor above it (a title broken in two on a phone would run into it); at the
        # figure's foot, so that a tall figure leaves no gap above it
        legend={
            "orientation": "h",
            "x": 0,
            "y": 0,
            "yref": "container",
            "yanchor": "bottom",
        },
        margin={"b": 110},
    )
    for name, values in groups.items():
        lengths = _array(values, ("rows",), "bars", f"group {name!r}")
        if len(lengths) != len(labels):
            raise ValueError(
                f"bars got {len(lengths)} values in group {name!r} for {len(labels)} labels: give one per label"
            )
        figure.add_bar(
            x=lengths, y=list(range(len(labels))), orientation="h", name=name,
            hovertemplate=f"%{{x:.3g}}<extra>{name}</extra>",
        )  # fmt: skip
    _label_ticks(figure, "y", range(len(labels)), labels)
    figure.update_yaxes(autorange="reversed")
    rows = len(labels) * len(groups)
    figure.update_layout(height=max(FIGURE_HEIGHT_PX, 160 + TICK_LABEL_PX * rows))
    return figure


def graph(
    nodes: Mapping[str, tuple[float, float]],
    edges: Sequence[tuple[str, str, float | None]],
    *,
    title: str,
    x_label: str,
    y_label: str,
) -> go.Figure:
    """A circuit as nodes and arrows: ``nodes[name]`` is the node's ``(x, y)``; each edge
    ``(source, target, weight)`` is an arrow as thick as its weight, labelled with it.

    Weights share one scale (the share of an effect a path carries, say): the largest is
    drawn 8 px wide. A weight of None draws a thin unlabelled arrow: a path that is
    there, not measured (one cited from a paper).
    """
    if not isinstance(nodes, Mapping) or not nodes:
        raise TypeError(
            "graph expected nodes to be a non-empty dict {name: (x, y)}, "
            f"got {type(nodes).__name__}"
        )
    for source, target, _ in edges:
        for end in (source, target):
            if end not in nodes:
                raise ValueError(
                    f"graph got an edge {source!r} -> {target!r}, but {end!r} is not a node"
                )
    figure = _figure(title, x_label, y_label).update_layout(showlegend=False)
    weights = [abs(weight) for *_, weight in edges if weight is not None]
    widest = max(weights, default=0.0) or 1.0
    # arrowsize scales the head with the line: a thin line gets a larger factor, so that
    # every head shows its direction
    for source, target, weight in edges:
        (x0, y0), (x1, y1) = nodes[source], nodes[target]
        width = 1.5 if weight is None else max(1.0, 8 * abs(weight) / widest)
        figure.add_annotation(
            x=x1, y=y1, ax=x0, ay=y0, xref="x", yref="y", axref="x", ayref="y",
            showarrow=True, arrowhead=2, arrowsize=max(0.6, 3 / width), arrowwidth=width,
            standoff=10, startstandoff=10, arrowcolor="#7a8090",
        )  # fmt: skip
        if weight is not None:
            figure.add_annotation(
                x=(x0 + x1) / 2, y=(y0 + y1) / 2, text=f"{weight:+.2f}",
                showarrow=False, bgcolor="rgba(127, 127, 127, 0.3)",
            )  # fmt: skip
    xs, ys = zip(*nodes.values())
    figure.add_scatter(
        x=list(xs), y=list(ys), text=list(nodes), mode="markers+text",
        textposition="middle right", hoverinfo="text", marker={"size": 12},
    )  # fmt: skip
    # room right of the last column for its labels, which would otherwise be cut off
    figure.update_xaxes(
        showgrid=False, zeroline=False, showticklabels=False,
        range=[min(xs) - 0.3, max(xs) + 1.5],
    )  # fmt: skip
    return figure


class CircuitsVisView:
    """A CircuitsVis component with its props; a notebook displays it as HTML.

    On the site it calls the CircuitsVis bundle the page loads once; elsewhere (Colab, Jupyter) it
    imports the installed version's bundle from unpkg.
    """

    component = ""  # the component's name in CircuitsVis, set by each kind of view
    element_prefix = ""  # the start of its elements' ids

    def props(self) -> dict:
        raise NotImplementedError

    def props_json(self) -> str:
        """The component's props as JSON that cannot end a ``<script>``: ``<``, ``>``, ``&`` are escaped."""
        text = json.dumps(self.props(), allow_nan=False)
        return (
            text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        )

    def _repr_html_(self) -> str:
        return self.html(for_site=_site.in_notebook)

    def html(self, *, for_site: bool) -> str:
        """The view's element and script: for the site (its served bundle) or standalone (the bundle from unpkg)."""
        props = self.props_json()
        number = next(_element_numbers)
        element_id = (
            f"mi-course-{self.element_prefix}-"
            + hashlib.sha256(f"{number}:{props}".encode()).hexdigest()[:16]
        )
        if for_site:
            script = f'<script>CircuitsVis.render("{element_id}", CircuitsVis.{self.component}, {props});</script>'
        else:
            bundle = f"https://unpkg.com/circuitsvis@{version('circuitsvis')}/dist/cdn/esm.js"
            script = (
                f'<script type="module">import {{ render, {self.component} }} from "{bundle}";\n'
                f'render("{element_id}", {self.component}, {props});</script>'
            )
        return f'<div id="{element_id}" class="{CIRCUITSVIS_DIV_CLASS}" style="margin: 15px 0;"></div>\n{script}'


@dataclass(frozen=True)
class AttentionView(CircuitsVisView):
    """CircuitsVis' ``AttentionPatterns`` for some heads on some tokens."""

    tokens: list[str]
    patterns: list[list[list[float]]]  # (heads, query, key)
    head_names: list[str]
    component, element_prefix = "AttentionPatterns", "attention"

    def props(self) -> dict:
        return {
            "tokens": self.tokens,
            "attention": self.patterns,
            "headLabels": self.head_names,
        }

    def __repr__(self) -> str:
        heads = len(self.head_names)
        return f"attention patterns: {heads} head{'s' * (heads != 1)} ({', '.join(self.head_names)}) over {len(self.tokens)} tokens"


@dataclass(frozen=True)
class TokenActivationsView(CircuitsVisView):
    """CircuitsVis' ``ColoredTokens``: text whose tokens are shaded by a value, such as a latent's activation."""

    tokens: list[str]
    values: list[float]
    title: str
    component, element_prefix = "ColoredTokens", "tokens"

    def props(self) -> dict:
        return {"tokens": self.tokens, "values": self.values}

    def __repr__(self) -> str:
        return f"token activations: {self.title}, {len(self.tokens)} tokens, largest {max(self.values):.2f}"


def attention_patterns(
    tokens: Sequence[str], patterns: Values, head_names: Sequence[str] | None = None
) -> AttentionView:
    """An interactive view of attention ``patterns`` of shape ``(heads, query, key)`` over ``tokens``."""
    array = _array(
        patterns, ("heads", "query", "key"), "attention_patterns", "patterns"
    )
    heads, n = array.shape[0], len(tokens)
    if array.shape != (heads, n, n):
        raise ValueError(
            f"attention_patterns expected patterns of shape (heads, {n}, {n}) for {n} tokens, got {array.shape}"
        )
    if isinstance(tokens, str) or not isinstance(tokens, Sequence):
        raise TypeError(
            f"attention_patterns expected tokens to be a list of strings, got {type(tokens).__name__}"
        )
    names = (
        [str(head) for head in range(heads)] if head_names is None else list(head_names)
    )
    if len(names) != heads:
        raise ValueError(
            f"attention_patterns got {len(names)} head names for {heads} heads: give one per head"
        )
    return AttentionView(
        list(tokens), np.round(array, PATTERN_DECIMALS).tolist(), names
    )


def token_activations(
    tokens: Sequence[str], values: Values, *, title: str
) -> TokenActivationsView:
    """A view of ``tokens`` shaded by ``values`` (one per token), such as an SAE latent's activations."""
    array = _array(values, ("tokens",), "token_activations", "values")
    if isinstance(tokens, str) or not isinstance(tokens, Sequence):
        raise TypeError(
            f"token_activations expected tokens to be a list of strings, got {type(tokens).__name__}"
        )
    if len(array) != len(tokens):
        raise ValueError(
            f"token_activations expected one value per token, got {len(array)} values for {len(tokens)} tokens"
        )
    if not isinstance(title, str) or not title:
        raise ValueError(f"token_activations expected a non-empty title, got {title!r}")
    return TokenActivationsView(
        list(tokens), np.round(array, PATTERN_DECIMALS).tolist(), title
    )


def show(item: go.Figure | CircuitsVisView) -> None:
    """Display a figure or attention view: inline in a notebook, a summary line in a script.

    A script (``python file.py``) prints ``describe(item)`` and never opens a browser; when a sink
    is installed (``send_figures_to``, as a snippet's test run does), it also hands it the figure's
    page HTML, for the site to place under the snippet. In a site build (``draw_for_site``), a
    notebook displays the page's HTML.
    """
    _check_item(item, "show")
    if _in_notebook() and _site.in_notebook:
        from IPython.display import HTML, display

        display(HTML(_page_html(item)) if isinstance(item, go.Figure) else item)
    elif _in_notebook():
        from IPython.display import display

        if isinstance(item, go.Figure):
            item.show()
        else:
            display(item)
    else:
        if _site.sink is not None:
            _site.sink(
                _page_html(item)
                if isinstance(item, go.Figure)
                else item.html(for_site=True)
            )
        print(describe(item))


def describe(item: go.Figure | CircuitsVisView) -> str:
    """One line saying what a figure or view shows, e.g. ``figure "Loss": 2 traces (train, test)``."""
    if isinstance(_check_item(item, "describe"), CircuitsVisView):
        return repr(item)
    names = [trace.name or trace.type for trace in item.data]
    return f'figure "{item.layout.title.text}": {len(names)} trace{"s" * (len(names) != 1)} ({", ".join(names)})'


def _check_item(item: object, function: str) -> go.Figure | CircuitsVisView:
    if not isinstance(item, (go.Figure, CircuitsVisView)):
        raise TypeError(
            f"{function} expected a plotly Figure or a CircuitsVis view (from mi_course.plotting), got {type(item).__name__}"
        )
    return item


def _page_html(figure: go.Figure) -> str:
    """The figure as a fragment of a page that loads plotly.js itself: a sized div and its plot call."""
    # The id hashes the figure, not just its number: a page shows figures from several processes
    # (each snippet's run counts from 1), and two elements with one id would draw into one.
    content = f"{next(_element_numbers)}:{figure.to_json()}"
    return figure.to_html(
        full_html=False,
        include_plotlyjs=False,
        default_height=FIGURE_HEIGHT_PX,
        div_id="mi-course-figure-" + hashlib.sha256(content.encode()).hexdigest()[:16],
        config={"responsive": True},
    )


def _in_notebook() -> bool:
    """Whether this runs in a Jupyter or Colab kernel (a terminal IPython would open a browser)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and hasattr(shell, "kernel")


def _label_ticks(
    figure: go.Figure, axis: str, positions: Sequence[float], labels: Sequence[str]
) -> None:
    """Write ``labels[i]`` at ``positions[i]`` on ``axis``; many labels get a smaller font, so they do not overlap."""
    figure.update_layout(
        {
            f"{axis}axis": {
                "tickmode": "array",
                "tickvals": [float(position) for position in positions],
                "ticktext": list(labels),
                "tickangle": 0,
                "tickfont": {"size": 10 if len(labels) > MANY_TICKS else 12},
            }
        }
    )


def _figure(title: str, x_label: str, y_label: str) -> go.Figure:
    return go.Figure().update_layout(
        title=title, xaxis_title=x_label, yaxis_title=y_label
    )


def _array(
    values: Values, dims: tuple[str, ...], function: str, what: str | None = None
) -> np.ndarray:
    """``values`` as a float32 array with ``len(dims)`` dimensions, or a ValueError naming the shape wanted.

    float32, not float64: Plotly embeds arrays as binary, so this halves a figure's weight in a page.
    """
    of = f" for {what}" if what else ""
    if isinstance(values, Tensor):
        if values.is_complex():
            raise TypeError(
                f"{function} expected real numbers{of}, got a {values.dtype} tensor"
            )
        array = values.detach().cpu().float().numpy()
    else:
        try:
            array = np.asarray(values, dtype=np.float32)
        except (
            TypeError,
            ValueError,
        ) as error:  # strings, ragged lists, objects: say what was expected
            raise TypeError(
                f"{function} expected a {len(dims)}-D tensor ({', '.join(dims)}) of numbers{of}, "
                f"got a {type(values).__name__} numpy cannot read as one ({str(error).splitlines()[0]})"
            ) from None
    if array.ndim != len(dims):
        raise ValueError(
            f"{function} expected a {len(dims)}-D tensor ({', '.join(dims)}){of}, got shape {tuple(array.shape)}"
        )
    return array
