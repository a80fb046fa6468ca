"""Numbers quoted from what the course printed: a snippet's output shown on a page, a notebook cell's, or a shipped model's card.

The prose macros (``site_tools/hooks/prose_numbers.py``) and the prose claims
(``site_tools/prose_claims.py``) read numbers through these functions, so both quote alike. A claim
on a Markdown page names a snippet (``printed("step3/ablation.py", ...)``); one in a notebook page
names a code cell of that notebook by its cell id (``printed("cell:ablation", ...)``).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from site_tools.claims import NUMBER
from site_tools.pages import Fence, parse

CELL_QUOTE = "cell:"  # printed("cell:ID", ...) in a notebook page quotes its code cell of that id


def expected_outputs(markdown: str) -> dict[str, str]:
    """The expected-output block of each snippet a page includes: snippet path -> the block's text."""
    return {
        name: fence.shown_output
        for fence in parse(markdown.split("\n"))
        if isinstance(fence, Fence) and fence.is_include_block and fence.shown_output is not None
        for name in fence.includes
    }


def output_of(snippet: str, markdown: str, docs_dir: Path) -> str:
    """The expected-output block of ``snippet``: on this page if it is there, else on the page that has it."""
    if snippet in (here := expected_outputs(markdown)):
        return here[snippet]
    for page in sorted(docs_dir.rglob("*.md")):
        if snippet in (there := expected_outputs(page.read_text(encoding="utf-8"))):
            return there[snippet]
    raise ValueError(f"no page shows an expected-output block for snippets/{snippet}")


def cell_output(name: str, notebook: dict) -> str:
    """What code cell ``name`` (``"cell:ID"``) of an executed ``notebook``, as nbformat reads it, printed."""
    if not name.startswith(CELL_QUOTE):
        raise ValueError(
            f"{name!r}: a notebook's claim quotes one of its code cells, as {CELL_QUOTE}ID (the cell's id)"
        )
    cell_id = name.removeprefix(CELL_QUOTE)
    cells = [cell for cell in notebook["cells"] if cell["cell_type"] == "code" and cell.get("id") == cell_id]
    if len(cells) != 1:
        raise ValueError(f"{len(cells) or 'no'} code cells of the notebook have the id {cell_id!r}")
    return cell_printed(cells[0])


def cell_printed(cell: dict) -> str:
    """What a run code cell printed to stdout."""
    return "".join(
        out.get("text", "")
        for out in cell.get("outputs", [])
        if out.get("output_type") == "stream" and out.get("name") == "stdout"
    )


def printed(output: str, text: str, after: str | None = None, nth: int = 1) -> str:
    """The ``nth`` number that follows ``text`` in ``output``, on the first line holding it from ``after``'s line on.

    ``nth`` picks a column of a table: ``nth=2`` is the second number after the row's label.
    """
    lines = output.split("\n")
    if after is not None:
        starts = [number for number, line in enumerate(lines) if after in line]
        if len(starts) != 1:
            raise ValueError(f"after={after!r} must sit on exactly one line of the output, not {len(starts)}")
        lines = lines[starts[0] :]
    holding = [line for line in lines if text in line]
    if not holding:
        where = "" if after is None else f" from the line holding {after!r} on"
        raise ValueError(f"no line of the output holds {text!r}{where}")
    if after is None and len(holding) > 1:
        raise ValueError(f"{len(holding)} lines of the output hold {text!r}; say which with after=")
    line = holding[0]
    numbers = NUMBER.findall(line[line.index(text) + len(text) :])
    if not isinstance(nth, int) or nth < 1:
        raise ValueError(f"nth={nth!r}: expected a positive integer, 1 for the first number after the text")
    if len(numbers) < nth:
        what = "no number follows" if not numbers else f"only {len(numbers)} numbers follow"
        raise ValueError(f"{what} {text!r} on the line {line.strip()!r}")
    return numbers[nth - 1]


def literal_keywords(call: ast.Call) -> dict[str, Any]:
    """The keyword arguments of a macro's or a claim's ``call``, each written out as a literal (else ``ValueError``).

    A ``**mapping`` fails with the ``TypeError`` that calling a function with it would raise.
    """
    options: dict[str, Any] = {}
    for keyword in call.keywords:
        value = ast.literal_eval(keyword.value)
        if keyword.arg is None:  # a **mapping
            raise TypeError("keywords must be strings")
        options[keyword.arg] = value
    return options


def card_field(name: str, field: str) -> int | float:
    """The number at the dotted path ``field`` of shipped model ``name``'s card."""
    from mi_course.zoo import UnknownModelError, model_card  # imports TransformerLens: only for pages that quote a card

    try:
        value = model_card(name).__dict__
    except UnknownModelError as error:
        raise ValueError(str(error)) from None
    for key in field.split("."):
        try:
            value = value[int(key)] if isinstance(value, list) else value[key]
        except (KeyError, IndexError, ValueError, TypeError):
            raise ValueError(f"the card of {name} has no field {field!r} (no {key!r})") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{field!r} of the card of {name} is {value!r}, not a number")
    return value
