"""Numbers in the pages' prose are quoted from runs, never retyped (site_tools/hooks/prose_numbers.py).

The macros expand on synthetic pages, a broken reference fails the build, and a lint reads every
page's prose (Markdown text, text blocks the tests do not compare with a run, notebooks' markdown
cells): a decimal there that repeats, exactly or rounded, a number of the page's checked output or
a result recorded in the card of a model the page names must be a macro, so that a rerun cannot
leave it behind.
"""

from __future__ import annotations

import json
import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from mkdocs.exceptions import PluginError

from site_tools import quotes
from site_tools.hooks import page_notebooks, prose_numbers
from site_tools.pages import INCLUDE_LINE, Prose, parse

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def page_as_built(page: Path) -> str:
    """A Markdown page's text with its number macros expanded, as the site and its notebook show it."""
    return prose_numbers.expand_numbers(page.read_text(encoding="utf-8"), page.relative_to(DOCS).as_posix(), DOCS)


# ---- the macros ----------------------------------------------------------------------------------

SYNTHETIC = """# A page

The clean loss is {{ printed("demo/loss.py", "clean") }} nats, about {{ printed("demo/loss.py", "clean", round=1) }};
ablated, {{ printed("demo/loss.py", "ablated",
after="model b:") }} for model b.

```python
--8<-- "demo/loss.py"
```

<!--pytest-codeblocks:expected-output-->
```text
model a: clean 1.7748 nats
  ablated 4.377
model b:
  ablated 3.595
```
"""


def expand(page: str, docs_dir: Path = DOCS) -> str:
    return prose_numbers.expand_numbers(page, "demo/page.md", docs_dir)


def test_printed_quotes_the_number_after_the_text_as_printed_or_rounded():
    expanded = expand(SYNTHETIC)
    assert "The clean loss is 1.7748 nats, about 1.8;\nablated, 3.595 for model b." in expanded
    assert "{{" not in expanded


def test_printed_picks_a_column_of_a_table_with_nth():
    table = "            first copy  repeat\n  clean          4.588   0.099\n  zeroed         4.641   4.377"
    assert [quotes.printed(table, "zeroed", nth=nth) for nth in (1, 2)] == ["4.641", "4.377"]
    with pytest.raises(ValueError, match="only 2 numbers follow 'clean'"):
        quotes.printed(table, "clean", nth=3)


def test_inline_code_shows_a_macro_as_written_and_a_text_block_expands_it():
    macro = '{{ printed("demo/loss.py", "clean") }}'
    page = f"{SYNTHETIC}\nWrite `{macro}`.\n\n```text\nclean {macro}\n```\n"
    assert expand(page).endswith('Write `{{ printed("demo/loss.py", "clean") }}`.\n\n```text\nclean 1.7748\n```\n')


def test_printed_finds_a_block_on_another_page(tmp_path):
    (tmp_path / "other.md").write_text(SYNTHETIC)
    assert expand(
        'As [the other page](other.md) shows, {{ printed("demo/loss.py", "clean", round=2) }}.', tmp_path
    ) == ("As [the other page](other.md) shows, 1.77.")


@pytest.mark.parametrize(
    ("field", "decimals"),
    [
        ("metrics.held_out_loss_nats_per_char", None),
        ("training.seconds", -1),
        ("training.induction_phase.steps", None),
        ("metrics.induction_scores_len13.2.1", 2),
    ],
)
def test_card_quotes_a_field_of_a_shipped_card(field, decimals):
    from mi_course import model_card

    value = model_card("shakespeare-char").__dict__
    for key in field.split("."):
        value = value[int(key)] if isinstance(value, list) else value[key]
    option = "" if decimals is None else f", round={decimals}"
    assert expand(f'{{{{ card("shakespeare-char", "{field}"{option}) }}}}') == prose_numbers.formatted(value, decimals)


@pytest.mark.parametrize(
    ("number", "decimals", "shown"),
    [
        ("0.099", 1, "0.1"),
        ("4.450", 1, "4.5"),
        ("-1.27", 1, "-1.3"),
        (252.5, -1, "250"),
        (1410, -2, "1,400"),
        (130.6, 0, "131"),
        (1500, None, "1,500"),
        ("98.08", None, "98.08"),
    ],
)
def test_rounding_is_half_up_with_thousands_separators(number, decimals, shown):
    assert prose_numbers.formatted(number, decimals) == shown


@pytest.mark.parametrize(
    ("macro", "message"),
    [
        ('printed("demo/missing.py", "clean")', "no page shows an expected-output block for snippets/demo/missing.py"),
        ('printed("demo/loss.py", "corrupted")', "no line of the output holds 'corrupted'"),
        ('printed("demo/loss.py", "ablated")', "2 lines of the output hold 'ablated'; say which with after="),
        ('printed("demo/loss.py", "clean", after="model c:")', "after='model c:' must sit on exactly one line"),
        ('printed("demo/loss.py", "model b")', "no number follows 'model b'"),
        ('card("no-such-model", "metrics.loss")', "no shipped model 'no-such-model'"),
        ('card("shakespeare-char", "metrics.no_such_metric")', "has no field 'metrics.no_such_metric'"),
        ('card("shakespeare-char", "metrics.induction_heads")', "is ['2.3', '2.1', '2.0', '2.2'], not a number"),
        ('printed("demo/loss.py", "clean", rounding=1)', "unexpected keyword argument 'rounding'"),
        ('printed("demo/loss.py", clean)', "malformed node"),
        ('quoted("demo/loss.py", "clean")', "unknown macro"),
    ],
)
def test_a_broken_reference_fails_the_build_and_says_what_is_wrong(macro, message):
    with pytest.raises(PluginError, match=re.escape(message)) as failure:
        expand(SYNTHETIC + f"\nAnd {{{{ {macro} }}}}.\n")
    assert str(failure.value).startswith(f"demo/page.md: {{{{ {macro} }}}}:")


def test_the_generated_notebook_shows_the_expanded_numbers(tmp_path):
    snippets = tmp_path / "snippets"
    (snippets / "demo").mkdir(parents=True)
    (snippets / "colab-install.txt").write_text((ROOT / "snippets" / "colab-install.txt").read_text())
    (snippets / "demo" / "loss.py").write_text('print("model a: clean 1.7748 nats")\n')
    notebook = page_notebooks.page_notebook(SYNTHETIC, snippets.parent, "demo/page.md")
    prose = "\n".join(cell["source"] for cell in notebook["cells"] if cell["cell_type"] == "markdown")
    assert "The clean loss is 1.7748 nats, about 1.8;\nablated, 3.595 for model b." in prose


# ---- the lint: no page retypes a number that a run produced ---------------------------------------

PROSE_ASIDE = re.compile(r"`+[^`]*`+|<!--.*?-->|\[[^\]]*\]\([^)]*\)|https?://\S+", re.DOTALL)  # code, comments, links
DECIMAL = re.compile(r"(?<![\w.])\d+\.\d+(?!\.?\d|\w)")
CARD_INPUTS = {"recipe", "induction_phase", "changed_from_the_paper", "history"}  # what a training run was given


def prose_and_checked(markdown: str) -> tuple[str, list[str]]:
    """What a reader reads as prose, and the blocks the tests compare with a run.

    Checked: expected-output blocks, and console blocks of a ``python -m mi_course`` command. Prose:
    the rest, text blocks included, without python code, code spans, comments, links and macros.
    """
    kept, checked = [], []
    for part in parse(markdown.split("\n")):
        if isinstance(part, Prose):
            kept += part.lines
        elif part.is_output or part.course_command is not None:
            checked.append("\n".join(part.body))
        elif part.info != "python":  # a text block: a command and what it printed, or an example
            kept += [line for line in part.body if not INCLUDE_LINE.match(line)]
    return PROSE_ASIDE.sub(" ", prose_numbers.MACRO.sub(" ", "\n".join(kept))), checked


def card_results(name: str) -> list[str]:
    """The numbers a training run measured, as the card of model ``name`` records them (not what it was given)."""
    from mi_course import model_card

    def numbers(value) -> list[str]:
        if isinstance(value, dict):
            return [number for key, item in value.items() if key not in CARD_INPUTS for number in numbers(item)]
        if isinstance(value, list):
            return [number for item in value for number in numbers(item)]
        return [str(value)] if isinstance(value, (int, float)) and not isinstance(value, bool) else []

    card = model_card(name)
    return numbers({"training": card.training, "metrics": card.metrics})


def repeats(shown: str, source: str) -> bool:
    """Whether prose that shows ``shown`` repeats ``source``: the same number, or it rounded (to 2 digits or more)."""
    shown_value, source_value = Decimal(shown), abs(Decimal(source))
    if shown_value == source_value:
        return True
    digits, places = shown_value.as_tuple().digits, -shown_value.as_tuple().exponent
    return (
        len(digits) >= 2
        and -source_value.as_tuple().exponent > places
        and source_value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP) == shown_value
    )


def retyped_numbers(page: Path) -> list[str]:
    """Each decimal in ``page``'s prose that repeats a number of its expected output or of a card it names."""
    from mi_course.zoo import HUB_MODELS, list_models

    text = page.read_text(encoding="utf-8")
    if page.suffix == ".ipynb":  # committed without outputs: the build prints them
        text = "\n".join(
            "".join(cell["source"]) for cell in json.loads(text)["cells"] if cell["cell_type"] == "markdown"
        )
    prose, checked = prose_and_checked(text)
    sources = [number.lstrip("-") for output in checked for number in quotes.NUMBER.findall(output)]
    sources += [
        number for name in list_models() if name in text and name not in HUB_MODELS for number in card_results(name)
    ]
    found = []
    for line in prose.split("\n"):
        for shown in DECIMAL.findall(line):
            matches = sorted({source for source in sources if repeats(shown, source)})
            if matches:
                found.append(f"{shown} (repeats {', '.join(matches)}) in: {line.strip()}")
    return found


PAGES = sorted(
    page
    for page in [*DOCS.rglob("*.md"), *DOCS.rglob("*.ipynb")]
    if not any(part.startswith(".") for part in page.relative_to(DOCS).parts)
)


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(DOCS).as_posix())
def test_no_page_retypes_a_number_that_a_run_produced(page):
    retyped = retyped_numbers(page)
    assert not retyped, (
        f"{page.relative_to(ROOT)} retypes numbers a run produced; quote them with "
        "{{ printed(snippet, text) }} or {{ card(model, field) }} (site_tools/hooks/prose_numbers.py):\n"
        + "\n".join(retyped)
    )


@pytest.mark.parametrize("planted", ["1.7748", "1.77", "3.6"])
def test_the_lint_catches_a_planted_repeat(tmp_path, planted):
    page = tmp_path / "page.md"
    page.write_text(SYNTHETIC + f"\nSo the loss was {planted} nats, and head 0.5 at temperature 0.8 did it.\n")
    assert retyped_numbers(page) == [
        f"{planted} (repeats {'3.595' if planted == '3.6' else '1.7748'}) in: "
        f"So the loss was {planted} nats, and head 0.5 at temperature 0.8 did it."
    ]


def test_the_lint_reads_text_blocks_but_not_code_nor_what_the_tests_compare_with_a_run(tmp_path):
    page = tmp_path / "page.md"
    checked_command = "```console\n$ python -m mi_course check demo\nclean 2.25\n```"
    other_command = "```console\n$ demo\nclean 1.7748\n```"
    page.write_text(
        f"{SYNTHETIC}\n{checked_command}\n\n{other_command}\n\n```python\nprint(1.7748, 2.25)\n```\n\nSo 2.25.\n"
    )
    assert retyped_numbers(page) == ["1.7748 (repeats 1.7748) in: clean 1.7748", "2.25 (repeats 2.25) in: So 2.25."]


def test_the_lint_catches_a_number_planted_on_a_real_page(tmp_path):
    page = tmp_path / "concrete-problem.md"
    real = (DOCS / "paths" / "concrete-problem.md").read_text(encoding="utf-8")
    page.write_text(real + "\nThe clean loss, 1.79 nats, barely moves.\n")
    assert retyped_numbers(page) == ["1.79 (repeats 1.785, 1.791) in: The clean loss, 1.79 nats, barely moves."]
