"""The determinism check: a snippet prints the same numbers run alone and as a cell of its page's notebook.

Both runs leave a record (``site_tools/runs.py``): the page test one run alone, the notebook test
one per snippet cell. Whichever comes second compares itself with the other, if that one has the
same key (source, package and kernel settings); a snippet without such a pair is reported as not
checked at the end of the session. Test order does not matter, nor do parallel test processes: the
comparison and the save hold a lock on the store, so of two runs finishing at once one sees the other.
"""

from __future__ import annotations

import contextlib
import fcntl
import re
from collections.abc import Iterator
from pathlib import Path

from site_tools import runs
from site_tools.claims import masked

FIGURE_SUMMARY = re.compile(
    r'^(figure ".*": \d+ traces? \(.*\)|attention patterns: .*|token activations: .*)$', re.MULTILINE
)  # show() in a script
COUNTERPART = {runs.ALONE: runs.NOTEBOOK, runs.NOTEBOOK: runs.ALONE}
WHERE = {runs.ALONE: "alone", runs.NOTEBOOK: "in the notebook"}


def comparable_prints(output: str) -> list[str]:
    """Printed lines as the determinism check compares them: durations masked, figure summaries dropped."""
    return [line for line in masked(FIGURE_SUMMARY.sub("", output), mask_durations=True).splitlines() if line.strip()]


def first_difference(alone: str, in_notebook: str) -> str | None:
    """The first line whose numbers differ between two runs of a snippet, or None if they print the same."""
    ours, theirs = comparable_prints(alone), comparable_prints(in_notebook)
    for number, (line, other) in enumerate(zip(ours, theirs), start=1):
        if line != other:
            return f"line {number}: {line!r} alone, {other!r} in the notebook"
    if len(ours) != len(theirs):
        return f"{len(ours)} lines alone, {len(theirs)} in the notebook"
    return None


def counterpart(rootpath: Path, record: runs.RunRecord) -> runs.RunRecord | None:
    """The other context's run of the same snippet under the same key, if there is one."""
    other = runs.last(rootpath, COUNTERPART[record.context], record.name)
    return other if other is not None and other.key == record.key else None


def difference(rootpath: Path, record: runs.RunRecord) -> str | None:
    """How ``record`` differs from its counterpart, or None if they agree or it has none yet."""
    other = counterpart(rootpath, record)
    if other is None:
        return None
    alone, in_notebook = (record, other) if record.context == runs.ALONE else (other, record)
    return first_difference(alone.stdout, in_notebook.stdout)


def keep(rootpath: Path, record: runs.RunRecord) -> str | None:
    """Keep a snippet's run record if it prints what its run of the same key in the other context printed;
    otherwise keep nothing (so that no later session reuses it) and say how they differ."""
    with _store_locked(rootpath):
        if (change := difference(rootpath, record)) is not None:
            return (
                f"snippets/{record.name} is not deterministic: it printed different numbers alone and in its "
                f"page's notebook, {change}"
            )
        runs.save(rootpath, record)
    return None


@contextlib.contextmanager
def _store_locked(rootpath: Path) -> Iterator[None]:
    """Hold the run store's lock: one test process at a time compares and keeps a record."""
    folder = runs.store(rootpath)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".determinism.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def not_checked(rootpath: Path, start: float) -> list[str]:
    """The snippets run since ``start`` (a session's start) that have no run of the same key in the other context."""
    fresh = {record.name for context in COUNTERPART for record in runs.since(rootpath, context, start)}
    return sorted(
        name
        for name in fresh
        if (alone := runs.last(rootpath, runs.ALONE, name)) is None or counterpart(rootpath, alone) is None
    )
