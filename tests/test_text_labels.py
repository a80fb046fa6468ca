"""Labels from the text itself: speakers' names, words in capitals, word-initial letters, and aligned windows of the corpus."""

import pytest

from mi_course import text_labels
from tests.bad_input import Bad, assert_refused, bad_input_params, shared_kit

TEXT = "ACT I.\n\nFIRST SOLDIER.\nMarry, we'll search.\n\n[Enter TROILUS.]\n\nBERTRAM.\nI see so."


def marked(labels, text=TEXT):
    return "".join(character if flag else "_" for character, flag in zip(text, labels.tolist(), strict=True))


def test_each_label_marks_what_it_says():
    assert marked(text_labels.speaker_name(TEXT)).replace("_", " ").split() == ["FIRST", "SOLDIER.", "BERTRAM."]
    assert marked(text_labels.capital_word(TEXT)).replace("_", " ").split() == [
        "ACT",
        "FIRST",
        "SOLDIER",
        "TROILUS",
        "BERTRAM",
    ]
    assert text_labels.end_of_speaker_name(TEXT).nonzero().squeeze(1).tolist() == [
        TEXT.index("SOLDIER.") + 8,
        TEXT.index("BERTRAM.") + 8,
    ]
    assert marked(text_labels.word_start(TEXT, "s")).replace("_", "") == "sss"  # search, see, so
    assert marked(text_labels.uppercase("aB"), "aB") == "_B"


def test_windows_and_their_text_are_aligned():
    tokens, text = text_labels.text_windows("held-out", 2)
    assert tokens.shape == (2, 65) and len(text) == 128 and tokens[:, 0].eq(84).all()


BAD_INPUTS: dict[str, list[Bad]] = {
    "mi_course.text_labels:text_windows": [
        Bad(
            lambda k: text_labels.text_windows("test", 2),
            ValueError,
            "text_windows expected split to be one of training, held-out, got 'test'",
        ),
        Bad(lambda k: text_labels.text_windows("held-out", 0), ValueError, "text_windows expected count >= 1"),
    ],
    "mi_course.text_labels:word_start": [
        Bad(lambda k: text_labels.word_start(TEXT, "st"), ValueError, "word_start expected one letter, got 'st'"),
    ],
    **{
        f"mi_course.text_labels:{name}": [
            Bad(
                lambda k, name=name: getattr(text_labels, name)(["ROMEO."]),
                TypeError,
                f"{name} expected text to be a str, got list",
            ),
        ]
        for name in ("speaker_name", "capital_word", "end_of_speaker_name", "uppercase")
    },
}
NO_BAD_INPUT: dict[str, str] = {}


@pytest.mark.parametrize("case", bad_input_params(BAD_INPUTS))
def test_bad_input_raises_a_clear_error(case, tmp_path_factory):
    assert_refused(case, shared_kit(tmp_path_factory))
