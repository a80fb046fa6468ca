"""Checkers of ``mi_course.toy_models``' SAE exercise: the training loss of a sparse autoencoder,
and the SAE it trains.

Introduced on the page "Step 4: Key concepts". ``check_sae_loss`` runs your ``sae_loss`` and the
course's reference (``mi_course.toy_models.sae_loss``) on the same seeded random SAEs and activations,
compares the values and the gradients, and when they differ compares your value with common mistakes
to say what probably went wrong. ``check_trained_sae`` judges an SAE you trained on a toy model by
the field's standard metrics, beside a random SAE of the same shape, which fails them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from torch import Tensor

from mi_course import toy_models
from mi_course.checkers.harness import ATOL, call, check_callable, diagnose, report
from mi_course.checkers.report import CheckerInputError, CheckReport, CriterionResult
from mi_course.toy_models import (
    SparseAutoencoder,
    ToyConfig,
    ToyModel,
    evaluate_sae,
    random_sae,
    train_sae,
    train_toy_model,
)

STEP = "step4"
# (batch, d_in, d_sae, l1_coefficient) of each case: sizes differ within a case, so a swapped axis shows,
# and across cases, as does the coefficient, so a loss that hard-codes one of them fails the other
_CASES = ((6, 3, 8, 0.3), (5, 4, 11, 0.7))
SaeLoss = Callable[[SparseAutoencoder, Tensor, float], Tensor]
# What a trained SAE must reach on held-out activations: most features found, a faithful reconstruction,
# few dead latents, and sparse codes (at most this many times the features active per input).
MIN_RECOVERED, MAX_FVU, MAX_DEAD, MAX_L0_RATIO = 0.9, 0.2, 0.25, 3.0
# The exercise's toy model: 30 equally important features in 10 dimensions, where a random SAE finds none.
EXERCISE_CONFIG = ToyConfig(
    n_features=30,
    d_hidden=10,
    feature_probability=0.05,
    importance_decay=1.0,
    steps=1_000,
)
EXERCISE_D_SAE, EXERCISE_L1 = 60, 0.2


def check_sae_loss(sae_loss: SaeLoss) -> CheckReport:
    """Check ``sae_loss(sae, h, l1_coefficient) -> ()``: squared error plus the decoder-norm-weighted L1 of the latents.

    Each random SAE has biases that make some pre-activations negative and decoder rows of norms
    other than 1, so a penalty on the wrong tensor, or one without the decoder norms, shows.
    """
    check_callable(sae_loss, "check_sae_loss", "your sae_loss function")
    generator = torch.Generator().manual_seed(0)
    for batch, d_in, d_sae, l1_coefficient in _CASES:
        sae = _random_sae(d_in, d_sae, generator)
        h = torch.randn(batch, d_in, generator=generator)
        expected, expected_grads = _value_and_grads(
            toy_models.sae_loss, sae, h, l1_coefficient
        )  # the reference: the page's solution
        learners = copy.deepcopy(sae)
        got = _scalar(
            lambda: sae_loss(learners, h.clone(), l1_coefficient), batch, d_in
        )
        case = f"with {batch} inputs, d_in = {d_in}, d_sae = {d_sae}, l1_coefficient = {l1_coefficient}"
        failure = diagnose(
            got,
            expected,
            lambda: _mistakes(sae, h, l1_coefficient),
            "the loss is the mean over the batch of |reconstruction - h|^2 (summed over d_in) "
            "plus l1_coefficient * sum_i latents_i * |W_dec[i]|",
        )
        if failure is not None:
            return _report(False, f"{case}, {failure}")
        if got.grad_fn is None:
            return _report(
                False,
                f"{case}, the value is right but carries no gradient: compute it from sae's parameters, "
                "without .item(), .detach() or torch.no_grad()",
            )
        got.backward()
        wrong = [
            name
            for name, parameter in learners.named_parameters()
            if not torch.allclose(_grad(parameter), expected_grads[name], atol=ATOL)
        ]
        if wrong:
            return _report(
                False,
                f"{case}, the value is right but the gradient with respect to {', '.join(wrong)} is not: "
                "compute the loss from sae's parameters as they are, without detaching a part or editing sae in place",
            )
    cases = "; ".join(
        f"{batch} inputs, d_in = {d_in}, d_sae = {d_sae}, l1_coefficient = {l1}"
        for batch, d_in, d_sae, l1 in _CASES
    )
    return _report(
        True, f"value and gradients match the reference on random SAEs: {cases}"
    )


def train_with(sae_loss: SaeLoss) -> tuple[ToyModel, ToyConfig, SparseAutoencoder]:
    """The exercise's toy model, and an SAE trained on it with ``sae_loss``: what ``check_trained_sae`` judges."""
    if not callable(sae_loss):
        raise CheckerInputError(
            f"train_with expected your sae_loss function, got {type(sae_loss).__name__}"
        )
    model = train_toy_model(EXERCISE_CONFIG)
    try:
        sae = train_sae(
            model,
            EXERCISE_CONFIG,
            d_sae=EXERCISE_D_SAE,
            l1_coefficient=EXERCISE_L1,
            steps=EXERCISE_CONFIG.steps,
            loss=sae_loss,
        )
    except Exception as error:
        raise CheckerInputError(
            f"training with your sae_loss raised {type(error).__name__}: {error}"
        ) from error
    return model, EXERCISE_CONFIG, sae


def check_trained_sae(
    model: ToyModel, cfg: ToyConfig, sae: SparseAutoencoder
) -> CheckReport:
    """Check an SAE trained on ``model``'s hidden activations: recovery, FVU, dead latents and L0, beside a random SAE."""
    for value, kind, what in (
        (model, ToyModel, "the toy model"),
        (cfg, ToyConfig, "its ToyConfig"),
        (sae, SparseAutoencoder, "your SAE"),
    ):
        if not isinstance(value, kind):
            raise CheckerInputError(
                f"check_trained_sae expected {what} ({kind.__name__}), got {type(value).__name__}"
            )
    try:
        trained = evaluate_sae(model, cfg, sae)
    except (TypeError, ValueError) as error:
        raise CheckerInputError(f"check_trained_sae: {error}") from None
    baseline = evaluate_sae(model, cfg, random_sae(cfg.d_hidden, trained.d_sae))
    active = cfg.n_features * cfg.feature_probability
    failures = [
        *(
            [
                f"only {trained.recovered} of {trained.n_features} features found: train longer or raise d_sae"
            ]
            if trained.recovered < MIN_RECOVERED * trained.n_features
            else []
        ),
        *(
            [
                f"FVU {trained.fvu:.3f} > {MAX_FVU}: the reconstruction is poor; lower l1_coefficient"
            ]
            if trained.fvu > MAX_FVU
            else []
        ),
        *(
            [f"{trained.dead} of {trained.d_sae} latents are dead"]
            if trained.dead > MAX_DEAD * trained.d_sae
            else []
        ),
        *(
            [
                f"L0 {trained.l0:.2f} is not sparse (the inputs have {active:.1f} active features); raise l1_coefficient"
            ]
            if trained.l0 > MAX_L0_RATIO * active
            else []
        ),
    ]
    measured = f"trained: {trained}; a random SAE of its shape: {baseline}" + (
        f"; {'; '.join(failures)}" if failures else ""
    )
    criterion = (
        f">= {MIN_RECOVERED:.0%} of features at cosine > {trained.threshold:g}, FVU <= {MAX_FVU}, "
        f"<= {MAX_DEAD:.0%} dead latents, L0 <= {MAX_L0_RATIO:g} x the active features"
    )
    return CheckReport(
        "step4", (CriterionResult("trained SAE", not failures, measured, criterion),)
    )


def _random_sae(d_in: int, d_sae: int, generator: torch.Generator) -> SparseAutoencoder:
    """An SAE with every parameter random: biases that make some latents inactive, decoder rows of norm 0.5 to 2."""
    with torch.random.fork_rng(
        devices=[]
    ):  # the learner's global generator stays as it was
        sae = SparseAutoencoder(d_in, d_sae)
    with torch.no_grad():
        sae.W_enc.copy_(torch.randn(d_in, d_sae, generator=generator) / d_in**0.5)
        sae.b_enc.copy_(torch.randn(d_sae, generator=generator) * 0.5)
        norms = 0.5 + 1.5 * torch.rand(d_sae, 1, generator=generator)
        sae.W_dec.copy_(
            torch.nn.functional.normalize(
                torch.randn(d_sae, d_in, generator=generator), dim=1
            )
            * norms
        )
        sae.b_dec.copy_(torch.randn(d_in, generator=generator) * 0.3)
    return sae


def _value_and_grads(
    loss: SaeLoss, sae: SparseAutoencoder, h: Tensor, l1_coefficient: float
) -> tuple[Tensor, dict[str, Tensor]]:
    sae = copy.deepcopy(sae)
    value = loss(sae, h.clone(), l1_coefficient)
    value.backward()
    return value.detach(), {
        name: _grad(parameter) for name, parameter in sae.named_parameters()
    }


def _grad(parameter: Tensor) -> Tensor:
    return torch.zeros_like(parameter) if parameter.grad is None else parameter.grad


def _scalar(call_: Callable[[], object], batch: int, d_in: int) -> Tensor:
    got = call("sae_loss", call_)
    if not isinstance(got, Tensor) or got.shape != ():
        described = (
            f"shape {tuple(got.shape)}"
            if isinstance(got, Tensor)
            else type(got).__name__
        )
        raise CheckerInputError(
            f"sae_loss: expected a scalar tensor (shape ()) for h of shape ({batch}, {d_in}); "
            f"average over the batch, got {described}"
        )
    return got


@torch.no_grad()
def _mistakes(
    sae: SparseAutoencoder, h: Tensor, l1_coefficient: float
) -> list[tuple[Tensor, str]]:
    reconstruction, latents = sae(h)
    pre = sae.pre_activations(h)
    norms = sae.W_dec.norm(dim=1)
    squared_error = (reconstruction - h).pow(2).sum(dim=-1)
    sparsity = (latents * norms).sum(dim=-1)

    def loss(
        error: Tensor, penalty: Tensor, coefficient: float = l1_coefficient
    ) -> Tensor:
        return (error + coefficient * penalty).mean()

    on_pre = [
        (pre.abs() * norms).sum(-1),
        pre.abs().sum(-1),
        (pre * norms).sum(-1),
        pre.sum(-1),
    ]
    return [
        (
            squared_error.mean(),
            "add the sparsity penalty: l1_coefficient times the latents' L1 norm, each weighted by its decoder norm",
        ),
        *(
            (
                loss(squared_error, penalty),
                "penalise the latents (the second output of sae(h)), not the reconstruction",
            )
            for penalty in (reconstruction.abs().sum(-1), reconstruction.sum(-1))
        ),
        *(
            (
                loss(squared_error, penalty),
                "penalise the latents after the ReLU (sae.encode(h)), not the pre-activations: "
                "a latent below 0 is inactive and should cost nothing",
            )
            for penalty in on_pre
        ),
        (
            loss(squared_error, latents.sum(-1)),
            "weight each latent by the norm of its decoder row, sae.W_dec.norm(dim=1): "
            "without it the SAE can dodge the penalty by shrinking a latent and growing its decoder row",
        ),
        *(
            (
                (l1_coefficient * squared_error + penalty).mean(),
                "l1_coefficient multiplies the sparsity penalty only, not the reconstruction error",
            )
            for penalty in (sparsity, latents.sum(-1))
        ),
        (
            loss(squared_error, (latents * norms).mean(-1)),
            "sum the penalty over the latents; you averaged over them",
        ),
        (
            loss((reconstruction - h).pow(2).mean(-1), sparsity),
            "sum the squared error over the hidden dimension; you averaged over it (as F.mse_loss does)",
        ),
        (
            (squared_error + l1_coefficient * sparsity).sum(),
            "average over the batch; you summed",
        ),
        (
            loss((reconstruction - h).norm(dim=-1), sparsity),
            "the reconstruction error is the squared distance |reconstruction - h|^2, not the distance",
        ),
        (
            loss(squared_error, (latents * norms.pow(2)).sum(-1)),
            "weight each latent by its decoder norm, not the norm squared",
        ),
        (
            loss(squared_error, (latents.pow(2) * norms).sum(-1)),
            "an L1 penalty: the latents themselves, not their squares",
        ),
        *(
            (
                loss(squared_error, sparsity, fixed),
                f"you used l1_coefficient = {fixed}: take it from the argument",
            )
            for *_, fixed in _CASES
            if fixed != l1_coefficient
        ),
    ]


def _report(passed: bool, measured: str) -> CheckReport:
    return report(
        STEP,
        "sae_loss",
        passed,
        measured,
        criterion=f"value and gradients within {ATOL:.0e} of the reference",
    )
