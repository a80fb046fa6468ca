"""MkDocs hook: numbers in a page's prose are quoted from where a run produced them, never retyped.

A page writes such a number as a macro, which the build replaces with the number:

- ``{{ printed("step3/ablation.py", "mean-ablated", after="shakespeare-char:") }}`` quotes the number
  that follows the text ``mean-ablated`` in the expected-output block of ``snippets/step3/ablation.py``,
  on the first line holding that text from the line holding ``after`` on (without ``after``, the text
  must sit on one line only). The tests compare that block with the snippet's run, and
  ``--update-outputs`` rewrites it, so the prose follows the run. The block is looked for on the page
  first, then on the other pages.
- ``{{ card("shakespeare-char", "metrics.held_out_loss_nats_per_char") }}`` quotes a field of a shipped
  model's card (a dotted path; list items by index), which ``python -m mi_course train`` writes.

``round=N`` rounds to N decimals, or with N below 0 to tens, hundreds..., for "about" phrasing;
without it a printed number is quoted as printed. A macro naming a missing snippet, block, line or
field fails the build. Macros expand in prose and in code blocks (a text block showing a command's
output is prose too), but not in inline code, which shows one as written. ``page_notebooks.py``
expands the same macros in the pages' notebooks.
"""

from __future__ import annotations

import ast
import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from mkdocs.exceptions import PluginError

from site_tools.pages import Fence, parse

DOCS_DIR = Path(__file__).resolve().parents[2] / "docs"  # this hook lives in site_tools/hooks
MACRO = re.compile(r"\{\{\s*(?P<name>\w+)\((?P<args>(?s:.*?))\)\s*\}\}")  # may wrap across lines
CODE_SPAN = r"(?P<code>(?<!`)(?P<ticks>`{1,2})(?!`).+?(?<!`)(?P=ticks)(?!`))"  # shows a macro as written
MACRO_OR_CODE_SPAN = re.compile(f"{CODE_SPAN}|{MACRO.pattern}")
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def expected_outputs(markdown: str) -> dict[str, str]:
    """The expected-output block of each snippet a page includes: snippet path -> the block's text."""
    return {name: fence.shown_output for fence in parse(markdown.split("\n")) if isinstance(fence, Fence)
            and fence.is_include_block and fence.shown_output is not None for name in fence.includes}


def output_of(snippet: str, markdown: str, docs_dir: Path) -> str:
    """The expected-output block of ``snippet``: on this page if it is there, else on the page that has it."""
    if snippet in (here := expected_outputs(markdown)):
        return here[snippet]
    for page in sorted(docs_dir.rglob("*.md")):
        if snippet in (there := expected_outputs(page.read_text(encoding="utf-8"))):
            return there[snippet]
    raise ValueError(f"no page shows an expected-output block for snippets/{snippet}")


def printed(output: str, text: str, after: str | None = None) -> str:
    """The number that follows ``text`` in ``output``, on the first line holding it from ``after``'s line on."""
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
    number = NUMBER.search(line, line.index(text) + len(text))
    if number is None:
        raise ValueError(f"no number follows {text!r} on the line {line.strip()!r}")
    return number[0]


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


def formatted(number: str | int | float, decimals: int | None) -> str:
    """``number`` as prose shows it: as given, or rounded half up to ``decimals``, with thousands separators."""
    if decimals is None:
        return number if isinstance(number, str) else f"{number:,}"
    value = Decimal(str(number)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return f"{value:,.{max(decimals, 0)}f}"


def expand_numbers(markdown: str, page: str, docs_dir: Path = DOCS_DIR) -> str:
    """Replace every macro of ``markdown`` (the page ``page``, for messages) with its number."""

    def expand(macro: re.Match) -> str:
        if macro["code"]:
            return macro[0]
        try:
            call = ast.parse(f"f({macro['args']})", mode="eval").body
            args = [ast.literal_eval(arg) for arg in call.args]
            options = {keyword.arg: ast.literal_eval(keyword.value) for keyword in call.keywords}
            decimals = options.pop("round", None)
            if macro["name"] == "printed":
                snippet, *selection = args
                number: str | int | float = printed(output_of(snippet, markdown, docs_dir), *selection, **options)
            elif macro["name"] == "card":
                number = card_field(*args, **options)
            else:
                raise ValueError("unknown macro; the macros are printed(...) and card(...)")
            return formatted(number, decimals)
        except (SyntaxError, ValueError, TypeError) as error:
            raise PluginError(f"{page}: {macro[0]}: {error}") from None

    return MACRO_OR_CODE_SPAN.sub(expand, markdown)


def on_page_markdown(markdown, page, config, files):
    return expand_numbers(markdown, page.file.src_uri, Path(config["docs_dir"]))
