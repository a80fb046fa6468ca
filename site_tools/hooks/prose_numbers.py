"""MkDocs hook: numbers in a page's prose are quoted from where a run produced them, never retyped.

A page writes such a number as a macro, which the build replaces with the number:

- ``{{ printed("step3/ablation.py", "mean-ablated", after="shakespeare-char:") }}`` quotes the number
  that follows the text ``mean-ablated`` in the expected-output block of ``snippets/step3/ablation.py``,
  on the first line holding that text from the line holding ``after`` on (without ``after``, the text
  must sit on one line only); ``nth=2`` quotes the second number after the text, a table's second column. The tests compare that block with the snippet's run, and
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

from site_tools.quotes import card_field, literal_keywords, output_of, printed

DOCS_DIR = Path(__file__).resolve().parents[2] / "docs"  # this hook lives in site_tools/hooks
MACRO = re.compile(r"\{\{\s*(?P<name>\w+)\((?P<args>(?s:.*?))\)\s*\}\}")  # may wrap across lines
CODE_SPAN = r"(?P<code>(?<!`)(?P<ticks>`{1,2})(?!`).+?(?<!`)(?P=ticks)(?!`))"  # shows a macro as written
MACRO_OR_CODE_SPAN = re.compile(f"{CODE_SPAN}|{MACRO.pattern}")


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
            assert isinstance(call, ast.Call), f"{macro[0]} is not one call"
            args = [ast.literal_eval(arg) for arg in call.args]
            options = literal_keywords(call)
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
