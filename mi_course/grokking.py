"""Grokking on modular addition: the data, the Fourier basis, key frequencies, restricted and excluded loss.

A replication of Nanda et al., "Progress measures for grokking via mechanistic interpretability"
(2023, https://arxiv.org/abs/2301.05217) on the shipped model ``grokking-113``: a 1-layer
transformer that reads ``a b =`` and predicts ``(a + b) mod p`` at ``=``. This module holds the
analysis; the model's recipe and trainer are in ``mi_course.recipes.grokking_113``. Introduced on
the page "Build on a paper: grokking".
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from jaxtyping import Float
from torch import Tensor

from mi_course import _checks

if TYPE_CHECKING:  # importing TransformerLens takes seconds
    from transformer_lens import TransformerBridge

HISTORY_FILE = "history.json"
# A key frequency's squared norm is at least this many times the median frequency's. A grokked
# embedding uses a few frequencies and leaves the rest at a common noise floor, which the median
# measures: in grokking-113 the weakest key frequency is 25x it, the strongest other one 1.3x.
KEY_FREQUENCY_MULTIPLE = 10.0


@dataclass(frozen=True)
class ModularAddition:
    """Every pair ``(a, b)`` of residues mod ``p`` as tokens ``a b =``, its answer, and a seeded train/test split.

    Pair ``(a, b)`` is row ``a * p + b``; token ``p`` is ``=``.
    """

    p: int
    tokens: Tensor  # (p * p, 3): a, b, p
    labels: Tensor  # (p * p,): (a + b) mod p
    is_train: Tensor  # (p * p,) bool

    @property
    def train_tokens(self) -> Tensor:
        return self.tokens[self.is_train]

    @property
    def train_labels(self) -> Tensor:
        return self.labels[self.is_train]

    @property
    def test_tokens(self) -> Tensor:
        return self.tokens[~self.is_train]

    @property
    def test_labels(self) -> Tensor:
        return self.labels[~self.is_train]


def modular_addition(p: int, train_fraction: float, seed: int) -> ModularAddition:
    """All ``p * p`` pairs; a random ``train_fraction`` of them (a permutation seeded by ``seed``) is for training."""
    _checks.integer(p, "modular_addition", "p")
    _checks.number(train_fraction, "modular_addition", "train_fraction")
    _checks.integer(seed, "modular_addition", "seed", minimum=0)
    if p < 3 or any(p % d == 0 for d in range(2, math.isqrt(p) + 1)):
        raise ValueError(f"modular_addition expected an odd prime modulus p, got {p}")
    if not 0 < train_fraction < 1:
        raise ValueError(
            f"modular_addition expected 0 < train_fraction < 1, got {train_fraction}"
        )
    a, b = torch.arange(p).repeat_interleave(p), torch.arange(p).repeat(p)
    tokens = torch.stack([a, b, torch.full_like(a, p)], dim=1)
    order = torch.randperm(p * p, generator=torch.Generator().manual_seed(seed))
    is_train = torch.zeros(p * p, dtype=torch.bool)
    is_train[order[: int(train_fraction * p * p)]] = True
    return ModularAddition(p, tokens, (a + b) % p, is_train)


def fourier_basis(p: int) -> tuple[Float[Tensor, "p p"], list[str]]:
    """The orthonormal Fourier basis of functions on residues mod ``p`` (odd), one per row, and the rows' names.

    Row 0 is the constant; rows ``2k - 1`` and ``2k`` are ``cos`` and ``sin`` of ``2 pi k x / p``,
    frequency ``k`` from 1 to ``(p - 1) / 2``.
    """
    if _checks.integer(p, "fourier_basis", "p") < 3 or p % 2 == 0:
        raise ValueError(f"fourier_basis expected an odd modulus p >= 3, got {p}")
    x = torch.arange(p, dtype=torch.float64)
    rows, names = [torch.ones(p, dtype=torch.float64)], ["constant"]
    for k in range(1, (p - 1) // 2 + 1):
        rows += [torch.cos(2 * math.pi * k * x / p), torch.sin(2 * math.pi * k * x / p)]
        names += [f"cos {k}", f"sin {k}"]
    basis = torch.stack(rows)
    return basis / basis.norm(dim=1, keepdim=True), names


def embedding_spectrum(model: TransformerBridge, p: int) -> Float[Tensor, " frequency"]:
    """Norm of the embedding of residues ``0 .. p-1`` per frequency: index ``k`` is frequency ``k``, 0 the constant."""
    _checks.model(model, "embedding_spectrum")
    _check_modulus(model, p, "embedding_spectrum")
    return spectrum_of(model.W_E[:p].detach().cpu(), p)


def spectrum_of(
    embedding: Float[Tensor, "p d_model"], p: int
) -> Float[Tensor, " frequency"]:
    """``embedding_spectrum`` of an embedding matrix whose row ``x`` embeds residue ``x``."""
    _checks.tensor(embedding, "spectrum_of", "embedding", dims=("p", "d_model"))
    if embedding.ndim != 2 or embedding.shape[0] != p:
        raise ValueError(
            f"expected an embedding of shape ({p}, d_model) for modulus p={p}, got {tuple(embedding.shape)}"
        )
    basis, _ = fourier_basis(p)
    squared = (basis @ embedding.double()).pow(2).sum(dim=1)  # per basis row
    per_frequency = torch.cat([squared[:1], squared[1::2] + squared[2::2]])
    return per_frequency.sqrt().float()


def key_frequencies(
    spectrum: Float[Tensor, " frequency"], multiple: float = KEY_FREQUENCY_MULTIPLE
) -> list[int]:
    """The frequencies whose squared norm is at least ``multiple`` times the median frequency's, lowest first.

    ``spectrum`` is ``embedding_spectrum``'s (index 0, the constant, is no frequency). An embedding
    without structure, such as an untrained one, has none.
    """
    _checks.tensor(spectrum, "key_frequencies", "spectrum", dims=("frequency",))
    if len(spectrum) < 2:
        raise ValueError(
            f"key_frequencies expected a spectrum with the constant and at least one frequency, got shape {tuple(spectrum.shape)}"
        )
    _checks.number(multiple, "key_frequencies", "multiple", positive=True)
    squared = spectrum[1:].double().pow(2)
    return [
        k + 1 for k in range(len(squared)) if squared[k] >= multiple * squared.median()
    ]


def _check_modulus(model: TransformerBridge, p: int, function: str) -> None:
    """Raise a ValueError unless ``model`` (a bridge ``function`` checked) reads ``a b =`` mod ``p``: ``p + 1`` input tokens, ``p`` outputs."""
    _checks.integer(p, function, "p", minimum=2)
    d_vocab, d_vocab_out = (
        model.cfg.d_vocab,
        model.cfg.d_vocab_out if model.cfg.d_vocab_out > 0 else model.cfg.d_vocab,
    )
    if d_vocab != p + 1 or d_vocab_out != p:
        raise ValueError(
            f"this model was trained for another modulus: a model of addition mod p={p} has p + 1 = {p + 1} input tokens "
            f"(0..{p - 1} and '=') and {p} outputs, this one has {d_vocab} and {d_vocab_out}"
        )


@torch.inference_mode()
def pair_logits(
    model: TransformerBridge, data: ModularAddition
) -> Float[Tensor, "pair p"]:
    """The model's logits at ``=`` for every pair of ``data``, in its order (row ``a * p + b``)."""
    _checks.model(model, "pair_logits")
    _checks.instance(data, ModularAddition, "pair_logits", "data")
    _check_modulus(model, data.p, "pair_logits")
    return model(data.tokens.to(model.cfg.device))[:, -1].float().cpu()


def losses_and_accuracies(
    logits: Float[Tensor, "pair p"], data: ModularAddition
) -> dict[str, float]:
    """Train and test loss (nats) and accuracy from logits for every pair."""
    _check_logits(logits, data, "losses_and_accuracies")
    metrics = {}
    for split, rows in (("train", data.is_train), ("test", ~data.is_train)):
        metrics[f"{split}_loss"] = F.cross_entropy(
            logits[rows].double(), data.labels[rows]
        ).item()
        metrics[f"{split}_accuracy"] = (
            (logits[rows].argmax(-1) == data.labels[rows]).double().mean().item()
        )
    return metrics


def _sum_directions(
    p: int, frequencies: list[int], function: str
) -> Float[Tensor, "pair direction"]:
    """Orthonormal columns over all pairs: ``cos(w (a + b))`` and ``sin(w (a + b))``, ``w = 2 pi k / p``, for each ``k``.

    Its errors name ``function``, the public function whose ``frequencies`` they are.
    """
    _checks.integer(p, function, "p", minimum=3)
    if isinstance(frequencies, (str, bytes, int)):
        raise TypeError(
            f"{function} expected frequencies to be a list of ints, got {type(frequencies).__name__} {frequencies!r}"
        )
    for k in frequencies:
        _checks.integer(k, function, "each frequency")
    if not all(1 <= k <= (p - 1) // 2 for k in frequencies) or len(
        set(frequencies)
    ) != len(frequencies):
        raise ValueError(
            f"{function} expected distinct frequencies between 1 and {(p - 1) // 2} for p={p}, got {frequencies}"
        )
    total = (torch.arange(p).repeat_interleave(p) + torch.arange(p).repeat(p)).double()
    columns = [
        f(2 * math.pi * k * total / p)
        for k in frequencies
        for f in (torch.cos, torch.sin)
    ]
    return (
        torch.stack(columns, dim=1) * math.sqrt(2) / p
        if columns
        else torch.zeros(p * p, 0, dtype=torch.float64)
    )


def restricted_loss(
    logits: Float[Tensor, "pair p"], data: ModularAddition, frequencies: list[int]
) -> float:
    """Loss on all pairs when the logits keep only the key frequencies' terms in ``a + b`` (and each output's mean)."""
    _check_logits(logits, data, "restricted_loss")
    directions, logits = (
        _sum_directions(data.p, frequencies, "restricted_loss"),
        logits.double(),
    )
    kept = logits.mean(dim=0) + directions @ (
        directions.T @ logits
    )  # the directions are orthogonal to the mean
    return F.cross_entropy(kept, data.labels).item()


def excluded_loss(
    logits: Float[Tensor, "pair p"], data: ModularAddition, frequencies: list[int]
) -> float:
    """Loss on the training pairs when the key frequencies' terms in ``a + b`` are removed from the logits."""
    _check_logits(logits, data, "excluded_loss")
    directions, logits = (
        _sum_directions(data.p, frequencies, "excluded_loss"),
        logits.double(),
    )
    removed = logits - directions @ (directions.T @ logits)
    return F.cross_entropy(removed[data.is_train], data.train_labels).item()


def training_history(name: str = "grokking-113") -> dict[str, list]:
    """The shipped model's training curves, one entry per logged epoch (its card says how often).

    Columns: ``epoch``; ``train_loss``, ``test_loss``, ``train_accuracy``, ``test_accuracy``;
    ``restricted_loss`` and ``excluded_loss`` with the final model's key frequencies; ``weight_norm``
    (of all parameters together); ``embedding_spectrum`` (``embedding_spectrum``'s values).
    """
    from mi_course.zoo import ZOO_DIR

    if not isinstance(name, str) or not (ZOO_DIR / name / HISTORY_FILE).is_file():
        with_history = sorted(
            folder.name
            for folder in ZOO_DIR.iterdir()
            if (folder / HISTORY_FILE).is_file()
        )
        raise ValueError(
            f"training_history expected the name of a shipped model with a history ({', '.join(with_history)}), got {name!r}"
        )
    return json.loads((ZOO_DIR / name / HISTORY_FILE).read_text())


def _check_logits(logits: Tensor, data: ModularAddition, function: str) -> None:
    _checks.instance(data, ModularAddition, function, "data")
    _checks.tensor(logits, function, "logits", dims=("pair", "p"))
    if logits.shape != (data.p * data.p, data.p):
        raise ValueError(
            f"{function} expected logits of shape ({data.p * data.p}, {data.p}) for every pair mod p={data.p}, got {tuple(logits.shape)}: "
            "a model of another modulus, or logits for only some pairs?"
        )
