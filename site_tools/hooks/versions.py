"""MkDocs hook: the footer of every page names the versions the site was built and tested with.

The build reads them from the installed packages, so the line cannot go stale: the published
site is built right after its snippets pass with these versions (.github/workflows/publish.yml).
"""

from __future__ import annotations

import platform
from datetime import date
from importlib.metadata import version

VERIFIED_PACKAGES = {
    "torch": "torch",
    "TransformerLens": "transformer-lens",
    "plotly": "plotly",
    "MkDocs Material": "mkdocs-material",
}


def verified_with() -> str:
    """E.g. ``Verified on 2026-11-27 with Python 3.11.7, torch 2.13.0, TransformerLens 4.3.0, ...``."""
    packages = ", ".join(f"{label} {version(package).split('+')[0]}" for label, package in VERIFIED_PACKAGES.items())
    return f"Verified on {date.today().isoformat()} with Python {platform.python_version()}, {packages}"


def on_config(config):
    config["copyright"] = verified_with()
    return config
