"""mi_course.checkers.induction: the checkers of the induction score, the head detectors and the induction
score hook pass the reference and name each plausible mistake.

The bad-input cases that tests/test_bad_input.py scans for are in tests/test_checkers.py.
"""

from pathlib import Path

import pytest
import torch

from mi_course import CheckerInputError, induction
from mi_course.checkers import (
    check_head_detectors,
    check_induction_score,
    check_induction_score_hook,
)

ROOT = Path(__file__).resolve().parents[1]


def reference_score(pattern, seq_len):
    queries = torch.arange(seq_len + 1, 2 * seq_len + 1)
    return pattern[:, :, queries, queries - seq_len + 1].mean(dim=(0, 2))


def stripe(offset):
    def score(pattern, seq_len):
        queries = torch.arange(seq_len + 1, 2 * seq_len + 1)
        return pattern[:, :, queries, queries - offset(seq_len)].mean(dim=(0, 2))

    return score


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (stripe(lambda L: L), "that is the duplicate-token stripe"),
        (stripe(lambda L: 1), "that is the previous-token stripe"),
        (
            lambda p, L: torch.diagonal(p, offset=-(L - 1), dim1=-2, dim2=-1).mean(dim=(0, 2)),
            "average only over queries in the second copy",
        ),
        (lambda p, L: reference_score(p, L) * p.shape[0] * L, "you summed"),
        (lambda p, L: reference_score(p, L) * 0.9, "averaged over the batch and over q from L + 1 to 2L"),
        (lambda p, L: reference_score(p, 7), "with L = 9, differs from the reference by 0.14; you used L = 7"),
    ],
)
def test_the_induction_score_checker_names_each_mistake(wrong, hint):
    report = check_induction_score(wrong)
    assert not report.passed and hint in str(report)


def test_the_induction_score_checker_passes_the_reference_and_rejects_a_wrong_shape():
    report = check_induction_score(reference_score)
    assert report.passed and "patterns: 3 sequences, 4 heads, L = 7; 2 sequences, 5 heads, L = 9" in str(report)
    with pytest.raises(CheckerInputError, match=r"induction_score: expected shape \(4,\) .* got \(3, 4\)"):
        check_induction_score(lambda p, L: p[:, :, torch.arange(L + 1, 2 * L + 1), torch.arange(2, L + 2)].mean(dim=2))


# --- head detectors -------------------------------------------------------------------------------------------------


def previous_stripe(offset, start=2):
    def score(pattern):
        queries = torch.arange(start, pattern.shape[-1])
        return pattern[:, :, queries, queries - offset].mean(dim=(0, 2))

    return score


def duplicate_variant(keys="earlier", over="repeats", combine="sum"):
    def score(pattern, tokens):
        same = tokens[:, :, None] == tokens[:, None, :]
        mask = {
            "earlier": same.tril(diagonal=-1),
            "itself": same.tril(),
            "other": same & ~torch.eye(tokens.shape[1], dtype=torch.bool),
        }[keys]
        attention = (pattern * mask[:, None]).sum(dim=-1)
        if combine == "mean":
            attention = attention / mask.sum(dim=-1).clamp(min=1)[:, None]
        if over == "all":
            return attention.mean(dim=(0, 2))
        queries = mask.any(dim=-1)
        if over == "per-sequence":
            return ((attention * queries[:, None]).sum(dim=-1) / queries.sum(dim=-1)[:, None]).mean(dim=0)
        return attention.transpose(0, 1)[:, queries].mean(dim=1)

    return score


RIGHT = {
    "previous_token_score": induction.previous_token_score,
    "duplicate_token_score": induction.duplicate_token_score,
    "first_token_score": induction.first_token_score,
}


@pytest.mark.parametrize(
    ("name", "wrong", "hint"),
    [
        (
            "previous_token_score",
            previous_stripe(1, start=1),
            "start at query 2: the token at position 1 has only BOS before it",
        ),
        ("previous_token_score", previous_stripe(2), "off by one: the token before query q is key q - 1, not q - 2"),
        ("previous_token_score", previous_stripe(0), "that is the attention of each query to itself"),
        (
            "previous_token_score",
            lambda p: p[:, :, torch.arange(1, p.shape[-1] - 1), torch.arange(2, p.shape[-1])].mean(dim=(0, 2)),
            "every score is 0: pattern[b, h, q, k] is attention from query q to key k <= q",
        ),
        ("previous_token_score", lambda p: previous_stripe(1)(p) * p.shape[0] * (p.shape[-1] - 2), "you summed"),
        ("duplicate_token_score", duplicate_variant(keys="itself"), "a token always matches itself"),
        ("duplicate_token_score", duplicate_variant(keys="other"), "count only earlier copies (k < q)"),
        (
            "duplicate_token_score",
            duplicate_variant(over="all"),
            "average only over the queries whose token appeared before",
        ),
        ("duplicate_token_score", duplicate_variant(combine="mean"), "you averaged over them"),
        ("duplicate_token_score", duplicate_variant(over="per-sequence"), "you averaged each sequence first"),
        (
            "duplicate_token_score",
            lambda p, t: induction.duplicate_token_score(p, t) * 0.9,
            "for each query whose token appeared before",
        ),
        (
            "first_token_score",
            lambda p: p[:, :, :, 0].mean(dim=(0, 2)),
            "leave out query 0: BOS can attend only to itself",
        ),
        (
            "first_token_score",
            lambda p: p[:, :, 0, :].mean(dim=(0, 2)),
            "you averaged the BOS query's row over the keys",
        ),
        ("first_token_score", lambda p: p[:, :, 1:, 0].sum(dim=(0, 2)), "you summed"),
    ],
)
def test_the_head_detector_checker_names_each_mistake(name, wrong, hint):
    report = check_head_detectors(**{**RIGHT, name: wrong})
    verdicts = {result.name: result for result in report.results}
    assert not verdicts[name].passed and hint in str(verdicts[name]), str(report)
    assert all(
        result.passed for other, result in verdicts.items() if other != name
    )  # each function is judged on its own


# --- the induction score hook ---------------------------------------------------------------------------------------


def score_hook_variant(write=None, returns=None):
    def make(seq_len, scores):
        def hook(pattern, hook):
            (write or (lambda s, layer, value: s.__setitem__(layer, value)))(
                scores, hook.layer(), induction.induction_score(pattern, seq_len)
            )
            return returns(pattern) if returns else None

        return hook

    return make


def previous_token_hook(seq_len, scores):
    def hook(pattern, hook):
        scores[hook.layer()] = induction.SCORES["previous-token"](pattern, seq_len)

    return hook


def copied_scores_hook(seq_len, scores):
    scores = scores.clone()  # writes into a copy, which the caller never sees

    def hook(pattern, hook):
        scores[hook.layer()] = induction.induction_score(pattern, seq_len)

    return hook


def counted_layer_hook(seq_len, scores):
    calls = [0]

    def hook(pattern, hook):  # the layer from a count of calls: right on the first run only
        scores[calls[0]] = induction.induction_score(pattern, seq_len)
        calls[0] += 1

    return hook


def adding_hook(seq_len, scores):
    def hook(pattern, hook):
        scores[hook.layer()] += induction.induction_score(pattern, seq_len)

    return hook


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (counted_layer_hook, "a second run with the same hook raised IndexError"),
        (adding_hook, "a second run with the same hook doubled the scores: set scores[hook.layer()] = ..."),
        (score_hook_variant(returns=lambda pattern: pattern * 0.5), "the hook changed the run: the logits moved by"),
        (score_hook_variant(returns=lambda pattern: pattern.mul_(0.5)), "must leave the pattern as it is"),
        (
            score_hook_variant(write=lambda s, layer, value: s.__setitem__(layer - 1, value)),
            "you wrote layer L's scores into another row",
        ),
        (score_hook_variant(write=lambda s, layer, value: s.__setitem__(0, value)), "every layer wrote into row 0"),
        (
            score_hook_variant(write=lambda s, layer, value: s.__setitem__(slice(None), value)),
            "every row holds the last layer's scores",
        ),
        (previous_token_hook, "that is the previous-token stripe"),
        (copied_scores_hook, "scores stayed 0: write into the tensor you were given"),
    ],
)
def test_the_induction_score_hook_checker_names_each_mistake(wrong, hint):
    report = check_induction_score_hook(wrong)
    assert not report.passed and hint in str(report), str(report)
