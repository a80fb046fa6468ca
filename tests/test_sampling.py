"""mi_course.sampling: top-k and top-p distributions, draws, and bad input.

What the sampling checker says about plausible mistakes is tested in tests/test_checkers_sampling.py.
"""

import pytest
import torch

from mi_course import sampling
from tests.bad_input import Bad, assert_refused, bad_input_params, shared_kit

LOGITS = torch.tensor([[3.0, 2.0, 1.0, 0.0, -1.0]])


def test_top_k_keeps_k_tokens_and_top_p_keeps_the_token_that_crosses_p():
    assert (sampling.next_token_probs(LOGITS, top_k=2) > 0).sum() == 2
    probs = LOGITS.softmax(-1)[0]  # 0.636, 0.234, 0.086, ...
    assert (sampling.next_token_probs(LOGITS, top_p=0.5) > 0).sum() == 1  # the first token alone reaches 0.5
    assert (sampling.next_token_probs(LOGITS, top_p=0.7) > 0).sum() == 2  # 0.636 < 0.7 <= 0.636 + 0.234
    assert (sampling.next_token_probs(LOGITS, top_p=float(probs[:2].sum()) + 1e-3) > 0).sum() == 3
    kept = sampling.next_token_probs(LOGITS, temperature=0.5, top_k=3)
    assert torch.allclose(kept.sum(-1), torch.ones(1)) and torch.allclose(
        kept[0, :3], (LOGITS[0, :3] / 0.5).softmax(-1)
    )


def test_draws_are_repeatable_with_a_generator_and_stay_in_the_kept_tokens():
    logits = LOGITS.expand(500, -1)
    first = sampling.sample_next_token(logits, 1.0, 3, None, torch.Generator().manual_seed(1))
    again = sampling.sample_next_token(logits, 1.0, 3, None, generator=torch.Generator().manual_seed(1))
    assert first.shape == (500,) and first.dtype == torch.int64 and torch.equal(first, again)
    assert set(first.tolist()) == {0, 1, 2}


BAD_INPUTS: dict[str, list[Bad]] = {
    "mi_course.sampling:next_token_probs": [
        Bad(
            lambda k: sampling.next_token_probs(LOGITS[0]),
            ValueError,
            r"next_token_probs expected logits of shape \(batch, d_vocab\), got torch.float32 of shape \(5,\)",
        ),
        Bad(
            lambda k: sampling.next_token_probs(LOGITS.long()),
            ValueError,
            "next_token_probs expected floating-point logits, got torch.int64",
        ),
        Bad(
            lambda k: sampling.next_token_probs(LOGITS, 0.0),
            ValueError,
            "next_token_probs expected temperature to be a finite number > 0, got 0.0",
        ),
        Bad(
            lambda k: sampling.next_token_probs(LOGITS, top_k=6),
            ValueError,
            "next_token_probs expected top_k >= 1 and <= 5, got 6",
        ),
        Bad(
            lambda k: sampling.next_token_probs(LOGITS, top_k=2.0),
            TypeError,
            "next_token_probs expected top_k to be an int, got float 2.0",
        ),
        Bad(
            lambda k: sampling.next_token_probs(LOGITS, top_p=1.5),
            ValueError,
            r"next_token_probs expected top_p in \(0, 1\] \(a probability\), got 1.5",
        ),
        Bad(
            lambda k: sampling.next_token_probs(LOGITS, top_p=0),
            ValueError,
            "next_token_probs expected top_p to be a finite number > 0, got 0",
        ),
        Bad(
            lambda k: sampling.next_token_probs([[1.0, 2.0]]),
            TypeError,
            r"next_token_probs expected logits of shape \(batch, d_vocab\), got list",
        ),
    ],
    "mi_course.sampling:sample_next_token": [
        Bad(
            lambda k: sampling.sample_next_token(LOGITS, generator=0),
            TypeError,
            "sample_next_token expected generator to be a Generator, got int",
        ),
        Bad(
            lambda k: sampling.sample_next_token(LOGITS, -1.0),
            ValueError,
            "sample_next_token expected temperature to be a finite number > 0, got -1.0",
        ),
        Bad(
            lambda k: sampling.sample_next_token(LOGITS, top_k=0),
            ValueError,
            "sample_next_token expected top_k >= 1 and <= 5, got 0",
        ),
    ],
}
NO_BAD_INPUT: dict[str, str] = {}


@pytest.mark.parametrize("case", bad_input_params(BAD_INPUTS))
def test_bad_input_raises_a_clear_error(case, tmp_path_factory):
    assert_refused(case, shared_kit(tmp_path_factory))
