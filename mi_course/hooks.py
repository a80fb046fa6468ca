"""A check of hook names, ``check_hook_names``, that suggests the closest valid ones for a typo.

TransformerLens answers an unknown hook name with a bare ``KeyError``; the course's helpers check
names first, so a typo such as ``blocks.1.attn.hook_patern`` gets "did you mean ...". Introduced
on the page "Step 3: MI tooling".
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import TYPE_CHECKING

import torch

from mi_course import _checks

if (
    TYPE_CHECKING
):  # importing TransformerLens takes seconds; Step 1's checker should not wait for it
    from transformer_lens import TransformerBridge


class UnknownHookError(KeyError):
    """A hook name the model does not have; the message names the closest valid ones."""

    def __str__(self) -> str:  # KeyError would print the message quoted
        return str(self.args[0])


def _valid_hook_names(model: TransformerBridge) -> list[str]:
    """Every name ``run_with_hooks`` and the cache accept: the bridge's own names and their TL 3 aliases."""
    _checks.model(model, "_valid_hook_names")
    with torch.inference_mode():
        _, cache = model.run_with_cache(
            torch.zeros(1, 1, dtype=torch.long, device=model.cfg.device)
        )
    return sorted(set(model.hook_dict) | set(cache.keys()))


def check_hook_names(model: TransformerBridge, names: Iterable[str]) -> None:
    """Raise ``UnknownHookError`` naming the closest valid names if any of ``names`` is not a hook of ``model``."""
    _checks.model(model, "check_hook_names")
    if isinstance(names, str) or not isinstance(names, Iterable):
        raise TypeError(
            f"check_hook_names expected names to be a list of hook names, got {type(names).__name__} {names!r}"
        )
    names = list(names)
    for name in names:
        _checks.instance(name, str, "check_hook_names", "each hook name")
    if not names:
        return
    valid = _valid_hook_names(model)
    for name in names:
        if name not in valid:
            close = difflib.get_close_matches(name, valid, n=3, cutoff=0.6)
            suggestion = (
                f"did you mean {' or '.join(close)}?"
                if close
                else f"valid names include {', '.join(valid[:5])}, ..."
            )
            raise UnknownHookError(
                f"no hook named {name!r} on this model; {suggestion}"
            )
