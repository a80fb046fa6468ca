"""MkDocs hook: success criteria a learner ticks off, kept in the browser, and a page that shows them all.

The criteria come from one source, ``mi_course.checkers.STEP_CHECKS``. A step's page marks where its
checklist goes with ``<!-- progress: STEP -->``; the progress page holds ``<!-- progress: all -->``.
Every step must have exactly one page, so a new step cannot be left without its checklist.
``docs/javascripts/progress.js`` keeps the ticks in ``localStorage`` and counts them.
"""

from __future__ import annotations

import html
import posixpath
import re

from mkdocs.exceptions import PluginError

from mi_course.checkers import STEP_CHECKS

PLACEHOLDER = re.compile(r"^(?P<indent>[ \t]*)<!-- progress: (?P<step>[\w-]+) -->[ \t]*$", re.MULTILINE)
ALL_STEPS = "all"

_step_pages: dict[str, str] = {}  # step -> source path of the page that holds its checklist


def checklist(step: str) -> str:
    """A step's criteria as checkboxes keyed ``STEP:INDEX``, with a line that counts the ticks."""
    check = STEP_CHECKS[step]
    items = "".join(
        f'<li><label><input type="checkbox" data-progress-key="{step}:{index}"> {html.escape(criterion)}</label></li>'
        for index, criterion in enumerate(check.criteria)
    )
    command = f"python -m mi_course check {step} --file my_{step}.py"
    automated = (
        " Where an exercise gives you a stub, the stub calls its checker, so running it tells you when it passes; from a shell,"
        f" <code>{command}</code> runs your file and checks every exercise it defines."
        if check.automated
        else ""
    )
    return (
        f'<div class="progress" data-progress-step="{step}"><p class="progress-summary"></p>'
        f'<ul class="progress-list">{items}</ul>'
        f"<p><small>Ticks stay in this browser only.{automated}</small></p></div>"
    )


def on_files(files, config):
    _step_pages.clear()
    for file in files.documentation_pages():
        if not file.src_uri.endswith(".md"):
            continue
        for match in PLACEHOLDER.finditer(file.content_string):
            step = match["step"]
            if step == ALL_STEPS:
                continue
            if step not in STEP_CHECKS:
                raise PluginError(f"{file.src_uri}: no step {step!r} in STEP_CHECKS (steps: {', '.join(STEP_CHECKS)})")
            if step in _step_pages:
                raise PluginError(f"{step}'s checklist is on both {_step_pages[step]} and {file.src_uri}")
            _step_pages[step] = file.src_uri
    missing = [step for step in STEP_CHECKS if step not in _step_pages]
    if missing:
        raise PluginError(
            f"no page holds the checklist of {', '.join(missing)}: add <!-- progress: STEP --> to its page"
        )
    return files


def on_page_markdown(markdown, page, config, files):
    here = posixpath.dirname(page.file.src_uri)

    def render(match: re.Match) -> str:
        if match["step"] != ALL_STEPS:
            return match["indent"] + checklist(match["step"])
        sections = [
            f"## [{STEP_CHECKS[step].title}]({posixpath.relpath(_step_pages[step], here or '.')})\n\n{checklist(step)}"
            for step in STEP_CHECKS
        ]
        return '<p class="progress-summary progress-total"></p>\n\n' + "\n\n".join(sections)

    return PLACEHOLDER.sub(render, markdown)
