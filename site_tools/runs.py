"""The run record: one per run of a snippet or a notebook page, in one store that the tests write and the site reads.

A test that runs code keeps what the run gave (``RunRecord``): what it printed, the figures it
showed, its cost and device, and the key it ran under (``RunKey``: the digest of its source, of the
``mi_course`` it imported, and the kernel settings and libraries). The store is the folder that
mkdocs.yml's ``extra.run_records`` names, one JSON file per record: ``<context>/<name>.json``. A
snippet has two contexts: run alone, as a learner runs a file (``ALONE``), and as a cell of its
page's generated notebook (``NOTEBOOK``). A notebook page's run is kept as ``PAGE``, with the
executed notebook the site renders; a Markdown page's generated notebook, run whole, as ``COLAB``;
a console claim's ``python -m mi_course`` command as ``COMMAND``.

Readers take a record only for the source as it is now (``current``); a missing or stale one is
named with the command that makes it (``missing``). Nothing reuses an old run silently: the tests
reuse a run only under its very key, and say so.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import json
import os
import time
from dataclasses import asdict, dataclass, field
from functools import cache
from importlib.metadata import version
from pathlib import Path

import yaml  # type: ignore[import-untyped]  # PyYAML has no type hints; types-PyYAML is not installed

ALONE, NOTEBOOK, PAGE, COLAB, COMMAND = "alone", "notebook", "page", "colab", "command"
DOCUMENTED = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)  # what can start with a docstring
# A hub snippet offline runs on its shipped twin when this is set (mi_course.zoo.HUB_TWINS_SWITCH).
TWINS_VARIABLE = "MI_COURSE_HUB_TWINS"
# What a run's numbers depend on besides its code: the device (mi_course.runtime.DEVICE_ENV_VAR), the
# CPU kernels, whether a hub model is its twin, and the libraries' versions.
KERNEL_VARIABLES = ("MI_COURSE_DEVICE", "ATEN_CPU_CAPABILITY", "MKL_ENABLE_INSTRUCTIONS", TWINS_VARIABLE)
LIBRARIES = ("torch", "transformer-lens", "transformers", "numpy", "nnsight")


def digest(source: str | bytes) -> str:
    """The one digest of a source: a snippet's script, a console command, a notebook's text.

    Python source is digested as a program (``program_text``), so that reformatting it or editing its
    comments keeps its recordings and runs; any other text, and bytes, as they are.
    """
    data = program_text(source) if isinstance(source, str) else source
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()[:16]


def program_text(source: str) -> str:
    """What a Python source computes, without its layout: the dump of its syntax tree (comments and
    line breaks gone, adjacent strings joined), docstrings' whitespace evened out, as a formatter or a
    rewrap leaves it; ``source`` itself if it is not Python."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, DOCUMENTED) and body and isinstance(first := body[0], ast.Expr):
            if isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                first.value.value = " ".join(first.value.value.split())
    return ast.dump(tree)


@cache
def package_digest() -> str:
    """The digest of the installed package a run imports: its code and its models' cards (which hold their sha256).

    Taken once a process: a test session does not edit the package it tests.
    """
    spec = importlib.util.find_spec("mi_course")  # found, not imported: importing it would load torch
    if spec is None or spec.origin is None:
        raise FileNotFoundError("mi_course is not installed")
    package = Path(spec.origin).parent
    parts = sorted([*package.rglob("*.py"), *package.glob("weights/*/card.json")])
    return digest(b"".join(part.relative_to(package).as_posix().encode() + b"\0" + part.read_bytes() for part in parts))


def kernel_environment(env: dict[str, str] | None = None) -> str:
    """The kernel settings of ``env`` (this process's environment by default) and the libraries' versions, as a key part."""
    values = os.environ if env is None else env
    return " ".join([*(f"{name}={values.get(name, '')}" for name in KERNEL_VARIABLES), library_versions()])


@cache
def library_versions() -> str:
    return " ".join(f"{name}=={version(name)}" for name in LIBRARIES)


@dataclass(frozen=True)
class RunKey:
    """What a run's output is a function of: its source, the package it imported, its kernel settings."""

    source: str  # digest(source)
    package: str
    environment: str

    @classmethod
    def of(cls, source: str | bytes, env: dict[str, str] | None = None) -> RunKey:
        return cls(digest(source), package_digest(), kernel_environment(env))


@dataclass(frozen=True)
class RunRecord:
    """One run of a snippet (alone or as a notebook cell) or of a notebook page."""

    name: str  # a snippet's path under snippets/, or a notebook page's under docs/
    context: str  # ALONE, NOTEBOOK, PAGE, COLAB or COMMAND
    key: RunKey
    stdout: str
    figures: tuple[str, ...] = ()  # the page HTML of each figure it showed
    cpu_s: float | None = None  # its cost, when measured (a run alone)
    wall_s: float | None = None
    peak_mib: float | None = None
    device: str = ""
    finished_at: float = field(default_factory=time.time)
    notebook: str | None = None  # a notebook page's executed notebook, for the site to render

    @property
    def measured_on(self) -> str:
        return time.strftime("%Y-%m-%d", time.gmtime(self.finished_at))


@cache
def store(rootpath: Path) -> Path:
    """The store's folder, which mkdocs.yml's ``extra.run_records`` names."""
    extra = yaml.safe_load((rootpath / "mkdocs.yml").read_text(encoding="utf-8"))["extra"]
    return rootpath / extra["run_records"]


def _path(rootpath: Path, context: str, name: str) -> Path:
    return store(rootpath) / context / f"{name}.json"


def save(rootpath: Path, record: RunRecord) -> None:
    """Keep ``record`` as the last run of its name in its context."""
    path = _path(rootpath, record.context, record.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    fields = asdict(record) | {"figures": list(record.figures)}
    path.write_text(json.dumps(fields, indent=1) + "\n", encoding="utf-8")


def last(rootpath: Path, context: str, name: str) -> RunRecord | None:
    """The last run of ``name`` in ``context``, whatever its key."""
    path = _path(rootpath, context, name)
    if not path.is_file():
        return None
    fields = json.loads(path.read_text(encoding="utf-8"))
    return RunRecord(**fields | {"key": RunKey(**fields["key"]), "figures": tuple(fields["figures"])})


def names(rootpath: Path, context: str) -> list[str]:
    """The names that have a run in ``context``."""
    folder = store(rootpath) / context
    return sorted(path.relative_to(folder).as_posix().removesuffix(".json") for path in folder.rglob("*.json"))


def since(rootpath: Path, context: str, start: float) -> list[RunRecord]:
    """The runs of ``context`` that finished at ``start`` or later (a test session's, say)."""
    records = (last(rootpath, context, name) for name in names(rootpath, context))
    return [record for record in records if record is not None and record.finished_at >= start]


def current(
    rootpath: Path,
    context: str,
    name: str,
    source: str | bytes,
    *,
    same_kernels: bool = False,
    env: dict[str, str] | None = None,
) -> RunRecord | None:
    """The last run of ``name`` in ``context`` if it ran ``source`` on the package as it is now, else None.

    ``same_kernels`` also asks for the kernel settings of ``env`` (this process's environment by
    default; the determinism check compares runs of one key); the site shows a run whatever kernels made it.
    """
    record = last(rootpath, context, name)
    if record is None:
        return None
    wanted = RunKey.of(source, env)
    same = record.key.source == wanted.source and record.key.package == wanted.package
    return record if same and (not same_kernels or record.key.environment == wanted.environment) else None


def missing(name: str, context: str, command: str) -> str:
    """Why a reader has no run of ``name`` to show, and the command that makes one."""
    kind = "notebook run" if context == NOTEBOOK else "run"
    return f"no {kind} of {name} as it is now (missing, stale or from another key): {command} makes one"
