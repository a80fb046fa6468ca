"""mi_course.circuits: the full OV circuit, the copying score, K-composition and their random baselines, and bad input to them.

Their checkers are tested in tests/test_checkers_circuits.py.
"""

import pytest
import torch

from mi_course import load_model
from mi_course.circuits import (
    copying_score,
    full_ov_circuit,
    k_composition_score,
    random_composition_baseline,
    random_head_copying_score,
)
from tests.bad_input import Bad, assert_refused, bad_input_params, shared_kit


def head(d_vocab=10, d_model=8, d_head=2, seed=0):
    generator = torch.Generator().manual_seed(seed)
    shapes = ((d_vocab, d_model), (d_model, d_head), (d_head, d_model), (d_model, d_vocab))
    return tuple(torch.randn(shape, generator=generator) for shape in shapes)


@pytest.fixture(scope="module")
def model():
    bridge = load_model("induction-2l", device="cpu")
    bridge.enable_compatibility_mode()
    return bridge


def test_an_identity_head_copies_every_token_and_a_negated_one_none():
    eye = torch.eye(6)
    assert full_ov_circuit(eye, eye, eye, eye).equal(eye)
    assert copying_score(full_ov_circuit(eye, eye, eye, eye)) == 1.0
    assert copying_score(full_ov_circuit(eye, eye, -eye, eye)) == 0.0
    # fewer dimensions than tokens: W_U reads back the directions W_E wrote, so each token still raises itself most
    W_E = torch.nn.functional.normalize(torch.randn(20, 8, generator=torch.Generator().manual_seed(0)), dim=1)
    assert copying_score(full_ov_circuit(W_E, torch.eye(8), torch.eye(8), W_E.T)) == 1.0


def test_the_full_ov_circuit_is_embed_read_write_unembed_in_transformerlens_order(model):
    for layer, index in ((0, 1), (1, 2)):
        ours = full_ov_circuit(model.W_E, model.W_V[layer, index], model.W_O[layer, index], model.W_U)
        theirs = (
            model.W_E @ model.OV[layer, index] @ model.W_U
        ).AB  # TransformerLens' FactoredMatrix of the same circuit
        assert ours.shape == (model.cfg.d_vocab, model.cfg.d_vocab)
        assert torch.allclose(ours, theirs, rtol=1e-4, atol=1e-4)


def test_the_copying_score_is_top1_accuracy_along_rows():
    full_ov = torch.zeros(4, 4)
    full_ov[0, 0] = full_ov[1, 1] = 1.0  # rows 0 and 1 raise themselves most
    full_ov[2, 0] = full_ov[3, 0] = 2.0  # rows 2 and 3 raise token 0; column 0's largest entry is not on the diagonal
    assert copying_score(full_ov) == 0.5


def test_a_random_head_copies_at_about_chance():
    W_E, _, _, W_U = head(d_vocab=200, d_model=32, d_head=8)
    mean, p95 = random_head_copying_score(W_E, W_U, 8, samples=50, generator=torch.Generator().manual_seed(0))
    assert 0 <= mean < 3 / 200 and mean <= p95 < 0.05
    again = random_head_copying_score(W_E, W_U, 8, samples=50, generator=torch.Generator().manual_seed(0))
    assert again == (mean, p95)  # seeded


def test_heads_built_to_compose_score_near_1_and_random_ones_near_the_baseline():
    generator = torch.Generator().manual_seed(0)
    u, v, w = (torch.randn(16, 1, generator=generator) for _ in range(3))
    # rank 1: the earlier head writes along v.T, the later head's keys read along the same direction
    assert k_composition_score(u @ v.T, w @ v.T) == pytest.approx(1.0, abs=1e-5)
    orthogonal = torch.linalg.qr(torch.randn(16, 2, generator=generator)).Q
    assert k_composition_score(u @ orthogonal[:, :1].T, w @ orthogonal[:, 1:].T) == pytest.approx(0.0, abs=1e-6)
    mean, p95 = random_composition_baseline(16, 4, samples=500, generator=torch.Generator().manual_seed(1))
    assert 0 < mean < p95 < 1
    random_pairs = [
        k_composition_score(
            *(torch.randn(16, 4, generator=generator) @ torch.randn(4, 16, generator=generator) for _ in range(2))
        )
        for _ in range(200)
    ]
    assert sum(random_pairs) / 200 == pytest.approx(mean, rel=0.05)
    assert sum(score > p95 for score in random_pairs) < 0.1 * 200


def test_k_composition_is_what_transformerlens_calls_k_composition(model):
    W_OV = model.W_V[0] @ model.W_O[0]
    W_QK = model.W_Q[1] @ model.W_K[1].transpose(-2, -1)
    ours = torch.tensor([[k_composition_score(W_OV[early], W_QK[late]) for late in range(4)] for early in range(4)])
    with torch.inference_mode():
        k_scores, q_scores = (model.all_composition_scores(mode).scores[0, :, 1, :] for mode in ("K", "Q"))
    assert torch.allclose(ours, k_scores, atol=1e-5)
    assert not torch.allclose(ours, q_scores, atol=1e-3)  # the test can tell K- from Q-composition


E, V, O, U = head()

BAD_INPUTS: dict[str, list[Bad]] = {
    "mi_course.circuits:full_ov_circuit": [
        Bad(
            lambda k: full_ov_circuit(E, torch.randn(4, 8, 2), O, U),
            ValueError,
            r"full_ov_circuit expected W_V of shape \(d_model, d_head\), one head's, got torch.float32 of shape \(4, 8, 2\); "
            r"pass one head's, e.g. model.W_V\[layer, head\]",
        ),
        Bad(
            lambda k: full_ov_circuit(E, V, O, torch.randn(6, 10)),
            ValueError,
            r"full_ov_circuit expected W_E \(d_vocab, d_model\), W_V \(d_model, d_head\), .*got W_E \(10, 8\), W_V \(8, 2\), "
            r"W_O \(2, 8\), W_U \(6, 10\): d_model is 8 and 6",
        ),
        Bad(
            lambda k: full_ov_circuit(E.long(), V, O, U),
            ValueError,
            r"full_ov_circuit expected W_E of shape \(d_vocab, d_model\) with a floating-point dtype, got torch.int64 of shape \(10, 8\)",
        ),
        Bad(
            lambda k: full_ov_circuit(E.tolist(), V, O, U),
            TypeError,
            r"full_ov_circuit expected W_E of shape \(d_vocab, d_model\), got list",
        ),
    ],
    "mi_course.circuits:copying_score": [
        Bad(
            lambda k: copying_score(torch.randn(10, 8)),
            ValueError,
            r"copying_score expected full_ov of shape \(d_vocab, d_vocab\), square, as full_ov_circuit gives, got torch.float32 of shape \(10, 8\)",
        ),
        Bad(
            lambda k: copying_score(torch.randn(10)),
            ValueError,
            r"copying_score expected full_ov of shape \(d_vocab, d_vocab\), got torch.float32 of shape \(10,\)",
        ),
        Bad(
            lambda k: copying_score(torch.eye(3, dtype=torch.long)),
            ValueError,
            r"with a floating-point dtype, got torch.int64 of shape \(3, 3\)",
        ),
    ],
    "mi_course.circuits:k_composition_score": [
        Bad(
            lambda k: k_composition_score(torch.randn(8, 8), torch.randn(6, 6)),
            ValueError,
            r"k_composition_score expected W_OV_earlier and W_QK_later of one shape \(d_model, d_model\), got \(8, 8\) and \(6, 6\)",
        ),
        Bad(
            lambda k: k_composition_score(V, torch.randn(8, 8)),
            ValueError,
            r"k_composition_score expected W_OV_earlier of shape \(d_model, d_model\), square .*got torch.float32 of shape \(8, 2\)",
        ),
        Bad(
            lambda k: k_composition_score(torch.randn(8, 8), torch.zeros(8, 8)),
            ValueError,
            r"k_composition_score expected W_QK_later with a finite, non-zero norm \(the score divides by it\), got norm 0.0",
        ),
        Bad(
            lambda k: k_composition_score(torch.randn(4, 8, 8), torch.randn(8, 8)),
            ValueError,
            r"one head's, got torch.float32 of shape \(4, 8, 8\); pass one head's, e.g. model.W_V\[layer, head\] @ model.W_O\[layer, head\]",
        ),
        Bad(
            lambda k: k_composition_score(torch.randn(8, 8).numpy(), torch.randn(8, 8)),
            TypeError,
            r"k_composition_score expected W_OV_earlier of shape \(d_model, d_model\), got ndarray",
        ),
    ],
    "mi_course.circuits:random_head_copying_score": [
        Bad(
            lambda k: random_head_copying_score(E, torch.randn(8, 11), 2),
            ValueError,
            r"random_head_copying_score expected W_E \(d_vocab, d_model\) and W_U \(d_model, d_vocab\) of one model, got \(10, 8\) and \(8, 11\)",
        ),
        Bad(
            lambda k: random_head_copying_score(E, U, 0),
            ValueError,
            "random_head_copying_score expected d_head >= 1, got 0",
        ),
        Bad(
            lambda k: random_head_copying_score(E, U, 2, samples=1),
            ValueError,
            "random_head_copying_score expected samples >= 2, got 1",
        ),
        Bad(
            lambda k: random_head_copying_score(E, U, 2, generator=0),
            TypeError,
            "random_head_copying_score expected generator to be a Generator, got int",
        ),
    ],
    "mi_course.circuits:random_composition_baseline": [
        Bad(
            lambda k: random_composition_baseline(8, 16),
            ValueError,
            "random_composition_baseline expected d_head <= d_model, got d_head=16 and d_model=8",
        ),
        Bad(
            lambda k: random_composition_baseline(8.0, 2),
            TypeError,
            "random_composition_baseline expected d_model to be an int, got float 8.0",
        ),
        Bad(
            lambda k: random_composition_baseline(8, 2, generator="0"),
            TypeError,
            "expected generator to be a Generator, got str",
        ),
    ],
}
# What takes no input, or only free text, and so has no bad input to refuse.
NO_BAD_INPUT: dict[str, str] = {}


@pytest.mark.parametrize("case", bad_input_params(BAD_INPUTS))
def test_bad_input_raises_a_clear_error(case, tmp_path_factory):
    assert_refused(case, shared_kit(tmp_path_factory))


def test_every_refusal_is_one_line():
    for group in BAD_INPUTS.values():
        for case in group:
            with pytest.raises(case.error) as refused:
                case.call(None)
            assert "\n" not in str(refused.value)
