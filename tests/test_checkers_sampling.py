"""mi_course.checkers.sampling: the top-k / top-p checker passes the reference and other right samplers,
names each plausible mistake, and refuses what it cannot check in one line.

The bad-input cases that tests/test_bad_input.py scans for are in tests/test_checkers.py.
"""

import contextlib
import io
from pathlib import Path

import pytest
import torch

from mi_course import sampling
from mi_course.checkers import (
    CheckerInputError,
    check_sampling,
)
from site_tools.pages import Snippet
from tests.models import as_shown

ROOT = Path(__file__).resolve().parents[1]


# --- top-k and top-p sampling -----------------------------------------------------------------------


def probs_variant(**changes):
    from mi_course.checkers.sampling import _sampling_variant

    return lambda logits, temperature=1.0, top_k=None, top_p=None: _sampling_variant(
        logits, temperature, top_k, top_p, **changes
    )


def sampler(probs):
    return lambda logits, temperature=1.0, top_k=None, top_p=None, generator=None: torch.multinomial(
        probs(logits, temperature, top_k, top_p), 1, generator=generator
    ).squeeze(-1)


def test_sampling_checker_passes_the_reference_deterministically():
    report = check_sampling(sampling.sample_next_token, sampling.next_token_probs)
    assert report.passed and [r.name for r in report.results] == ["next_token_probs", "sample_next_token"], str(report)
    assert str(report) == str(check_sampling(sampling.sample_next_token, sampling.next_token_probs))
    # the cumulative probabilities of the top-p cases are far from p, so float rounding cannot flip a token
    from mi_course.checkers.sampling import _PROBS_CASES, _sampling_logits

    for index, ((batch, d_vocab), temperature, top_k, top_p) in enumerate(_PROBS_CASES):
        if top_p is not None:
            scaled = _sampling_logits(batch, d_vocab, index) / temperature
            if top_k is not None:
                scaled = scaled.masked_fill(scaled < scaled.topk(top_k).values[:, -1:], float("-inf"))
            cumulative = scaled.softmax(-1).sort(descending=True).values.cumsum(-1)
            assert (cumulative - top_p).abs().min() > 1e-3


def sorted_space_sampler(logits, temperature=1.0, top_k=None, top_p=None, generator=None):
    """Draws in sorted order, then maps back: other draws than the reference's, the same distribution."""
    probs, order = sampling.next_token_probs(logits, temperature, top_k, top_p).sort(dim=-1, descending=True)
    return order.gather(-1, torch.multinomial(probs, 1, generator=generator)).squeeze(-1)


def test_sampling_checker_passes_a_sampler_that_draws_otherwise():
    assert check_sampling(sorted_space_sampler, sampling.next_token_probs).passed


SAMPLING_MISTAKES = [
    (probs_variant(k_offset=-1), "you kept top_k - 1 tokens"),
    (probs_variant(k_offset=+1), "you kept top_k + 1 tokens"),
    (probs_variant(crossing=False), "you dropped the token that crosses p"),
    (probs_variant(temper="after softmax"), "not the probabilities after it"),
    (probs_variant(temper="ignored"), "renormalising, undoes the temperature"),
    (probs_variant(temper="multiplied"), "don't multiply them"),
    (probs_variant(renormalise=False), "renormalise what you keep"),
    (probs_variant(p_from_tempered=False), "apply the temperature first, then cut top-p"),
    (probs_variant(p_after_k=False), "apply top-k first, then top-p"),
]


@pytest.mark.parametrize("wrong, hint", SAMPLING_MISTAKES, ids=[hint for _, hint in SAMPLING_MISTAKES])
def test_sampling_checker_rejects_plausible_mistakes_with_a_hint(wrong, hint):
    report = check_sampling(sampler(wrong), wrong)
    probs, samples = report.results
    assert not probs.passed and hint in probs.measured, str(report)
    if not samples.passed:  # a mistake that renormalisation by torch.multinomial undoes draws right
        assert "your draws use" in samples.measured


def test_sampling_checker_rejects_draws_from_another_distribution_and_an_unused_generator():
    report = check_sampling(sampler(probs_variant(k_offset=+1)), sampling.next_token_probs)
    assert not report.results[1].passed and "you kept top_k + 1 tokens" in report.results[1].measured, str(report)
    ignores = lambda logits, temperature=1.0, top_k=None, top_p=None, generator=None: sampling.sample_next_token(
        logits, temperature, top_k, top_p
    )  # noqa: E731
    report = check_sampling(ignores, sampling.next_token_probs)
    assert "pass generator to torch.multinomial" in report.results[1].measured, str(report)


@pytest.mark.parametrize(
    "sample, probs, message",
    [
        (
            lambda logits, *args: torch.multinomial(logits.softmax(-1), 1),
            sampling.next_token_probs,
            r"squeeze the sample axis",
        ),
        (
            lambda logits, *args: logits.argmax(-1).float(),
            sampling.next_token_probs,
            r"expected int64 token ids of shape \(20000,\)",
        ),
        (
            sampling.sample_next_token,
            lambda logits, *args: logits.softmax(-1)[0],
            r"next_token_probs: expected probabilities of shape \(3, 10\)",
        ),
        (sampling.sample_next_token, "probs", "check_sampling expected your next_token_probs function, got str"),
    ],
)
def test_sampling_checker_explains_what_it_cannot_check_in_one_line(sample, probs, message):
    with pytest.raises(CheckerInputError, match=message) as raised:
        check_sampling(sample, probs)
    assert "\n" not in str(raised.value)


def test_sampling_snippets_run_and_the_existing_sampling_snippet_is_untouched():
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(Snippet("step2/top_k_top_p_stub.py", ROOT).script, "stub", "exec"), {"__name__": "__main__"})
        exec(
            compile(Snippet("step2/top_k_top_p_solution.py", ROOT).script, "solution", "exec"), {"__name__": "__main__"}
        )
    lines = printed.getvalue().splitlines()
    assert (
        lines[0]
        == "next_token_probs raised NotImplementedError: fill in next_token_probs (temperature=0.5, top_k=None, top_p=None)"
    )
    assert lines[1].startswith("[step2] PASS  next_token_probs") and lines[2].startswith(
        "[step2] PASS  sample_next_token"
    )
    assert (
        lines[5]
        == "temperature 1.0, top_k 3, top_p None: keeps 3 tokens, top probability 0.506, 8 draws [2, 1, 0, 2, 1, 1, 1, 2]"
    )
    solution = Snippet("step2/top_k_top_p_solution.py", ROOT)
    assert solution.includes == ["mi_course/sampling.py:next-token-probs", "mi_course/sampling.py:sample-next-token"]
    assert (
        as_shown(sampling.next_token_probs) in solution.script
        and as_shown(sampling.sample_next_token) in solution.script
    )
