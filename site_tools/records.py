"""What the test runs leave for the site and for later runs, in the folder that mkdocs.yml's ``extra.snippet_measurements`` names.

- ``snippets.json``: each snippet's CPU time, peak memory and device from its last passing test run, with
  the sha256 of the script it ran; the site's badges show it only for that script
  (``site_tools/hooks/snippet_links.py``).
- ``figures.json``: the HTML of each figure a snippet showed in that run; the site places it under the
  snippet instead of running the snippet again.
- ``notebook-prints.json``: what each snippet printed as a cell of its page's notebook
  (``tests/test_page_notebooks.py``), keyed by its script and kernel settings, for the determinism
  check (``tests/determinism.py``).
- ``notebooks/<page>.ipynb``: each notebook page as its test executed it, for the site to render.

The tests write these records (``tests/docs_plugin.py``); the build hooks read them.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import time
from functools import cache
from pathlib import Path

import yaml

MEASUREMENTS_FILE, FIGURES_FILE, NOTEBOOK_PRINTS_FILE = "snippets.json", "figures.json", "notebook-prints.json"


def package_sha256() -> str:
    """The digest of the installed package a run imports: its code and its models' cards (which hold their sha256)."""
    spec = importlib.util.find_spec("mi_course")  # found, not imported: importing it would load torch
    if spec is None or spec.origin is None:
        raise FileNotFoundError("mi_course is not installed")
    package = Path(spec.origin).parent
    digest = hashlib.sha256()
    for part in sorted([*package.rglob("*.py"), *package.glob("weights/*/card.json")]):
        digest.update(part.relative_to(package).as_posix().encode() + b"\0" + part.read_bytes())
    return digest.hexdigest()


@cache
def measurements_folder(rootpath: Path) -> Path:
    """The folder of mkdocs.yml's ``extra.snippet_measurements``, shared by the site's hooks and the tests."""
    extra = yaml.safe_load((rootpath / "mkdocs.yml").read_text(encoding="utf-8"))["extra"]
    return (rootpath / extra["snippet_measurements"]).parent


def script_sha256(script: str) -> str:
    return hashlib.sha256(script.encode("utf-8")).hexdigest()


def update(rootpath: Path, name: str, key: str, value: dict) -> None:
    path = measurements_folder(rootpath) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    known = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    known[key] = value
    path.write_text(json.dumps(dict(sorted(known.items())), indent=1) + "\n", encoding="utf-8")


def record_run(rootpath: Path, snippet: str, script: str, cpu_s: float, wall_s: float, peak_mib: float, figures: list[str]) -> None:
    """Keep a passing run's cost and figures as ``snippet``'s, for this script."""
    from mi_course.runtime import device_description

    sha256 = script_sha256(script)
    update(rootpath, MEASUREMENTS_FILE, snippet, {
        "cpu_s": round(cpu_s, 1), "wall_s": round(wall_s, 1), "peak_mib": round(peak_mib),
        "device": device_description(), "measured_on": time.strftime("%Y-%m-%d"), "sha256": sha256,
    })
    update(rootpath, FIGURES_FILE, snippet, {"sha256": sha256, "figures": figures})


def recorded(rootpath: Path, name: str, snippet: str, script: str) -> dict | None:
    """The record in ``name`` of ``snippet``'s last passing run, if that run was of ``script``."""
    path = measurements_folder(rootpath) / name
    record = json.loads(path.read_text(encoding="utf-8")).get(snippet) if path.is_file() else None
    return record if record and record.get("sha256") == script_sha256(script) else None


def executed_notebook_path(rootpath: Path, notebook_page: Path) -> Path:
    """Where a notebook page's executed copy is kept: under the records folder, by its path under docs/."""
    return measurements_folder(rootpath) / "notebooks" / notebook_page.resolve().relative_to(rootpath.resolve() / "docs")
