"""Checkers of ``mi_course.circuits``' exercises: a head's full OV circuit, its copying score, and a
K-composition score.

Introduced on the page "Step 4: Key concepts". Each checker runs your function and the course's
reference (mi_course.circuits) on the same seeded random weights, of two sizes, and when they differ
compares your output with common mistakes to say what probably went wrong. The weights are planted
(a head that copies about half its tokens, heads that partly compose) so that each mistake gives a
number of its own, which it would not if every score were near chance.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from mi_course import _checks, circuits
from mi_course.checkers.harness import as_number, call, check_callable, diagnose, report
from mi_course.checkers.report import CheckerInputError, CheckReport

STEP = "step4"
TOLERANCE = 1e-5  # absolute for scores; for matrices, relative to their largest entry where that is above 1
# (d_vocab, d_model, d_head) of each planted head: the sizes differ within a case, so a swapped or missing
# matrix shows in the shape, and across cases, so a function that hard-codes one size fails the other
_HEAD_CASES = ((40, 16, 4), (57, 24, 6))
_PAIR_CASES = ((16, 4), (32, 8))  # (d_model, d_head) of each planted pair of heads
_CHAIN = "W_E (d_vocab, d_model) @ W_V (d_model, d_head) @ W_O (d_head, d_model) @ W_U (d_model, d_vocab)"


def check_full_ov_circuit(
    full_ov_circuit: Callable[[Tensor, Tensor, Tensor, Tensor], Tensor],
) -> CheckReport:
    """Check ``full_ov_circuit(W_E, W_V, W_O, W_U) -> (d_vocab, d_vocab)``: the logits a head raises per token it attends to."""
    check_callable(
        full_ov_circuit, "check_full_ov_circuit", "your full_ov_circuit function"
    )
    generator = torch.Generator().manual_seed(0)
    for sizes in _HEAD_CASES:
        weights = _planted_head(*sizes, generator)
        expected = circuits.full_ov_circuit(
            *weights
        )  # the reference: the solution the page shows
        where = "for " + ", ".join(
            f"{name} {tuple(w.shape)}"
            for name, w in zip(("W_E", "W_V", "W_O", "W_U"), weights, strict=True)
        )
        got = call(
            "full_ov_circuit",
            lambda weights=weights: full_ov_circuit(*(w.clone() for w in weights)),
            chain=_CHAIN,
        )
        if not isinstance(got, Tensor) or not got.dtype.is_floating_point:
            raise CheckerInputError(
                f"full_ov_circuit: expected a float tensor of shape {tuple(expected.shape)} {where}, got {_checks.described(got)}"
            )
        if got.shape != expected.shape:
            hint = _shape_mistakes(*sizes).get(tuple(got.shape))
            if hint is None:
                raise CheckerInputError(
                    f"full_ov_circuit: expected shape {tuple(expected.shape)} (d_vocab, d_vocab) {where}, got {tuple(got.shape)}"
                )
            return report(
                STEP,
                "full_ov_circuit",
                False,
                f"{where}, the shape is {tuple(got.shape)}, not (d_vocab, d_vocab); {hint}",
                criterion="the reference's shape and entries",
            )
        failure = diagnose(
            got,
            expected,
            _ov_mistakes(*weights),
            f"the full OV circuit is {_CHAIN}, in that order",
            TOLERANCE,
            relative=True,
        )
        if failure is not None:
            return report(
                STEP,
                "full_ov_circuit",
                False,
                f"{where}, {failure}",
                criterion=_MATRIX_CRITERION,
            )
    return report(
        STEP,
        "full_ov_circuit",
        True,
        f"matches the reference on random heads: {_head_cases()}",
        criterion=_MATRIX_CRITERION,
    )


def check_copying_score(copying_score: Callable[[Tensor], float]) -> CheckReport:
    """Check ``copying_score(full_ov) -> float``: the fraction of rows whose own (diagonal) logit is the row's largest.

    It is given the reference's full OV circuits of planted heads, so it judges the score alone.
    """
    check_callable(copying_score, "check_copying_score", "your copying_score function")
    generator = torch.Generator().manual_seed(0)
    for sizes in _HEAD_CASES:
        full_ov = circuits.full_ov_circuit(*_planted_head(*sizes, generator))
        expected = circuits.copying_score(full_ov)
        got = as_number(
            "copying_score",
            call(
                "copying_score",
                lambda f=full_ov: copying_score(f.clone()),
                chain=_CHAIN,
            ),
            f"a full OV circuit of shape {tuple(full_ov.shape)}",
        )
        failure = diagnose(
            torch.tensor(got),
            torch.tensor(expected),
            _copying_mistakes(full_ov),
            "count the rows r with full_ov[r].argmax() == r, and divide by the number of rows",
            TOLERANCE,
            relative=True,
        )
        if failure is not None:
            return report(
                STEP,
                "copying_score",
                False,
                f"with d_vocab = {sizes[0]}, {failure}",
                criterion=_SCORE_CRITERION,
            )
    return report(
        STEP,
        "copying_score",
        True,
        f"matches the reference on the full OV circuits of random heads: {_head_cases()}",
        criterion=_SCORE_CRITERION,
    )


def check_k_composition_score(
    k_composition_score: Callable[[Tensor, Tensor], float],
) -> CheckReport:
    """Check ``k_composition_score(W_OV_earlier, W_QK_later) -> float``: ``||W_OV @ W_QK.T||_F / (||W_OV||_F ||W_QK||_F)``.

    ``W_OV = W_V @ W_O`` of an earlier head and ``W_QK = W_Q @ W_K.T`` of a later one, as TransformerLens
    stores the weights (row vectors); it matches ``all_composition_scores("K")``.
    """
    check_callable(
        k_composition_score,
        "check_k_composition_score",
        "your k_composition_score function",
    )
    generator = torch.Generator().manual_seed(0)
    for d_model, d_head in _PAIR_CASES:
        W_OV, W_QK = _planted_pair(d_model, d_head, generator)
        expected = circuits.k_composition_score(W_OV, W_QK)
        got = as_number(
            "k_composition_score",
            call(
                "k_composition_score",
                lambda a=W_OV, b=W_QK: k_composition_score(a.clone(), b.clone()),
                chain=_CHAIN,
            ),
            f"W_OV_earlier and W_QK_later of shape {tuple(W_OV.shape)}",
        )
        failure = diagnose(
            torch.tensor(got),
            torch.tensor(expected),
            _composition_mistakes(W_OV, W_QK),
            "the score is (W_OV @ W_QK.T).norm() / (W_OV.norm() * W_QK.norm()), Frobenius norms throughout",
            TOLERANCE,
            relative=True,
        )
        if failure is not None:
            return report(
                STEP,
                "k_composition_score",
                False,
                f"with d_model = {d_model}, d_head = {d_head}, {failure}",
                criterion=_SCORE_CRITERION,
            )
    cases = "; ".join(
        f"d_model {d_model}, d_head {d_head}" for d_model, d_head in _PAIR_CASES
    )
    return report(
        STEP,
        "k_composition_score",
        True,
        f"matches the reference on random pairs of heads: {cases}",
        criterion=_SCORE_CRITERION,
    )


def _planted_head(
    d_vocab: int, d_model: int, d_head: int, generator: torch.Generator
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Random ``W_E, W_V, W_O, W_U`` of a head that copies about half its tokens: ``W_U`` partly undoes ``W_E @ W_V @ W_O``.

    Its full OV circuit is not symmetric, so reading it by columns instead of rows gives another score.
    """
    W_E = torch.randn(d_vocab, d_model, generator=generator)
    W_V = torch.randn(d_model, d_head, generator=generator) / d_model**0.5
    W_O = torch.randn(d_head, d_model, generator=generator) / d_head**0.5
    written = W_E @ W_V @ W_O
    W_U = (written / written.norm(dim=1, keepdim=True)).T + 0.1 * torch.randn(
        d_model, d_vocab, generator=generator
    )
    return W_E, W_V, W_O, W_U


def _planted_pair(
    d_model: int, d_head: int, generator: torch.Generator
) -> tuple[Tensor, Tensor]:
    """``W_OV`` of an earlier head and ``W_QK`` of a later one whose keys partly read what it writes, both of rank ``d_head``."""
    W_V, W_O, W_Q = (
        torch.randn(shape, generator=generator)
        for shape in ((d_model, d_head), (d_head, d_model), (d_model, d_head))
    )
    W_K = W_O.T @ torch.randn(
        d_head, d_head, generator=generator
    ) / d_head**0.5 + torch.randn(d_model, d_head, generator=generator)
    return W_V @ W_O, W_Q @ W_K.T


def _shape_mistakes(
    d_vocab: int, d_model: int, d_head: int
) -> dict[tuple[int, int], str]:
    return {
        (
            d_model,
            d_vocab,
        ): "you left out W_E: the rows should be tokens, so start from the embedding, W_E @ W_V @ W_O @ W_U",
        (
            d_vocab,
            d_model,
        ): "you left out W_U: the columns should be logits, so end with the unembedding, W_E @ W_V @ W_O @ W_U",
        (
            d_model,
            d_model,
        ): "that is the head's OV matrix W_V @ W_O; the full circuit embeds before it and unembeds after: W_E @ W_V @ W_O @ W_U",
    }


def _ov_mistakes(
    W_E: Tensor, W_V: Tensor, W_O: Tensor, W_U: Tensor
) -> list[tuple[Tensor, str]]:
    full = W_E @ W_V @ W_O @ W_U
    d_head = W_V.shape[1]
    return [
        (
            full.T,
            "rows and columns are swapped: the rows are the attended tokens (W_E's rows), the columns the logits (W_U's columns)",
        ),
        (
            W_E @ W_U,
            "that is the direct path W_E @ W_U, without the head: put its W_V @ W_O between them",
        ),
        (
            W_E @ W_O.T @ W_V.T @ W_U,
            "you used W_O.T @ W_V.T: the head reads with W_V, then writes with W_O, so W_V @ W_O",
        ),
        (
            W_U.T @ W_V @ W_O @ W_E.T,
            "you swapped the embedding and the unembedding: start from W_E, end with W_U",
        ),
        (
            full / d_head**0.5,
            "do not scale by 1 / sqrt(d_head): that scale belongs to the attention scores (QK), not to the OV circuit",
        ),
    ]


def _copying_mistakes(full_ov: Tensor) -> list[tuple[Tensor, str]]:
    n = full_ov.shape[0]
    tokens = torch.arange(n)

    def top1(raised: Tensor) -> Tensor:
        return (raised == tokens).float().mean()

    hits = (full_ov.argmax(dim=-1) == tokens).float().sum()
    return [
        (
            top1(full_ov.argmax(dim=0)),
            "you took the argmax down each column (dim=0): each row is a token the head attends to, "
            "so take the argmax along the row (dim=-1)",
        ),
        (
            top1(full_ov.argmin(dim=-1)),
            "you counted the rows whose own logit is the smallest (argmin): count those where it is the largest",
        ),
        (
            full_ov.diagonal().mean(),
            "that is the mean of the diagonal; the score is top-1 accuracy: the fraction of rows whose diagonal "
            "entry is the row's largest",
        ),
        (
            (full_ov.diagonal() > 0).float().mean(),
            "you counted the rows whose own logit is positive: count those where it is the row's largest",
        ),
        (
            full_ov.softmax(dim=-1).diagonal().mean(),
            "that is the mean probability each row's softmax gives its own token; the score "
            "counts the rows whose own logit is the largest",
        ),
        (hits, "you counted the tokens: divide by the number of rows, for a fraction"),
        (hits / n * 100, "that is a percentage: return a fraction, from 0 to 1"),
        *(
            (
                hits / size,
                f"you divided by {size}: divide by this circuit's number of rows, full_ov.shape[0]",
            )
            for size, _, _ in _HEAD_CASES
            if size != n
        ),
    ]


def _composition_mistakes(W_OV: Tensor, W_QK: Tensor) -> list[tuple[Tensor, str]]:
    composed = (W_OV @ W_QK.T).norm()
    norms = W_OV.norm() * W_QK.norm()

    def spectral(matrix: Tensor) -> Tensor:
        return torch.linalg.matrix_norm(matrix, ord=2)

    return [
        (
            (W_OV @ W_QK).norm() / norms,
            "that is the Q-composition form, W_OV @ W_QK: the keys read the earlier head's output through "
            "W_QK's other side, so use W_OV @ W_QK.T",
        ),
        (
            (W_QK @ W_OV).norm() / norms,
            "W_QK @ W_OV is the paper's formula for column vectors; TransformerLens' weights act on row "
            "vectors (its W_OV is the paper's transposed), so use W_OV @ W_QK.T",
        ),
        (
            (W_QK.T @ W_OV).norm() / norms,
            "W_QK.T @ W_OV multiplies the other way round: with row vectors the earlier head's output "
            "comes first, W_OV @ W_QK.T",
        ),
        (
            composed,
            "you did not normalise: divide by W_OV.norm() * W_QK.norm(), so the score runs from 0 to 1",
        ),
        (
            composed / W_OV.norm(),
            "divide by the norms of both matrices, W_OV.norm() * W_QK.norm(); you divided by W_OV's only",
        ),
        (
            composed / W_QK.norm(),
            "divide by the norms of both matrices, W_OV.norm() * W_QK.norm(); you divided by W_QK's only",
        ),
        (
            (composed / norms) ** 2,
            "you squared the score: use the norms themselves, not their squares",
        ),
        (
            spectral(W_OV @ W_QK.T) / (spectral(W_OV) * spectral(W_QK)),
            "that uses the spectral norm (ord=2): use the Frobenius norm, .norm()",
        ),
    ]


def _head_cases() -> str:
    return "; ".join(
        f"d_vocab {d_vocab}, d_model {d_model}, d_head {d_head}"
        for d_vocab, d_model, d_head in _HEAD_CASES
    )


_MATRIX_CRITERION = (
    f"max abs difference <= {TOLERANCE:.0e} x the reference's largest entry"
)
_SCORE_CRITERION = f"abs difference <= {TOLERANCE:.0e}"
