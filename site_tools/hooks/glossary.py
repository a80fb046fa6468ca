"""MkDocs hook: the glossary, defined once in ``docs/glossary.yml``, shown on hover wherever a term appears.

Every page's HTML, notebook pages included, gets each occurrence of a term (or one of its
``forms``) wrapped in ``<abbr title="definition">``, which Material shows as a tooltip. Text in
code, links, headings, scripts and other such elements is left alone. The glossary page lists every
term where it holds ``<!-- glossary -->``.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

import yaml  # type: ignore[import-untyped]  # PyYAML has no type hints; types-PyYAML is not installed

GLOSSARY_FILE = "glossary.yml"  # in docs_dir
PLACEHOLDER = "<!-- glossary -->"
# Elements whose text is never annotated: code, links, headings, existing abbreviations, controls.
SKIPPED = {
    "a",
    "abbr",
    "button",
    "code",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "kbd",
    "label",
    "pre",
    "select",
    "svg",
    "textarea",
    "title",
    "dt",
}
# Raw-text elements are taken whole, so a "<" inside a script is never read as a tag.
PIECES = re.compile(r"(<script\b.*?</script\s*>|<style\b.*?</style\s*>|<!--.*?-->|<[^>]*>)", re.DOTALL | re.IGNORECASE)
TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)[^>]*?(/?)>", re.DOTALL)


@dataclass(frozen=True)
class Entry:
    term: str
    definition: str
    forms: tuple[str, ...] = ()

    @property
    def anchor(self) -> str:
        return "term-" + re.sub(r"[^a-z0-9]+", "-", self.term.lower()).strip("-")


def load_glossary(path: Path) -> list[Entry]:
    """The entries of a glossary file, checked: each needs a term and a definition, and no form may repeat."""
    entries = [
        Entry(item["term"], item["definition"], tuple(item.get("forms", ())))
        for item in yaml.safe_load(path.read_text(encoding="utf-8"))
    ]
    seen: set[str] = set()
    for entry in entries:
        for form in (entry.term, *entry.forms):
            if not form.strip() or not entry.definition.strip():
                raise ValueError(f"{path.name}: {entry.term!r} needs a term and a definition")
            if form.lower() in seen:
                raise ValueError(f"{path.name}: {form!r} is defined twice")
            seen.add(form.lower())
    return entries


def annotate(page_html: str, entries: list[Entry]) -> str:
    """Wrap each glossary term in ``page_html``'s text in an ``<abbr>`` holding its definition."""
    definitions = {form.lower(): entry.definition for entry in entries for form in (entry.term, *entry.forms)}
    longest_first = sorted(definitions, key=len, reverse=True)
    terms = re.compile(
        r"(?<![\w-])(" + "|".join(re.escape(form) for form in longest_first) + r")(?![\w-])", re.IGNORECASE
    )

    def wrap(match: re.Match) -> str:
        return f'<abbr title="{html.escape(definitions[match[1].lower()])}">{match[1]}</abbr>'

    pieces = PIECES.split(page_html)
    open_skipped: list[str] = []  # the skipped elements open here, innermost last
    for index, piece in enumerate(pieces):
        if index % 2 == 0:
            if piece and not open_skipped:
                pieces[index] = terms.sub(wrap, piece)
            continue
        tag = TAG.fullmatch(piece)
        if tag is None or tag[2].lower() not in SKIPPED or tag[3]:
            continue
        if tag[1]:
            if tag[2].lower() in open_skipped:
                del open_skipped[len(open_skipped) - 1 - open_skipped[::-1].index(tag[2].lower())]
        else:
            open_skipped.append(tag[2].lower())
    return "".join(pieces)


def definition_list(entries: list[Entry]) -> str:
    """The glossary page's list: each term with an anchor, its other forms, and its definition."""
    items = []
    for entry in sorted(entries, key=lambda entry: entry.term.lower()):
        forms = f" <small>(also: {', '.join(html.escape(form) for form in entry.forms)})</small>" if entry.forms else ""
        items.append(
            f'<dt id="{entry.anchor}">{html.escape(entry.term)}{forms}</dt><dd>{html.escape(entry.definition)}</dd>'
        )
    return '<dl class="glossary">' + "".join(items) + "</dl>"


_entries: list[Entry] = []


def on_config(config):
    _entries[:] = load_glossary(Path(config["docs_dir"]) / GLOSSARY_FILE)
    return config


def on_page_markdown(markdown, page, config, files):
    return markdown.replace(PLACEHOLDER, definition_list(_entries))


def on_page_content(page_html, page, config, files):
    return annotate(page_html, _entries)
