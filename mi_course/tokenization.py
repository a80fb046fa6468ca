"""Tokenizers for the course's own models: one token per character, per symbol of a list, or per residue mod p.

Each is a Hugging Face fast tokenizer, so a TransformerBridge's ``to_tokens``, ``to_str_tokens``
and ``generate`` work on them. Introduced on the page "Step 2: Understand transformers".
"""

from __future__ import annotations

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

from mi_course import _checks

BOS = "<|endoftext|>"


def character_tokenizer(characters: str) -> PreTrainedTokenizerFast:
    """A tokenizer with one token per character of ``characters`` (ids 0..n-1) and BOS as id n."""
    _checks.instance(characters, str, "character_tokenizer", "characters")
    if len(set(characters)) != len(characters) or not characters:
        raise ValueError(f"character_tokenizer expected distinct characters, got {len(characters)} with {len(set(characters))} distinct")
    if BOS in characters:
        raise ValueError(f"the characters must not contain the BOS token {BOS!r}")
    vocab = {character: index for index, character in enumerate(characters)}
    vocab[BOS] = len(characters)
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token=BOS))
    tokenizer.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), behavior="isolated")
    tokenizer.decoder = decoders.Fuse()
    return _wrap(tokenizer)


def symbol_tokenizer(n_symbols: int) -> PreTrainedTokenizerFast:
    """A tokenizer for ``n_symbols`` abstract tokens written ``t0 t1 ...`` (ids 0..n-1), BOS as id n."""
    _checks.integer(n_symbols, "symbol_tokenizer", "n_symbols", minimum=1)
    vocab = {f"t{index}": index for index in range(n_symbols)}
    vocab[BOS] = n_symbols
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token=BOS))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer.decoder = decoders.WordPiece(prefix="##", cleanup=False)  # joins symbols with spaces
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
    tokenizer.decoder = decoders.WordPiece(prefix="##", cleanup=False)  # joins tokens with spaces
    # An EOS equal to BOS would make TransformerLens strip a final "=" from every input.
    return _wrap(tokenizer, bos="=", eos=BOS)


def _wrap(tokenizer: Tokenizer, bos: str = BOS, eos: str = BOS) -> PreTrainedTokenizerFast:
    tokenizer.add_special_tokens(list(dict.fromkeys([bos, eos])))
    # add_bos_token and name_or_path keep TransformerLens from reloading the tokenizer from a hub.
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, bos_token=bos, eos_token=eos, pad_token=bos, unk_token=bos,
        add_bos_token=True, name_or_path="mi-course",
    )
