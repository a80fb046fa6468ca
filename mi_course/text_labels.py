"""Labels of Shakespeare's text that come from the text itself, one per character: for probes and for naming SAE latents.

The corpus (the ``shakespeare`` package) sets each speech under its speaker's name, in capitals on
a line of its own: "FIRST SOLDIER." Introduced on the page "Features in a language model".
"""

from __future__ import annotations

import re
from functools import cache

import torch
from torch import Tensor

from mi_course import _checks

# A speaker's name: a line of capitals, spaces and apostrophes ending with "."; "ACT I." and "SCENE II." are not speakers.
SPEAKER_LINE = re.compile(r"^(?!ACT |SCENE )[A-Z][A-Z' ]*\.$", re.MULTILINE)
CAPITAL_WORD = re.compile(r"\b[A-Z]{2,}\b")


SPLITS = ("training", "held-out")


def text_windows(split: str, count: int) -> tuple[Tensor, str]:
    """The first ``count`` windows of 64 consecutive characters of a split of shakespeare-char's corpus, each after BOS.

    Returns the tokens ``(count, 65)`` and the ``count * 64`` characters they hold, in the order of
    ``residual_activations``' rows, so a label of each character labels each row.
    """
    if split not in SPLITS:
        raise ValueError(
            f"text_windows expected split to be one of {', '.join(SPLITS)}, got {split!r}"
        )
    characters, *ids = _corpus()
    ids = ids[SPLITS.index(split)]
    _checks.integer(count, "text_windows", "count", minimum=1, maximum=len(ids) // 64)
    windows = ids[: count * 64].view(count, 64)
    bos = len(characters)  # shakespeare-char's BOS follows its characters
    text = "".join(characters[i] for i in windows.flatten().tolist())
    return torch.cat([torch.full((count, 1), bos), windows], dim=1), text


@cache
def _corpus() -> tuple[str, Tensor, Tensor]:
    from mi_course.datasets import load_shakespeare
    from mi_course.recipes.shakespeare_char import shakespeare_split

    return shakespeare_split(load_shakespeare())


def uppercase(text: str) -> Tensor:
    """``(len(text),)`` booleans: True for each capital letter."""
    return torch.tensor(
        [
            character.isupper()
            for character in _checks.instance(text, str, "uppercase", "text")
        ],
        dtype=torch.bool,
    )


def speaker_name(text: str) -> Tensor:
    """``(len(text),)`` booleans: True for each character of a speaker's name, its final "." included."""
    labels = torch.zeros(
        len(_checks.instance(text, str, "speaker_name", "text")), dtype=torch.bool
    )
    for match in SPEAKER_LINE.finditer(text):
        labels[match.start() : match.end()] = True
    return labels


def capital_word(text: str) -> Tensor:
    """``(len(text),)`` booleans: True for each letter of a word of two or more capitals: a speaker's name, or a name in a
    stage direction ("[Enter TROILUS.]")."""
    labels = torch.zeros(
        len(_checks.instance(text, str, "capital_word", "text")), dtype=torch.bool
    )
    for match in CAPITAL_WORD.finditer(text):
        labels[match.start() : match.end()] = True
    return labels


def end_of_speaker_name(text: str) -> Tensor:
    """``(len(text),)`` booleans: True for the newline that ends a speaker's name, where the speech begins."""
    labels = torch.zeros(
        len(_checks.instance(text, str, "end_of_speaker_name", "text")),
        dtype=torch.bool,
    )
    for match in SPEAKER_LINE.finditer(text):
        if match.end() < len(text):
            labels[match.end()] = True
    return labels


def word_start(text: str, letter: str) -> Tensor:
    """``(len(text),)`` booleans: True for ``letter`` where it begins a word (after a space or a newline)."""
    _checks.instance(text, str, "word_start", "text")
    if not isinstance(letter, str) or len(letter) != 1 or not letter.isalpha():
        raise ValueError(f"word_start expected one letter, got {letter!r}")
    return torch.tensor(
        [
            character == letter and (i == 0 or text[i - 1] in " \n")
            for i, character in enumerate(text)
        ],
        dtype=torch.bool,
    )
