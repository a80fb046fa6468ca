"""Tokenizers for the course's own models: one token per character, or one per symbol of a list.

Both are Hugging Face fast tokenizers, so a TransformerBridge's ``to_tokens``, ``to_str_tokens``
and ``generate`` work on them. Introduced on the page "Step 2: Understand transformers".
"""

from __future__ import annotations

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

BOS = "<|endoftext|>"


def character_tokenizer(characters: str) -> PreTrainedTokenizerFast:
    """A tokenizer with one token per character of ``characters`` (ids 0..n-1) and BOS as id n."""
    if len(set(characters)) != len(characters) or not characters:
        raise ValueError(f"expected distinct characters, got {len(characters)} with {len(set(characters))} distinct")
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
    if n_symbols < 1:
        raise ValueError(f"expected at least one symbol, got {n_symbols}")
    vocab = {f"t{index}": index for index in range(n_symbols)}
    vocab[BOS] = n_symbols
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token=BOS))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer.decoder = decoders.WordPiece(prefix="##", cleanup=False)  # joins symbols with spaces
    return _wrap(tokenizer)


def _wrap(tokenizer: Tokenizer) -> PreTrainedTokenizerFast:
    tokenizer.add_special_tokens([BOS])
    # add_bos_token and name_or_path keep TransformerLens from reloading the tokenizer from a hub.
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, bos_token=BOS, eos_token=BOS, pad_token=BOS, unk_token=BOS,
        add_bos_token=True, name_or_path="mi-course",
    )
