"""mi_course.checkers.plotly: the checker of Step 3's Plotly exercise passes the reference and mi_course.plotting's figures, and rejects plausible mistakes."""

import contextlib
import inspect
import io
from pathlib import Path

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import pytest

from mi_course import CheckerInputError, plotly_exercises, plotting
from mi_course.checkers.plotly import check_plotly_figures
from site_tools.pages import SECTION_MARKER, Snippet

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = {
    "loss_curves": plotly_exercises.loss_curves,
    "head_scatter": plotly_exercises.head_scatter,
    "attention_heatmap": plotly_exercises.attention_heatmap,
}


def check(**replaced):
    return check_plotly_figures(**{**REFERENCE, **replaced})


def test_the_reference_passes_with_one_line_per_function():
    report = check()
    assert report.passed, str(report)
    assert [result.name for result in report.results] == list(REFERENCE)
    assert str(report) == str(check())  # seeded


def test_figures_from_mi_course_plotting_pass_too():
    report = check(
        loss_curves=lambda losses: plotting.line(losses, title="Loss", x_label="step", y_label="loss"),
        head_scatter=lambda x, y, labels: plotting.scatter(
            x, y, hover=labels, title="Heads", x_label="previous", y_label="induction"
        ),
        attention_heatmap=lambda pattern, tokens: plotting.imshow(
            pattern, title="Pattern", x_label="key", y_label="query", x_ticks=tokens, y_ticks=tokens, diverging=False
        ),
    )
    assert report.passed, str(report)


def titled(figure, x="step", y="loss"):
    return figure.update_layout(title="A title", xaxis_title=x, yaxis_title=y)


def ticks(figure, tokens):
    positions = list(range(len(tokens)))
    return figure.update_layout(
        xaxis={"tickmode": "array", "tickvals": positions, "ticktext": tokens},
        yaxis={"tickmode": "array", "tickvals": positions, "ticktext": tokens},
    )


EQUIVALENT = {  # other right answers: px instead of go, or go instead of px
    "loss_curves": lambda losses: px.line(
        pd.DataFrame(losses), title="Loss", labels={"index": "step", "value": "loss", "variable": "curve"}
    ),
    "head_scatter": lambda x, y, labels: titled(
        go.Figure(go.Scatter(x=x, y=y, text=labels, mode="markers")), "previous", "induction"
    ),
    "attention_heatmap": lambda pattern, tokens: ticks(
        px.imshow(pattern, zmin=0, zmax=1, title="Pattern", labels={"x": "key", "y": "query"}), tokens
    ),
}


@pytest.mark.parametrize("name", EQUIVALENT)
def test_other_right_answers_pass(name):
    report = check(**{name: EQUIVALENT[name]})
    assert report.passed, str(report)


MISTAKES = [
    (
        "loss_curves",
        lambda losses: titled(go.Figure(go.Scatter(y=sum(losses.values(), []), mode="lines"))),
        "curves are in one trace",
    ),
    (
        "loss_curves",
        lambda losses: titled(go.Figure([go.Scatter(y=v, mode="lines") for v in losses.values()])),
        "name each trace after its key",
    ),
    (
        "loss_curves",
        lambda losses: plotly_exercises.loss_curves(losses).update_layout(xaxis_title=None),
        "label the x axis",
    ),
    (
        "loss_curves",
        lambda losses: plotly_exercises.loss_curves(losses).update_layout(yaxis_title=""),
        "label the y axis",
    ),
    (
        "loss_curves",
        lambda losses: plotly_exercises.loss_curves(losses).update_layout(title=None),
        "give the figure a title",
    ),
    (
        "loss_curves",
        lambda losses: px.line(pd.DataFrame(losses), title="Loss"),
        "the x axis is called 'index', plotly.express's default",
    ),
    (
        "loss_curves",
        lambda losses: titled(go.Figure([go.Scatter(x=v, name=k) for k, v in losses.items()])),
        "has its losses on the x axis",
    ),
    (
        "loss_curves",
        lambda losses: plotly_exercises.loss_curves(losses).update_layout(showlegend=False),
        "show the legend",
    ),
    (
        "loss_curves",
        lambda losses: titled(go.Figure([go.Bar(y=v, name=k) for k, v in losses.items()])),
        "not a bar trace",
    ),
    ("head_scatter", lambda x, y, labels: plotly_exercises.head_scatter(y, x, labels), "x and y are swapped"),
    (
        "head_scatter",
        lambda x, y, labels: px.scatter(x=x, y=y, title="Heads", labels={"x": "previous", "y": "induction"}),
        "name each point after its head",
    ),
    (
        "head_scatter",
        lambda x, y, labels: plotly_exercises.head_scatter(x, y, labels[::-1]),
        "each point should carry its own label",
    ),
    (
        "head_scatter",
        lambda x, y, labels: px.scatter(x=x, y=y, hover_name=labels, title="Heads"),
        "the x axis is called 'x'",
    ),
    ("head_scatter", lambda x, y, labels: titled(go.Figure(go.Scatter(x=x, y=y, text=labels))), "draw markers only"),
    (
        "attention_heatmap",
        lambda pattern, tokens: plotly_exercises.attention_heatmap(pattern.T, tokens),
        "the heatmap is transposed",
    ),
    (
        "attention_heatmap",
        lambda pattern, tokens: px.imshow(
            pattern, x=tokens, y=tokens, zmin=0, title="P", labels={"x": "key", "y": "query"}
        ),
        "the repeated token ' the' is one column",
    ),
    (
        "attention_heatmap",
        lambda pattern, tokens: ticks(px.imshow(pattern, title="P", labels={"x": "key", "y": "query"}), tokens),
        "start the colour scale at 0",
    ),
    (
        "attention_heatmap",
        lambda pattern, tokens: ticks(titled(go.Figure(go.Heatmap(z=pattern, colorscale="RdBu", zmid=0))), tokens),
        "not one centred on a middle value",
    ),
    (
        "attention_heatmap",
        lambda pattern, tokens: ticks(titled(go.Figure(go.Heatmap(z=pattern, colorscale="RdBu", zmin=0))), tokens),
        "use a sequential colour scale, light to dark",
    ),
    (
        "attention_heatmap",
        lambda pattern, tokens: ticks(titled(go.Figure(go.Heatmap(z=pattern, zmin=0, zmax=pattern.max() / 2))), tokens),
        "every weight above it gets the same colour",
    ),
    (
        "attention_heatmap",
        lambda pattern, tokens: titled(go.Figure(go.Heatmap(z=pattern, zmin=0))),
        "label each key (column) with its token",
    ),
    (
        "attention_heatmap",
        lambda pattern, tokens: plotly_exercises.attention_heatmap(pattern, tokens).update_layout(yaxis_ticktext=None),
        "label each query (row) with its token",
    ),
    (
        "attention_heatmap",
        lambda pattern, tokens: plotly_exercises.attention_heatmap(pattern, tokens).update_layout(title=""),
        "give the figure a title",
    ),
]


@pytest.mark.parametrize("name, wrong, hint", MISTAKES, ids=[hint for _, _, hint in MISTAKES])
def test_plausible_mistakes_fail_with_a_hint(name, wrong, hint):
    report = check(**{name: wrong})
    failed = [result for result in report.results if not result.passed]
    assert [result.name for result in failed] == [name], str(report)
    assert hint in failed[0].measured, str(report)


@pytest.mark.parametrize(
    "replaced, message",
    [
        (
            {"loss_curves": lambda losses: plotly_exercises.loss_curves(losses).to_dict()},
            "loss_curves should return a plotly Figure .*got dict: return the Figure itself, not figure.to_dict()",
        ),
        (
            {"head_scatter": lambda x, y, labels: None},
            r"head_scatter should return a plotly Figure, got None: return the figure \(fig.show\(\) returns None\)",
        ),
        ({"attention_heatmap": "imshow"}, "check_plotly_figures expected your attention_heatmap function, got str"),
        ({"loss_curves": lambda losses: losses["val"]}, "loss_curves raised KeyError: 'val'"),
    ],
)
def test_what_the_checker_cannot_check_is_one_line(replaced, message):
    with pytest.raises(CheckerInputError, match=message) as raised:
        check(**replaced)
    assert "\n" not in str(raised.value)


def run_snippet(name):
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(Snippet(name, ROOT).script, name, "exec"), {"__name__": "__main__"})
    return printed.getvalue().splitlines()


def test_the_stub_prints_one_line_and_the_solution_shows_the_reference():
    assert run_snippet("step3/plotly_stub.py") == ["loss_curves raised NotImplementedError: fill in loss_curves"]
    solution = Snippet("step3/plotly_solution.py", ROOT)
    assert solution.includes == [
        f"mi_course/plotly_exercises.py:{section}" for section in ("loss-curves", "head-scatter", "attention-heatmap")
    ]
    for function in REFERENCE.values():
        shown = "\n".join(
            line
            for line in inspect.getsource(function).split("\n")
            if not line.startswith("@") and not SECTION_MARKER.match(line)
        )
        assert shown in solution.script
    printed = run_snippet("step3/plotly_solution.py")
    assert [line.split(":")[0] for line in printed[:3]] == [
        "[step3] PASS  loss_curves",
        "[step3] PASS  head_scatter",
        "[step3] PASS  attention_heatmap",
    ]
    assert printed[3:] == [
        'figure "Loss during training": 2 traces (train, test)',
        'figure "Previous-token and induction scores of each head": 1 trace (scatter)',
        'figure "Attention pattern": 1 trace (heatmap)',
    ]
