"""mi_course.plotting: labelled figures, shape errors that say what was wanted, and inert attention views."""

import itertools
import json
import re
from html.parser import HTMLParser

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from mi_course import plotting
from mi_course.plotting import attention_patterns, bars, describe, graph, imshow, line, scatter, show
from tests.bad_input import FAST, Bad, assert_refused, bad_input_params, shared_kit

LABELS = {"title": "Loss curves", "x_label": "step", "y_label": "loss (nats)"}
HOSTILE_TOKENS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "</script><script>alert(2)</script>",
    "&lt;b&gt; & \u2028 '\\",
]
PROPS = re.compile(r"AttentionPatterns, (\{.*\})\);</script>$", re.DOTALL)


def test_line_draws_one_named_trace_per_curve_with_title_and_axis_labels():
    figure = line({"train": [3.0, 2.0, 1.5], "test": torch.tensor([3.0, 2.5, 2.2])}, x=[10, 20, 30], **LABELS)
    assert [trace.name for trace in figure.data] == ["train", "test"]
    assert all(trace.mode == "lines" for trace in figure.data)
    assert list(figure.data[1].y) == pytest.approx([3.0, 2.5, 2.2])
    assert list(figure.data[0].x) == [10, 20, 30]
    assert figure.layout.title.text == "Loss curves"
    assert (figure.layout.xaxis.title.text, figure.layout.yaxis.title.text) == ("step", "loss (nats)")
    assert figure.layout.showlegend is True  # a single curve keeps its label too


def test_line_rejects_a_curve_that_is_not_1d_and_a_mismatched_x():
    with pytest.raises(
        ValueError, match=re.escape("line expected a 1-D tensor (points) for curve 'train', got shape (2, 3)")
    ):
        line({"train": torch.zeros(2, 3)}, **LABELS)
    with pytest.raises(ValueError, match="line got 2 x values but 3 points in curve 'train'"):
        line({"train": [1.0, 2.0, 3.0]}, x=[0, 1], **LABELS)


def test_scatter_labels_axes_and_names_points_on_hover():
    figure = scatter(
        torch.tensor([0.1, 0.9]), [0.8, 0.2], hover=["2.1", "0.3"], title="Heads", x_label="prev", y_label="induction"
    )
    (trace,) = figure.data
    assert (trace.type, trace.mode, list(trace.text)) == ("scatter", "markers", ["2.1", "0.3"])
    assert (figure.layout.title.text, figure.layout.xaxis.title.text, figure.layout.yaxis.title.text) == (
        "Heads",
        "prev",
        "induction",
    )
    assert figure.layout.yaxis.scaleanchor is None, "each axis fills the frame unless asked"
    with pytest.raises(ValueError, match="scatter got 1 hover labels for 2 points"):
        scatter([0, 1], [0, 1], hover=["a"], title="t", x_label="x", y_label="y")


def test_scatter_on_the_same_scale_draws_a_unit_of_y_as_long_as_a_unit_of_x():
    figure = scatter([0, 1], [0, 10], same_scale=True, title="t", x_label="x", y_label="y")
    assert (figure.layout.yaxis.scaleanchor, figure.layout.yaxis.scaleratio) == ("x", 1)
    with pytest.raises(ValueError, match=re.escape("scatter expected a 1-D tensor (points) for y, got shape (2, 1)")):
        scatter([0, 1], [[0], [1]], title="t", x_label="x", y_label="y")


def test_imshow_centres_a_diverging_scale_on_zero_and_keeps_a_column_per_repeated_token():
    tokens = ["BOS", "a", "b", "a", "b"]  # "a" and "b" twice: Plotly would merge equal category names
    figure = imshow(torch.rand(5, 5), x_ticks=tokens, y_ticks=tokens, title="Head 2.1", x_label="key", y_label="query")
    (heatmap,) = figure.data
    assert heatmap.zmid == 0 and heatmap.colorscale == go.Heatmap(colorscale="RdBu").colorscale
    assert len(heatmap.z) == 5 and len(heatmap.z[0]) == 5
    for axis in (figure.layout.xaxis, figure.layout.yaxis):
        assert list(axis.tickvals) == [0, 1, 2, 3, 4] and list(axis.ticktext) == tokens
    assert figure.layout.yaxis.autorange == "reversed"  # row 0 on top, as a matrix is written
    assert (figure.layout.title.text, figure.layout.xaxis.title.text, figure.layout.yaxis.title.text) == (
        "Head 2.1",
        "key",
        "query",
    )


def test_imshow_gives_each_row_of_many_labels_its_height_and_a_smaller_font():
    labels = [f"t{i}" for i in range(42)]
    figure = imshow(torch.rand(42, 42), x_ticks=labels, y_ticks=labels, title="t", x_label="key", y_label="query")
    assert figure.layout.height >= 14 * 42 and figure.layout.yaxis.tickfont.size < 12
    assert imshow(torch.rand(3, 3), title="t", x_label="x", y_label="y").layout.height is None


def test_line_labels_each_point_under_the_x_axis():
    figure = line({"loss": [0.5, 0.2, 0.1]}, x_ticks=["a", "b", "a"], **LABELS)
    assert list(figure.layout.xaxis.tickvals) == [0, 1, 2] and list(figure.layout.xaxis.ticktext) == ["a", "b", "a"]
    with pytest.raises(ValueError, match="line got 2 x_ticks for 3 points: give one label per point"):
        line({"loss": [0.5, 0.2, 0.1]}, x_ticks=["a", "b"], **LABELS)


def test_graph_draws_each_edge_as_thick_as_its_weight_and_a_cited_one_thin_and_unlabelled():
    nodes = {"0.2": (2, 0), "1.3": (3, 1), "logits": (1.5, 2)}
    figure = graph(nodes, [("0.2", "logits", 0.4), ("1.3", "logits", 0.2), ("0.2", "1.3", None)], **LABELS)
    arrows = [note for note in figure.layout.annotations if note.showarrow]
    labels = [note.text for note in figure.layout.annotations if not note.showarrow]
    assert [(arrow.ax, arrow.ay, arrow.x, arrow.y) for arrow in arrows] == [
        (2, 0, 1.5, 2),
        (3, 1, 1.5, 2),
        (2, 0, 3, 1),
    ]
    assert [arrow.arrowwidth for arrow in arrows] == [8, 4, 1.5] and labels == ["+0.40", "+0.20"]
    assert [arrow.arrowsize * arrow.arrowwidth for arrow in arrows] == pytest.approx([8 * 0.6, 3, 3])  # heads show
    (points,) = figure.data
    assert list(points.text) == list(nodes) and list(points.x) == [2, 3, 1.5]
    assert tuple(figure.layout.xaxis.range) == (1.2, 4.5)  # room for the labels right of the last node


def test_bars_draw_a_row_per_label_first_on_top_and_a_named_bar_per_group():
    labels = ["clean", "induction heads zeroed", "clean"]  # a repeated label keeps its own row
    figure = bars({"first copy": [4.6, 4.7, 4.6], "repeat": torch.tensor([0.9, 4.5, 0.9])}, labels=labels, **LABELS)
    assert [trace.name for trace in figure.data] == ["first copy", "repeat"]
    assert all(trace.orientation == "h" for trace in figure.data)
    assert list(figure.data[1].x) == pytest.approx([0.9, 4.5, 0.9]) and list(figure.data[1].y) == [0, 1, 2]
    assert list(figure.layout.yaxis.ticktext) == labels and figure.layout.yaxis.autorange == "reversed"
    assert figure.layout.showlegend is True and figure.layout.barmode == "group"
    legend = figure.layout.legend  # under the plot, not beside it: at the foot of the figure, below the x axis
    assert legend.orientation == "h" and (legend.yref, legend.y, legend.yanchor) == ("container", 0, "bottom")
    assert bars({"loss": [1.0]}, labels=["clean"], **LABELS).layout.showlegend is False  # one group needs no key


def test_a_small_heatmap_writes_its_values_in_its_cells_and_a_large_one_does_not():
    assert imshow(torch.rand(2, 6), **LABELS).data[0].texttemplate == "%{z:.2f}"
    assert imshow(torch.rand(17, 17), **LABELS).data[0].texttemplate is None


def test_imshow_draws_values_from_zero_up_on_a_sequential_scale_from_zero():
    heatmap = imshow(torch.rand(3, 3), title="Head 2.1", x_label="key", y_label="query", diverging=False).data[0]
    assert (
        heatmap.zmin == 0 and heatmap.zmid is None and heatmap.colorscale == go.Heatmap(colorscale="Blues").colorscale
    )


def test_imshow_says_which_shape_and_how_many_labels_it_wanted():
    with pytest.raises(
        ValueError, match=re.escape("imshow expected a 2-D tensor (rows, columns), got shape (2, 3, 4)")
    ):
        imshow(torch.zeros(2, 3, 4), title="t", x_label="x", y_label="y")
    with pytest.raises(ValueError, match="imshow got 2 y_ticks for 3 rows: give one label per row"):
        imshow(torch.zeros(3, 4), y_ticks=["a", "b"], title="t", x_label="x", y_label="y")


def test_attention_patterns_checks_the_shape_against_the_tokens():
    with pytest.raises(
        ValueError,
        match=re.escape("attention_patterns expected patterns of shape (heads, 3, 3) for 3 tokens, got (2, 4, 4)"),
    ):
        attention_patterns(["a", "b", "c"], torch.zeros(2, 4, 4))
    with pytest.raises(
        ValueError,
        match=re.escape("attention_patterns expected a 3-D tensor (heads, query, key) for patterns, got shape (3, 3)"),
    ):
        attention_patterns(["a", "b", "c"], torch.zeros(3, 3))
    with pytest.raises(ValueError, match="got 1 head names for 2 heads"):
        attention_patterns(["a", "b"], torch.zeros(2, 2, 2), head_names=["2.0"])


class TagCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)


@pytest.fixture(autouse=True)
def no_site_output():
    """Each test starts as a learner's process does: no figure sink, notebook figures for Colab."""
    yield
    plotting.send_figures_to(None)
    plotting.draw_for_site(False)


@pytest.mark.parametrize("site_build", [True, False])
def test_hostile_tokens_stay_text_and_round_trip_exactly(site_build):
    plotting.draw_for_site(site_build)
    n = len(HOSTILE_TOKENS)
    html = attention_patterns(HOSTILE_TOKENS, torch.full((1, n, n), 1 / n), head_names=["<b>0</b>"])._repr_html_()
    assert "<script>alert" not in html and "<img" not in html and "<b>" not in html
    parser = TagCollector()
    parser.feed(html)
    assert parser.tags == ["div", "script"], "a token created an element"
    props = json.loads(PROPS.search(html).group(1))
    assert props["tokens"] == HOSTILE_TOKENS and props["headLabels"] == ["<b>0</b>"]
    assert props["attention"][0][0] == [round(1 / n, plotting.PATTERN_DECIMALS)] * n


def test_attention_view_uses_the_sites_bundle_in_a_site_build_and_unpkg_elsewhere():
    view = attention_patterns(["a", "b"], torch.eye(2)[None])
    plotting.draw_for_site()
    site_html = view._repr_html_()
    assert (
        "CircuitsVis.render(" in site_html
        and "https://" not in site_html
        and 'class="mi-course-circuitsvis"' in site_html
    )
    plotting.draw_for_site(False)
    from importlib.metadata import version

    assert f'from "https://unpkg.com/circuitsvis@{version("circuitsvis")}/dist/cdn/esm.js"' in view._repr_html_()


def test_attention_view_ids_are_reproducible_and_unique_within_a_page(monkeypatch):
    view = attention_patterns(["a", "b"], torch.eye(2)[None])

    def first_two_ids():
        monkeypatch.setattr(plotting, "_element_numbers", itertools.count(1))  # a fresh kernel, as in each build
        return [re.search(r'id="([^"]+)"', view._repr_html_()).group(1) for _ in range(2)]

    ids = first_two_ids()
    assert ids == first_two_ids(), "a rebuild would change the page"
    assert ids[0] != ids[1], "two views on one page would share an element"


def test_show_prints_one_line_in_a_script(capsys):
    show(line({"train": [2.0, 1.0], "test": [2.5, 1.5]}, **LABELS))
    show(attention_patterns(["a", "b"], torch.eye(2).repeat(2, 1, 1), head_names=["2.0", "2.1"]))
    assert capsys.readouterr().out.splitlines() == [
        'figure "Loss curves": 2 traces (train, test)',
        "attention patterns: 2 heads (2.0, 2.1) over 2 tokens",
    ]
    assert describe(imshow(torch.eye(2), **LABELS)) == 'figure "Loss curves": 1 trace (heatmap)'


def test_show_emits_a_sized_figure_without_plotly_js_in_a_site_build(monkeypatch):
    shown = []
    plotting.draw_for_site()
    monkeypatch.setattr(plotting, "_in_notebook", lambda: True)
    monkeypatch.setattr("IPython.display.display", shown.append)
    show(line({"train": [2.0, 1.0]}, **LABELS))
    (html,) = [item.data for item in shown]
    assert 'class="plotly-graph-div"' in html and "Plotly.newPlot(" in html
    assert f"height:{plotting.FIGURE_HEIGHT_PX}px" in html, "a figure without a height collapses on the page"
    assert "plotly.js v" not in html and "cdn.plot.ly" not in html


def test_show_in_a_script_hands_the_page_html_to_the_installed_sink(capsys):
    """A snippet's test run installs a sink; the site places what it received, without running the snippet again."""
    figures = []
    plotting.send_figures_to(figures.append)
    show(line({"train": [2.0, 1.0]}, **LABELS))
    show(attention_patterns(["a", "b"], torch.eye(2)[None]))
    out = capsys.readouterr().out
    assert out.splitlines() == [
        'figure "Loss curves": 1 trace (train)',
        "attention patterns: 1 head (0) over 2 tokens",
    ], out
    assert len(figures) == 2
    assert 'class="plotly-graph-div"' in figures[0] and "plotly.js v" not in figures[0]
    assert "CircuitsVis.render(" in figures[1] and "https://" not in figures[1]
    plotting.send_figures_to(None)
    show(line({"train": [2.0, 1.0]}, **LABELS))
    assert len(figures) == 2, "a removed sink receives nothing"


def test_show_draws_inline_in_a_notebook(monkeypatch):
    shown = []
    monkeypatch.setattr(plotting, "_in_notebook", lambda: True)
    monkeypatch.setattr(go.Figure, "show", lambda figure: shown.append(figure))
    figure = line({"train": [2.0, 1.0]}, **LABELS)
    show(figure)
    assert shown == [figure]


BAD_INPUTS: dict[str, list[Bad]] = {
    "mi_course.plotting:line": [
        Bad(
            lambda k: plotting.line({"train": [[1, 2, 3], [4, 5, 6]]}, title="t", x_label="x", y_label="y"),
            ValueError,
            r"line expected a 1-D tensor \(points\) for curve 'train', got shape \(2, 3\)",
        ),
        Bad(
            lambda k: plotting.line([1, 2], title="t", x_label="x", y_label="y"),
            TypeError,
            r"line expected curves to be a dict \{name: values\}, got list",
        ),
        Bad(
            lambda k: plotting.line({}, title="t", x_label="x", y_label="y"),
            ValueError,
            "line expected at least one curve, got none",
        ),
        Bad(
            lambda k: plotting.line({"train": ["a", "b"]}, title="t", x_label="x", y_label="y"),
            TypeError,
            r"line expected a 1-D tensor \(points\) of numbers for curve 'train', got a list numpy cannot read as one",
        ),
        Bad(
            lambda k: plotting.line({"train": [1, 2, 3]}, x=[0, 1], title="t", x_label="x", y_label="y"),
            ValueError,
            "line got 2 x values but 3 points",
        ),
    ],
    "mi_course.plotting:bars": [
        Bad(
            lambda k: plotting.bars({"loss": [1.0, 2.0]}, labels=["clean"], title="t", x_label="x", y_label="y"),
            ValueError,
            "bars got 2 values in group 'loss' for 1 labels: give one per label",
        ),
        Bad(
            lambda k: plotting.bars([1.0], labels=["clean"], title="t", x_label="x", y_label="y"),
            TypeError,
            r"bars expected groups to be a non-empty dict \{name: values\}, got list",
        ),
        Bad(
            lambda k: plotting.bars({"loss": [1.0]}, labels="clean", title="t", x_label="x", y_label="y"),
            TypeError,
            "bars expected labels to be a list of strings, got str",
        ),
        Bad(
            lambda k: plotting.bars({"loss": [[1.0]]}, labels=["clean"], title="t", x_label="x", y_label="y"),
            ValueError,
            r"bars expected a 1-D tensor \(rows\) for group 'loss', got shape \(1, 1\)",
        ),
    ],
    "mi_course.plotting:graph": [
        Bad(
            lambda k: plotting.graph({"a": (0, 0)}, [("a", "b", 0.5)], title="t", x_label="x", y_label="y"),
            ValueError,
            "graph got an edge 'a' -> 'b', but 'b' is not a node",
        ),
        Bad(
            lambda k: plotting.graph([(0, 0)], [], title="t", x_label="x", y_label="y"),
            TypeError,
            r"graph expected nodes to be a non-empty dict \{name: \(x, y\)\}, got list",
        ),
    ],
    "mi_course.plotting:scatter": [
        Bad(
            lambda k: plotting.scatter([1], [1], same_scale="yes", title="t", x_label="x", y_label="y"),
            TypeError,
            "scatter expected same_scale to be a bool, got str",
        ),
        Bad(
            lambda k: plotting.scatter([1, 2], [[1], [2]], title="t", x_label="x", y_label="y"),
            ValueError,
            r"scatter expected a 1-D tensor \(points\) for y, got shape \(2, 1\)",
        ),
        Bad(
            lambda k: plotting.scatter([1, 2], [1], title="t", x_label="x", y_label="y"),
            ValueError,
            "scatter got 2 x values but 1 y values",
        ),
        Bad(
            lambda k: plotting.scatter([1, 2], [1, 2], hover="ab", title="t", x_label="x", y_label="y"),
            TypeError,
            "scatter expected hover to be a list of labels, one per point, got str",
        ),
        Bad(
            lambda k: plotting.scatter([[1], [2, 3]], [1, 2], title="t", x_label="x", y_label="y"),
            TypeError,
            "scatter expected .* for x, got a list numpy cannot read",
        ),
    ],
    "mi_course.plotting:imshow": [
        Bad(
            lambda k: plotting.imshow(torch.zeros(2, 3, 4), title="t", x_label="x", y_label="y"),
            ValueError,
            r"imshow expected a 2-D tensor \(rows, columns\), got shape \(2, 3, 4\)",
        ),
        Bad(
            lambda k: plotting.imshow(torch.zeros(3, 2), y_ticks=["a", "b"], title="t", x_label="x", y_label="y"),
            ValueError,
            "imshow got 2 y_ticks for 3 rows",
        ),
        Bad(
            lambda k: plotting.imshow(torch.zeros(2, 2, dtype=torch.complex64), title="t", x_label="x", y_label="y"),
            TypeError,
            "imshow expected real numbers, got a torch.complex64 tensor",
        ),
    ],
    "mi_course.plotting:attention_patterns": [
        Bad(
            lambda k: plotting.attention_patterns(["a", "b", "c"], torch.zeros(2, 4, 4)),
            ValueError,
            r"attention_patterns expected patterns of shape \(heads, 3, 3\) for 3 tokens, got \(2, 4, 4\)",
        ),
        Bad(
            lambda k: plotting.attention_patterns(["a"], torch.zeros(2, 1, 1), head_names=["0.0"]),
            ValueError,
            "got 1 head names for 2 heads",
        ),
        Bad(
            lambda k: plotting.attention_patterns("abc", torch.zeros(1, 3, 3)),
            TypeError,
            "attention_patterns expected tokens to be a list of strings, got str",
        ),
    ],
    "mi_course.plotting:token_activations": [
        Bad(
            lambda k: plotting.token_activations(["a", "b"], torch.zeros(3), title="latent 7"),
            ValueError,
            "token_activations expected one value per token, got 3 values for 2 tokens",
        ),
        Bad(
            lambda k: plotting.token_activations("ab", torch.zeros(2), title="latent 7"),
            TypeError,
            "token_activations expected tokens to be a list of strings, got str",
        ),
        Bad(
            lambda k: plotting.token_activations(["a"], torch.zeros(1), title=""),
            ValueError,
            "token_activations expected a non-empty title, got ''",
        ),
    ],
    "mi_course.plotting:show": [
        Bad(
            lambda k: plotting.show("figure"),
            TypeError,
            r"show expected a plotly Figure or a CircuitsVis view \(from mi_course.plotting\), got str",
        ),
    ],
    "mi_course.plotting:describe": [
        Bad(
            lambda k: plotting.describe(None),
            TypeError,
            "describe expected a plotly Figure or a CircuitsVis view .*got NoneType",
        ),
    ],
    "mi_course.plotting:send_figures_to": [
        Bad(
            lambda k: plotting.send_figures_to("figures.html"),
            TypeError,
            "send_figures_to expected sink to be a function of one string, or None, got str",
        ),
    ],
    "mi_course.plotting:draw_for_site": [
        Bad(lambda k: plotting.draw_for_site("1"), TypeError, "draw_for_site expected enabled to be a bool, got str"),
    ],
}
# What takes no input, or only free text, and so has no bad input to refuse.
NO_BAD_INPUT: dict[str, str] = {
    "mi_course.plotting:AttentionView": "a record that attention_patterns builds after checking its shapes",
    "mi_course.plotting:TokenActivationsView": "a record that token_activations builds after checking its shapes",
    "mi_course.plotting:CircuitsVisView": "the base of the views: a component's name and props, which each view builds",
}


@pytest.mark.parametrize("case", bad_input_params(BAD_INPUTS))
def test_bad_input_raises_a_clear_error(case, tmp_path_factory):
    assert_refused(case, shared_kit(tmp_path_factory))


def test_a_token_view_escapes_its_text_and_renders_colored_tokens():
    view = plotting.token_activations(["</script>", "&", "a"], [0.0, 1.5, 0.25], title="latent 7")
    html = view.html(for_site=True)
    assert "CircuitsVis.ColoredTokens" in html and '</script>"' not in html and "\\u003c/script\\u003e" in html
    assert repr(view) == "token activations: latent 7, 3 tokens, largest 1.50"


DTYPES = [np.float32, np.float64, np.int64, np.uint8, np.bool_]
shapes = st.lists(st.integers(0, 3), min_size=0, max_size=4).map(tuple)


@FAST
@given(shape=shapes, dtype=st.sampled_from(DTYPES), as_tensor=st.booleans())
def test_plots_refuse_any_wrong_shape_clearly(shape, dtype, as_tensor):
    array = np.zeros(shape, dtype=dtype)
    values = torch.from_numpy(array) if as_tensor else array
    labels = {"title": "t", "x_label": "x", "y_label": "y"}
    calls = {
        "line": (1, lambda: plotting.line({"curve": values}, **labels)),
        "scatter": (1, lambda: plotting.scatter(values, values, **labels)),
        "imshow": (2, lambda: plotting.imshow(values, **labels)),
    }
    for name, (ndim, call) in calls.items():
        if len(shape) == ndim:
            assert isinstance(call(), go.Figure)
        else:
            with pytest.raises(
                ValueError, match=rf"^{name} expected a {ndim}-D tensor .*got shape {re.escape(str(shape))}"
            ):
                call()


@FAST
@given(shape=shapes, n_tokens=st.integers(0, 3))
def test_attention_patterns_refuse_any_wrong_shape_clearly(shape, n_tokens):
    tokens = [f"t{i}" for i in range(n_tokens)]
    if len(shape) == 3 and shape[1:] == (n_tokens, n_tokens):
        assert isinstance(plotting.attention_patterns(tokens, torch.zeros(shape)), plotting.AttentionView)
    else:
        with pytest.raises(ValueError, match=r"^attention_patterns expected (a 3-D tensor|patterns of shape)"):
            plotting.attention_patterns(tokens, torch.zeros(shape))
