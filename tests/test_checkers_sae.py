"""mi_course.checkers.sae: the SAE loss checker passes the course's loss and names each plausible mistake."""

import contextlib
import inspect
import io
from pathlib import Path

import pytest
import torch.nn.functional as F

from mi_course import CheckerInputError, toy_models
from mi_course.checkers.sae import EXERCISE_CONFIG, EXERCISE_D_SAE, check_sae_loss, check_trained_sae, train_with
from mi_course.toy_models import random_sae, sae_loss, train_sae
from site_tools.pages import SECTION_MARKER, Snippet

ROOT = Path(__file__).resolve().parents[1]


def variant(
    error="sum", penalty_on="latents", weight="norm", reduce_latents="sum", coefficient_on="penalty", batch="mean"
):
    """An SAE loss as a learner might write it: the reference when every argument is its default."""

    def loss(sae, h, l1_coefficient):
        reconstruction, latents = sae(h)
        squared = (reconstruction - h).pow(2)
        error_term = {"sum": squared.sum(-1), "mean": squared.mean(-1), "distance": (reconstruction - h).norm(dim=-1)}[
            error
        ]
        tensor = {"latents": latents, "reconstruction": reconstruction.abs(), "pre": sae.pre_activations(h).abs()}[
            penalty_on
        ]
        norms = sae.W_dec.norm(dim=1)
        weighted = (
            tensor * {"norm": norms, "none": 1.0, "squared": norms**2}[weight]
            if penalty_on != "reconstruction"
            else tensor
        )
        penalty = weighted.sum(-1) if reduce_latents == "sum" else weighted.mean(-1)
        total = (
            error_term + l1_coefficient * penalty
            if coefficient_on == "penalty"
            else l1_coefficient * error_term + penalty
        )
        return total.mean() if batch == "mean" else total.sum()

    return loss


def detached_norms(sae, h, l1_coefficient):
    reconstruction, latents = sae(h)
    norms = sae.W_dec.norm(dim=1).detach()
    return ((reconstruction - h).pow(2).sum(-1) + l1_coefficient * (latents * norms).sum(-1)).mean()


def normalized_in_place(sae, h, l1_coefficient):
    sae.normalize_decoder()  # same function and loss value, but the gradient no longer reaches the decoder norms
    reconstruction, latents = sae(h)
    return ((reconstruction - h).pow(2).sum(-1) + l1_coefficient * latents.sum(-1)).mean()


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (
            variant(penalty_on="reconstruction"),
            "penalise the latents (the second output of sae(h)), not the reconstruction",
        ),
        (variant(penalty_on="pre"), "not the pre-activations"),
        (variant(penalty_on="pre", weight="none"), "not the pre-activations"),
        (variant(weight="none"), "weight each latent by the norm of its decoder row, sae.W_dec.norm(dim=1)"),
        (
            variant(coefficient_on="error"),
            "l1_coefficient multiplies the sparsity penalty only, not the reconstruction error",
        ),
        (variant(coefficient_on="error", weight="none"), "l1_coefficient multiplies the sparsity penalty only"),
        (variant(reduce_latents="mean"), "sum the penalty over the latents; you averaged over them"),
        (variant(error="mean"), "sum the squared error over the hidden dimension; you averaged over it"),
        (
            lambda sae, h, l1: (
                F.mse_loss(sae(h)[0], h, reduction="none").mean(-1).mean()
                + l1 * (sae(h)[1] * sae.W_dec.norm(dim=1)).sum(-1).mean()
            ),
            "you averaged over it (as F.mse_loss does)",
        ),
        (variant(batch="sum"), "average over the batch; you summed"),
        (variant(error="distance"), "the squared distance |reconstruction - h|^2, not the distance"),
        (variant(weight="squared"), "not the norm squared"),
        (
            lambda sae, h, l1: variant()(sae, h, 0.3),
            "l1_coefficient = 0.7, differs from the reference by 4.3; you used l1_coefficient = 0.3",
        ),
        (lambda sae, h, l1: (sae(h)[0] - h).pow(2).sum(-1).mean(), "add the sparsity penalty"),
        (
            lambda sae, h, l1: variant()(sae, h, l1) * 1.01,
            "the loss is the mean over the batch of |reconstruction - h|^2",
        ),
        (lambda sae, h, l1: variant()(sae, h, l1).detach(), "the value is right but carries no gradient"),
        (detached_norms, "the gradient with respect to W_dec is not"),
        (normalized_in_place, "the value is right but the gradient with respect to"),
    ],
)
def test_the_sae_loss_checker_names_each_mistake(wrong, hint):
    report = check_sae_loss(wrong)
    assert not report.passed and hint in str(report), str(report)


def test_the_sae_loss_checker_passes_the_reference_and_a_learners_version():
    for loss in (sae_loss, variant()):
        report = check_sae_loss(loss)
        assert (
            report.passed
            and "6 inputs, d_in = 3, d_sae = 8, l1_coefficient = 0.3; 5 inputs, d_in = 4, d_sae = 11" in str(report)
        )


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (sae_loss.__name__, "check_sae_loss expected your sae_loss function, got str"),
        (
            lambda sae, h, l1: variant()(sae, h, l1).item(),
            r"sae_loss: expected a scalar tensor \(shape \(\)\) for h of shape \(6, 3\); .*got float",
        ),
        (
            lambda sae, h, l1: (sae(h)[0] - h).pow(2).sum(-1),
            r"expected a scalar tensor .*average over the batch, got shape \(6,\)",
        ),
        (lambda sae, h, l1: (sae(h)[0] - h, sae(h)[1]), "expected a scalar tensor .*got tuple"),
        (lambda sae, h: sae(h), "sae_loss raised TypeError: "),
        (
            lambda sae, h, l1: (sae(h)[1] * sae.W_dec.norm(dim=0)).sum(),
            "sae_loss raised RuntimeError: The size of tensor a",
        ),  # norms over d_sae
    ],
)
def test_the_sae_loss_checker_refuses_what_it_cannot_check_in_one_line(given, message):
    with pytest.raises(CheckerInputError, match=message) as raised:
        check_sae_loss(given)
    assert "\n" not in str(raised.value)


def test_the_stub_prints_the_checkers_one_line_and_the_solution_shows_the_trained_loss():
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(
            compile(Snippet("step4/sae_loss_stub.py", ROOT).script, "sae_loss_stub.py", "exec"),
            {"__name__": "__main__"},
        )
    assert printed.getvalue() == "sae_loss raised NotImplementedError: fill in sae_loss\n"
    solution = Snippet("step4/sae_loss_solution.py", ROOT)
    assert solution.includes == ["mi_course/toy_models.py:sae-loss"]
    shown = "\n".join(
        line
        for line in inspect.getsource(sae_loss).split("\n")
        if not line.startswith("@") and not SECTION_MARKER.match(line)
    )
    assert (
        shown in solution.script
        and solution.script.count("def sae_loss(") == 1
        and "train_with(sae_loss)" in solution.script
    )
    assert (
        inspect.signature(train_sae).parameters["loss"].default is toy_models.sae_loss
    )  # training uses the taught loss


@pytest.fixture(scope="module")
def trained():
    return train_with(sae_loss)


def test_the_trained_sae_check_passes_the_courses_sae_and_reports_the_random_baseline(trained):
    report = check_trained_sae(*trained)
    assert report.passed, str(report)
    assert "a random SAE of its shape: recovery median" in str(report)


@pytest.mark.parametrize(
    "why, make, failure",
    [
        ("a random SAE", lambda model: random_sae(EXERCISE_CONFIG.d_hidden, EXERCISE_D_SAE), "features found"),
        (
            "barely trained",
            lambda model: train_sae(model, EXERCISE_CONFIG, d_sae=EXERCISE_D_SAE, steps=20),
            "features found",
        ),
        (
            "no sparsity penalty",
            lambda model: train_sae(model, EXERCISE_CONFIG, d_sae=EXERCISE_D_SAE, l1_coefficient=0.0, steps=1_000),
            "is not sparse",
        ),
        (
            "too much sparsity",
            lambda model: train_sae(model, EXERCISE_CONFIG, d_sae=EXERCISE_D_SAE, l1_coefficient=5.0, steps=1_000),
            "the reconstruction is poor",
        ),
    ],
)
def test_the_trained_sae_check_rejects_saes_that_do_not_find_the_features(trained, why, make, failure):
    model, cfg, _ = trained
    report = check_trained_sae(model, cfg, make(model))
    assert not report.passed, f"{why} passed: {report}"
    assert failure in str(report)


def test_the_trained_sae_check_refuses_what_it_cannot_judge_in_one_line(trained):
    model, cfg, sae = trained
    with pytest.raises(CheckerInputError, match="check_trained_sae expected your SAE \\(SparseAutoencoder\\), got str"):
        check_trained_sae(model, cfg, "sae")
    with pytest.raises(CheckerInputError, match="train_with expected your sae_loss function, got int"):
        train_with(3)
