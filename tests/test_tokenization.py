"""mi_course.tokenization: bad input to the tokenizer builders of the shipped models."""

import pytest

from mi_course import tokenization
from tests.bad_input import Bad, assert_refused, bad_input_params, shared_kit

BAD_INPUTS: dict[str, list[Bad]] = {
    "mi_course.tokenization:character_tokenizer": [
        Bad(lambda k: tokenization.character_tokenizer("abca"), ValueError, "character_tokenizer expected distinct characters, got 4 with 3 distinct"),
        Bad(lambda k: tokenization.character_tokenizer(["a", "b"]), TypeError, "character_tokenizer expected characters to be a str, got list"),
    ],
    "mi_course.tokenization:symbol_tokenizer": [
        Bad(lambda k: tokenization.symbol_tokenizer(0), ValueError, "symbol_tokenizer expected n_symbols >= 1, got 0"),
        Bad(lambda k: tokenization.symbol_tokenizer("50"), TypeError, "symbol_tokenizer expected n_symbols to be an int, got str"),
    ],
    "mi_course.tokenization:modular_tokenizer": [
        Bad(lambda k: tokenization.modular_tokenizer(1), ValueError, "modular_tokenizer expected p >= 2, got 1"),
        Bad(lambda k: tokenization.modular_tokenizer(113.0), TypeError, "modular_tokenizer expected p to be an int, got float"),
    ],
}
# What takes no input, or only free text, and so has no bad input to refuse.
NO_BAD_INPUT: dict[str, str] = {}


@pytest.mark.parametrize("case", bad_input_params(BAD_INPUTS))
def test_bad_input_raises_a_clear_error(case, tmp_path_factory):
    assert_refused(case, shared_kit(tmp_path_factory))
