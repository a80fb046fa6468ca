"""Sparse autoencoders on a language model's residual stream: its activations, training, the standard metrics, top contexts.

The SAE is Step 4's ``SparseAutoencoder`` trained with its ``sae_loss``; here its input is the
residual stream of a shipped model at one hook, divided by one scale so that its mean squared norm
is ``d_model`` (so one L1 coefficient suits any model). The metrics are the field's standard ones
(Bricken et al., 2023): L0, the fraction of variance unexplained, dead latents, and the share of
the next-token loss recovered when the SAE's reconstruction replaces the activation in the forward
pass. Introduced on the page "Features in a language model".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from jaxtyping import Float
from torch import Tensor

from mi_course import _checks
from mi_course.runtime import progress, seed_everything
from mi_course.toy_models import (
    SparseAutoencoder,
    dead_latents,
    fraction_of_variance_unexplained,
    mean_l0,
    random_sae,
    sae_loss,
)

if (
    TYPE_CHECKING
):  # importing TransformerLens takes seconds; Step 1's checker should not wait for it
    from transformer_lens import TransformerBridge


@dataclass(frozen=True)
class ResidualSAE:
    """A sparse autoencoder of ``model``'s residual stream at ``hook``; it reads activations divided by ``scale``.

    With ``top_k``, only the ``top_k`` largest latents of each input stay active: a baseline can so
    be held to a trained SAE's L0.
    """

    sae: SparseAutoencoder
    model: str
    hook: str
    scale: float
    top_k: int | None = None

    @property
    def d_in(self) -> int:
        return self.sae.W_dec.shape[1]

    @property
    def d_sae(self) -> int:
        return self.sae.W_dec.shape[0]

    def encode(
        self, activations: Float[Tensor, "... d_in"]
    ) -> Float[Tensor, "... d_sae"]:
        """The latents of each activation vector, ``>= 0``."""
        latents = self.sae.encode(self._scaled(activations, "ResidualSAE.encode"))
        if self.top_k is None:
            return latents
        kept = latents.topk(self.top_k, dim=-1)
        return torch.zeros_like(latents).scatter(-1, kept.indices, kept.values)

    def reconstruct(
        self, activations: Float[Tensor, "... d_in"]
    ) -> Float[Tensor, "... d_in"]:
        """Each activation vector as the SAE rebuilds it, in the activations' own scale."""
        return (self.encode(activations) @ self.sae.W_dec + self.sae.b_dec) * self.scale

    def _scaled(self, activations: Tensor, function: str) -> Tensor:
        if (
            not isinstance(activations, Tensor)
            or activations.ndim < 1
            or activations.shape[-1] != self.d_in
        ):
            got = (
                f"width {activations.shape[-1]}"
                if isinstance(activations, Tensor) and activations.ndim
                else _checks.described(activations)
            )
            raise ValueError(
                f"{function} expected activations of width {self.d_in} (the SAE's d_in, {self.model}'s d_model at "
                f"{self.hook}), got {got}"
            )
        return activations / self.scale


@torch.no_grad()  # not inference mode: a probe trains on what this returns
def residual_activations(
    model: TransformerBridge, tokens: Tensor, hook: str, *, batch_size: int = 256
) -> Float[Tensor, "n d_model"]:
    """The activations at ``hook`` for every position of ``tokens`` but the first (BOS), as rows: ``(batch * (pos - 1), d_model)``."""
    _checks.model(model, "residual_activations")
    _checks.tokens(tokens, "residual_activations", model)
    _checks.instance(hook, str, "residual_activations", "hook")
    rows = []
    for batch in tokens.split(batch_size):
        _, cache = model.run_with_cache(batch, names_filter=lambda name: name == hook)
        rows.append(cache[hook][:, 1:].reshape(-1, cache[hook].shape[-1]))
    return torch.cat(rows)


def train_residual_sae(
    activations: Float[Tensor, "n d_model"],
    *,
    model: str,
    hook: str,
    d_sae: int,
    l1_coefficient: float,
    steps: int,
    lr: float = 1e-3,
    batch_size: int = 4_096,
    seed: int = 0,
    loss: Callable[[SparseAutoencoder, Tensor, float], Tensor] = sae_loss,
) -> ResidualSAE:
    """Train an SAE with Adam on random batches of ``activations``, minimising ``loss`` (default ``sae_loss``).

    Its decoder bias starts at the activations' mean; at the end ``normalize_decoder`` gives each
    latent a unit direction without changing what the SAE computes.
    """
    _checks.tensor(
        activations, "train_residual_sae", "activations", dims=("n", "d_model")
    )
    for what, value, minimum in (
        ("d_sae", d_sae, 1),
        ("steps", steps, 0),
        ("batch_size", batch_size, 1),
        ("seed", seed, 0),
    ):
        _checks.integer(value, "train_residual_sae", what, minimum=minimum)
    _checks.number(l1_coefficient, "train_residual_sae", "l1_coefficient", minimum=0)
    _checks.number(lr, "train_residual_sae", "lr", positive=True)
    scale = (
        activations.pow(2).sum(dim=-1).mean().div(activations.shape[1]).sqrt().item()
    )
    inputs = activations / scale
    seed_everything(seed)
    generator = torch.Generator().manual_seed(seed + 1)
    sae = SparseAutoencoder(inputs.shape[1], d_sae)
    with torch.no_grad():
        sae.b_dec.copy_(inputs.mean(dim=0))
    optimizer = torch.optim.Adam(sae.parameters(), lr=lr)
    bar = progress(range(steps), steps, f"SAE of {model} at {hook}")
    for step in bar:
        value = loss(
            sae,
            inputs[torch.randint(0, len(inputs), (batch_size,), generator=generator)],
            l1_coefficient,
        )
        optimizer.zero_grad()
        value.backward()
        optimizer.step()
        if step % 50 == 0 and not bar.disable:
            bar.set_postfix(loss=f"{value.item():.4f}")
    sae.normalize_decoder()
    return ResidualSAE(sae.eval(), model, hook, scale)


def random_residual_sae(
    like: ResidualSAE, *, top_k: int | None = None, seed: int = 0
) -> ResidualSAE:
    """The baseline: an SAE of ``like``'s shape and scale whose latents are random unit directions (``random_sae``).

    Without ``top_k`` about half its latents are active on any input; with it, ``top_k`` are.
    """
    _checks.instance(like, ResidualSAE, "random_residual_sae", "like")
    if top_k is not None:
        _checks.integer(
            top_k, "random_residual_sae", "top_k", minimum=1, maximum=like.d_sae
        )
    return ResidualSAE(
        random_sae(like.d_in, like.d_sae, seed=seed),
        like.model,
        like.hook,
        like.scale,
        top_k,
    )


@dataclass(frozen=True)
class ResidualSAEEvaluation:
    """What ``evaluate_residual_sae`` measured; ``str`` gives it on one line."""

    l0: float  # mean active latents per position
    fvu: float  # fraction of variance unexplained
    dead: int  # latents never active on the evaluation tokens
    d_sae: int
    clean_loss: float  # next-token loss in nats, the model as it is
    spliced_loss: float  # with the SAE's reconstruction in place of the activation
    zero_loss: float  # with the activation set to zero
    loss_recovered: float  # (zero - spliced) / (zero - clean): 1 for a perfect SAE, 0 for no better than zero

    @property
    def delta_ce(self) -> float:
        """What splicing the SAE in costs, in nats per token: spliced loss - clean loss (0 for a perfect SAE)."""
        return self.spliced_loss - self.clean_loss

    def __str__(self) -> str:
        return (
            f"L0 {self.l0:.1f}; FVU {self.fvu:.3f}; dead latents {self.dead}/{self.d_sae}; next-token loss {self.clean_loss:.3f} clean, "
            f"{self.spliced_loss:.3f} with the SAE, {self.zero_loss:.3f} zeroed; loss recovered {self.loss_recovered:.3f}; "
            f"delta-CE {self.delta_ce:.3f} nats"
        )


@torch.inference_mode()
def evaluate_residual_sae(
    model: TransformerBridge, sae: ResidualSAE, tokens: Tensor
) -> ResidualSAEEvaluation:
    """L0, FVU, dead latents and loss recovered of ``sae`` on ``tokens`` (BOS first; the BOS position is left as it is)."""
    _checks.model(model, "evaluate_residual_sae")
    _checks.instance(sae, ResidualSAE, "evaluate_residual_sae", "sae")
    _checks.tokens(tokens, "evaluate_residual_sae", model)
    activations = residual_activations(model, tokens, sae.hook)
    reconstruction, latents = sae.reconstruct(activations), sae.encode(activations)
    clean, spliced, zero = (
        spliced_loss(model, tokens, sae.hook, replace)
        for replace in (None, sae.reconstruct, torch.zeros_like)
    )
    return ResidualSAEEvaluation(
        mean_l0(latents),
        fraction_of_variance_unexplained(activations, reconstruction),
        dead_latents(latents),
        sae.d_sae,
        clean,
        spliced,
        zero,
        (zero - spliced) / (zero - clean),
    )


@torch.inference_mode()
def spliced_loss(
    model: TransformerBridge,
    tokens: Tensor,
    hook: str,
    replace: Callable[[Tensor], Tensor] | None,
) -> float:
    """The next-token loss (nats per token) on ``tokens`` with the activation at ``hook`` replaced by ``replace(activation)``.

    ``replace`` sees every position but the first (BOS), as ``(batch, pos - 1, d_model)``; ``None`` leaves the model as it is.
    """
    _checks.model(model, "spliced_loss")
    _checks.tokens(tokens, "spliced_loss", model)
    _checks.instance(hook, str, "spliced_loss", "hook")
    if replace is not None and not callable(replace):
        raise TypeError(
            f"spliced_loss expected replace to be a function of the activation (or None), got {type(replace).__name__}"
        )

    def splice(activation: Tensor, hook) -> Tensor:
        activation = activation.clone()
        activation[:, 1:] = replace(activation[:, 1:])
        return activation

    logits = model.run_with_hooks(
        tokens, fwd_hooks=[(hook, splice)] if replace is not None else []
    )
    return F.cross_entropy(logits[:, :-1].flatten(0, 1), tokens[:, 1:].flatten()).item()


def pca_reconstruction(
    activations: Float[Tensor, "n d_model"], rank: int
) -> Callable[[Tensor], Tensor]:
    """A baseline for an SAE: the function that keeps the top ``rank`` principal components of ``activations`` (about their mean).

    Fitted on ``activations``; rank-matched to an SAE's L0, it is the best linear code with as many
    numbers per position as the SAE has active latents.
    """
    _checks.tensor(
        activations, "pca_reconstruction", "activations", dims=("n", "d_model")
    )
    _checks.integer(
        rank, "pca_reconstruction", "rank", minimum=1, maximum=activations.shape[1]
    )
    mean = activations.mean(dim=0)
    components = torch.linalg.svd(activations - mean, full_matrices=False).Vh[
        :rank
    ]  # (rank, d_model), orthonormal rows

    def reconstruct(activation: Tensor) -> Tensor:
        return (activation - mean.to(activation)) @ components.T.to(
            activation
        ) @ components.to(activation) + mean.to(activation)

    return reconstruct


@dataclass(frozen=True)
class LatentMatch:
    """How well one latent's firing (activation > 0) marks a labelled property of the positions."""

    latent: int
    f1: float
    precision: float  # of the positions where it fires, the share with the property
    recall: float  # of the positions with the property, the share where it fires


def best_latent_for(latents: Float[Tensor, "n d_sae"], labels: Tensor) -> LatentMatch:
    """The latent whose firing best marks the positions where ``labels`` is True, by F1."""
    _checks.tensor(latents, "best_latent_for", "latents", dims=("n", "d_sae"))
    if (
        not isinstance(labels, Tensor)
        or labels.dtype != torch.bool
        or labels.shape != latents.shape[:1]
    ):
        raise ValueError(
            f"best_latent_for expected labels of dtype bool and shape ({latents.shape[0]},), one per position, "
            f"got {_checks.described(labels)}"
        )
    if not labels.any():
        raise ValueError(
            "best_latent_for expected labels with at least one True position, got none"
        )
    # counts as float32 sums of 0s and 1s: exact below 2**24 positions, and far faster than bool sums
    fires = (latents > 0).float()
    both = labels.float() @ fires
    precision, recall = both / fires.sum(dim=0).clamp_min(1), both / labels.sum()
    f1 = 2 * precision * recall / (precision + recall).clamp_min(1e-12)
    best = int(f1.argmax())
    return LatentMatch(
        best, f1[best].item(), precision[best].item(), recall[best].item()
    )
