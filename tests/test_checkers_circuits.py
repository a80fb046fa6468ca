"""mi_course.checkers.circuits: the checkers of Step 4's circuit exercises each pass the course's solution and name
each plausible mistake, and the exercises' stubs and solutions print what they say.

The functions they check are tested in tests/test_circuits.py; Step 4's registered check (`check step4`) in
tests/test_checkers_registry.py; the bad-input cases of the checkers that tests/test_bad_input.py
scans for are in tests/test_checkers.py.
"""

import contextlib
import io
from pathlib import Path

import pytest
import torch

from mi_course import CheckerInputError, circuits
from mi_course.checkers import check_copying_score, check_full_ov_circuit, check_k_composition_score
from site_tools.pages import Snippet

ROOT = Path(__file__).resolve().parents[1]


def reference_ov(W_E, W_V, W_O, W_U):
    return W_E @ (W_V @ W_O) @ W_U  # another association than the package's: must agree within the tolerance


def rows_hitting(full_ov, raised):
    return (raised == torch.arange(full_ov.shape[0])).float().mean()


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (lambda E, V, O, U: reference_ov(E, V, O, U).T, "rows and columns are swapped"),
        (lambda E, V, O, U: V @ O @ U, "the shape is (16, 40), not (d_vocab, d_vocab); you left out W_E"),
        (lambda E, V, O, U: E @ V @ O, "you left out W_U"),
        (lambda E, V, O, U: V @ O, "that is the head's OV matrix W_V @ W_O"),
        (lambda E, V, O, U: E @ U, "that is the direct path W_E @ W_U"),
        (lambda E, V, O, U: E @ O.T @ V.T @ U, "you used W_O.T @ W_V.T"),
        (lambda E, V, O, U: U.T @ V @ O @ E.T, "you swapped the embedding and the unembedding"),
        (lambda E, V, O, U: reference_ov(E, V, O, U) / V.shape[1] ** 0.5, "do not scale by 1 / sqrt(d_head)"),
        (lambda E, V, O, U: 2 * reference_ov(E, V, O, U), "the full OV circuit is W_E (d_vocab, d_model) @ W_V"),
    ],
)
def test_the_full_ov_circuit_checker_names_each_mistake(wrong, hint):
    report = check_full_ov_circuit(wrong)
    assert not report.passed and hint in str(report), str(report)


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (lambda f: rows_hitting(f, f.argmax(dim=0)), "you took the argmax down each column (dim=0)"),
        (
            lambda f: rows_hitting(f, f.T.argmax(dim=-1)),
            "you took the argmax down each column (dim=0)",
        ),  # the transposed circuit
        (lambda f: rows_hitting(f, f.argmin(dim=-1)), "(argmin)"),
        (lambda f: f.diagonal().mean().item(), "that is the mean of the diagonal"),
        (lambda f: (f.diagonal() > 0).float().mean(), "whose own logit is positive"),
        (lambda f: f.softmax(dim=-1).diagonal().mean(), "the mean probability each row's softmax gives its own token"),
        (
            lambda f: int((f.argmax(dim=-1) == torch.arange(len(f))).sum()),
            "you counted the tokens: divide by the number of rows",
        ),
        (lambda f: 100 * rows_hitting(f, f.argmax(dim=-1)), "that is a percentage"),
        (
            lambda f: (f.argmax(dim=-1) == torch.arange(len(f))).sum().item() / 40,
            "with d_vocab = 57, differs from the reference by",
        ),
        (lambda f: (f.argmax(dim=-1) == torch.arange(len(f))).sum().item() / 40, "you divided by 40"),
        (lambda f: rows_hitting(f, f.topk(2, dim=-1).indices[:, 1]), "count the rows r with full_ov[r].argmax() == r"),
    ],
)
def test_the_copying_score_checker_names_each_mistake(wrong, hint):
    report = check_copying_score(wrong)
    assert not report.passed and hint in str(report), str(report)


def scored(product, normalise=lambda ov, qk: ov.norm() * qk.norm()):
    return lambda ov, qk: product(ov, qk).norm() / normalise(ov, qk)


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (scored(lambda ov, qk: ov @ qk), "that is the Q-composition form, W_OV @ W_QK"),
        (scored(lambda ov, qk: qk @ ov), "W_QK @ W_OV is the paper's formula for column vectors"),
        (scored(lambda ov, qk: qk.T @ ov), "W_QK.T @ W_OV multiplies the other way round"),
        (lambda ov, qk: (ov @ qk.T).norm(), "you did not normalise"),
        (scored(lambda ov, qk: ov @ qk.T, lambda ov, qk: ov.norm()), "you divided by W_OV's only"),
        (scored(lambda ov, qk: ov @ qk.T, lambda ov, qk: qk.norm()), "you divided by W_QK's only"),
        (lambda ov, qk: scored(lambda a, b: a @ b.T)(ov, qk) ** 2, "you squared the score"),
        (
            lambda ov, qk: (
                torch.linalg.matrix_norm(ov @ qk.T, ord=2)
                / (torch.linalg.matrix_norm(ov, ord=2) * torch.linalg.matrix_norm(qk, ord=2))
            ),
            "that uses the spectral norm (ord=2)",
        ),
        (
            lambda ov, qk: 0.9 * scored(lambda a, b: a @ b.T)(ov, qk),
            "the score is (W_OV @ W_QK.T).norm() / (W_OV.norm() * W_QK.norm())",
        ),
    ],
)
def test_the_k_composition_checker_names_each_mistake(wrong, hint):
    report = check_k_composition_score(wrong)
    assert not report.passed and hint in str(report), str(report)


def test_each_mistake_gives_its_own_number_on_the_planted_weights():
    """Were two mistakes to agree on the checker's weights, the first listed would take the other's hint."""
    from mi_course.checkers import circuits as checkers

    generator = torch.Generator().manual_seed(0)
    for sizes in checkers._HEAD_CASES:
        weights = checkers._planted_head(*sizes, generator)
        full_ov = circuits.full_ov_circuit(*weights)
        for mistakes, expected in (
            (checkers._ov_mistakes(*weights), full_ov),
            (checkers._copying_mistakes(full_ov), torch.tensor(circuits.copying_score(full_ov))),
        ):
            values = [expected.double()] + [wrong.double() for wrong, _ in mistakes if wrong.shape == expected.shape]
            for i, a in enumerate(values):
                assert all((a - b).abs().max() > 1e-3 * max(1.0, a.abs().max()) for b in values[i + 1 :]), i
        assert 0.3 < circuits.copying_score(full_ov) < 0.8  # a head that copies some of its tokens, far from chance
    generator = torch.Generator().manual_seed(0)
    for d_model, d_head in checkers._PAIR_CASES:
        W_OV, W_QK = checkers._planted_pair(d_model, d_head, generator)
        values = [circuits.k_composition_score(W_OV, W_QK)] + [
            wrong.item() for wrong, _ in checkers._composition_mistakes(W_OV, W_QK)
        ]
        assert min(abs(a - b) for i, a in enumerate(values) for b in values[i + 1 :]) > 1e-3


def test_the_checkers_pass_the_reference_and_other_correct_forms():
    for check, functions in (
        (check_full_ov_circuit, (circuits.full_ov_circuit, reference_ov, lambda E, V, O, U: (E @ V) @ (O @ U))),
        (
            check_copying_score,
            (
                circuits.copying_score,
                lambda f: rows_hitting(f, f.argmax(dim=1)),
                lambda f: (f.diagonal() == f.max(dim=-1).values).double().mean(),
            ),
        ),
        (
            check_k_composition_score,
            (
                circuits.k_composition_score,
                scored(lambda ov, qk: qk @ ov.T),
                scored(lambda ov, qk: ov.double() @ qk.double().T),
            ),
        ),
    ):
        for function in functions:
            report = check(function)
            assert report.passed, str(report)
    assert "random heads: d_vocab 40, d_model 16, d_head 4; d_vocab 57, d_model 24, d_head 6" in str(
        check_full_ov_circuit(reference_ov)
    )
    assert "random pairs of heads: d_model 16, d_head 4; d_model 32, d_head 8" in str(
        check_k_composition_score(circuits.k_composition_score)
    )


@pytest.mark.parametrize(
    ("check", "given", "message"),
    [
        (check_full_ov_circuit, "W_E @ W_V", "check_full_ov_circuit expected your full_ov_circuit function, got str"),
        (check_copying_score, None, "check_copying_score expected your copying_score function, got NoneType"),
        (check_k_composition_score, 3, "check_k_composition_score expected your k_composition_score function, got int"),
        (
            check_full_ov_circuit,
            lambda E, V, O, U: (E @ V @ O @ U)[:, :-1],
            r"full_ov_circuit: expected shape \(40, 40\) \(d_vocab, d_vocab\) for W_E \(40, 16\), W_V \(16, 4\), W_O \(4, 16\), W_U \(16, 40\), got \(40, 39\)",
        ),
        (
            check_full_ov_circuit,
            lambda E, V, O, U: (E @ V @ O @ U).numpy(),
            "full_ov_circuit: expected a float tensor of shape \\(40, 40\\) .*got ndarray",
        ),
        (
            check_full_ov_circuit,
            lambda E, V, O, U: (E @ V @ O @ U).argmax(-1),
            r"expected a float tensor of shape \(40, 40\) .*got torch.int64 of shape \(40,\)",
        ),
        (
            check_full_ov_circuit,
            lambda E, V, O, U: E @ O @ V @ U,
            r"full_ov_circuit raised RuntimeError: mat1 and mat2 shapes cannot be multiplied \(40x16 and 4x16\); the shapes chain as W_E \(d_vocab, d_model\) @ W_V",
        ),
        (
            check_copying_score,
            lambda f: f.argmax(-1) == torch.arange(len(f)),
            r"copying_score: expected a number \(a float, or a tensor of one element\) for a full OV circuit of shape \(40, 40\), got torch.bool of shape \(40,\)",
        ),
        (check_copying_score, lambda f: None, "copying_score: expected a number .* got NoneType"),
        (
            check_k_composition_score,
            lambda ov, qk: ov @ qk.T,
            r"k_composition_score: expected a number .*of shape \(16, 16\), got torch.float32 of shape \(16, 16\)",
        ),
        (
            check_k_composition_score,
            lambda ov: ov.norm(),
            "k_composition_score raised TypeError: .*positional argument",
        ),
    ],
)
def test_the_checkers_answer_bad_input_in_one_line(check, given, message):
    with pytest.raises(CheckerInputError, match=message) as refused:
        check(given)
    assert "\n" not in str(refused.value)


def run_snippet(name: str) -> list[str]:
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(Snippet(name, ROOT).script, name, "exec"), {"__name__": "__main__"})
    return printed.getvalue().splitlines()


def test_the_stubs_print_one_line_per_unfilled_function():
    assert run_snippet("step4/copying_score_stub.py") == [
        "full_ov_circuit raised NotImplementedError: fill in full_ov_circuit",
        "copying_score raised NotImplementedError: fill in copying_score",
    ]
    assert run_snippet("step4/k_composition_stub.py") == [
        "k_composition_score raised NotImplementedError: fill in k_composition_score"
    ]


def test_the_solutions_pass_their_checkers_and_print_each_head_beside_the_baseline():
    """Their numbers are the page's claims (docs/fundamentals/step4-key-concepts.md); here, that they pass and repeat."""
    copying = run_snippet("step4/copying_score_solution.py")
    assert [line.split(":")[0] for line in copying[:2]] == [
        "[step4] PASS  full_ov_circuit",
        "[step4] PASS  copying_score",
    ]
    assert copying[-1].startswith("random heads: mean ") and "chance 1/" in copying[-1]
    composing = run_snippet("step4/k_composition_solution.py")
    assert composing[0].startswith("[step4] PASS  k_composition_score:")
    assert sum("random pairs: mean" in line for line in composing) == 2  # each model beside its baseline
    assert run_snippet("step4/k_composition_solution.py") == composing  # deterministic
