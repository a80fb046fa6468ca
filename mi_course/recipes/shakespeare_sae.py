"""shakespeare-char-sae: a sparse autoencoder of shakespeare-char's residual stream after its first two layers.

Its data is the shipped shakespeare-char's activations at ``blocks.2.hook_resid_pre`` on windows
of the training split (nanoGPT's first 90%); its metrics are measured on windows of the held-out
10%, beside a random SAE of the same shape. SAELens, the field's SAE library, is not used: its
current release (6.54) requires TransformerLens below 4, and the course runs on TransformerLens 4.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import torch
from torch import Tensor

from mi_course import _checks
from mi_course.datasets import SHAKESPEARE_PIN, load_shakespeare
from mi_course.recipes.shakespeare_char import shakespeare_split
from mi_course.residual_sae import (
    evaluate_residual_sae,
    random_residual_sae,
    residual_activations,
    train_residual_sae,
)
from mi_course.training import TrainedModel
from mi_course.zoo import SAE_KIND, ModelCard, load_model


@dataclass(frozen=True)
class SAERecipe:
    """What the SAE reads, its width, and how it trains."""

    model: str = "shakespeare-char"
    hook: str = "blocks.2.hook_resid_pre"
    d_sae: int = 512
    l1_coefficient: float = 3.0
    steps: int = 2_000
    lr: float = 1e-3
    batch_size: int = 4_096
    windows: int = (
        2_048  # of 64 characters from the training split: 131,072 activations
    )
    held_out_windows: int = 256
    seed: int = 0


SAE_RECIPE = SAERecipe()


def _random_windows(
    ids: Tensor, count: int, bos: int, *, seed: int, length: int = 64
) -> Tensor:
    """``count`` windows of ``length`` consecutive ids at random starts, each after BOS: ``(count, length + 1)``."""
    starts = torch.randint(
        0, len(ids) - length, (count,), generator=torch.Generator().manual_seed(seed)
    )
    return torch.cat(
        [
            torch.full((count, 1), bos),
            torch.stack([ids[start : start + length] for start in starts.tolist()]),
        ],
        dim=1,
    )


def train_shakespeare_sae(recipe: SAERecipe = SAE_RECIPE) -> TrainedModel:
    """Train the SAE from its seed on shakespeare-char's activations; measure it and a random SAE on held-out text."""
    _checks.instance(recipe, SAERecipe, "train_shakespeare_sae", "recipe")
    model = load_model(recipe.model, device="cpu")
    bos = model.cfg.d_vocab - 1
    _, training_ids, held_out_ids = shakespeare_split(load_shakespeare())
    start = time.perf_counter()
    activations = residual_activations(
        model,
        _random_windows(training_ids, recipe.windows, bos, seed=recipe.seed),
        recipe.hook,
    )
    sae = train_residual_sae(
        activations,
        model=recipe.model,
        hook=recipe.hook,
        d_sae=recipe.d_sae,
        l1_coefficient=recipe.l1_coefficient,
        steps=recipe.steps,
        lr=recipe.lr,
        batch_size=recipe.batch_size,
        seed=recipe.seed,
    )
    seconds = time.perf_counter() - start
    held_out = _random_windows(
        held_out_ids, recipe.held_out_windows, bos, seed=recipe.seed + 1
    )
    trained = evaluate_residual_sae(model, sae, held_out)
    # Random directions keep the activation's direction when about half of them are active, and the
    # LayerNorms after the hook ignore scale; so the random baseline is also held to the trained L0.
    baselines = {
        "random": random_residual_sae(sae),
        "random at the trained L0": random_residual_sae(sae, top_k=round(trained.l0)),
    }
    metrics = {
        "trained": asdict(trained),
        **{
            name: asdict(evaluate_residual_sae(model, baseline, held_out))
            for name, baseline in baselines.items()
        },
    }
    card = ModelCard(
        name="shakespeare-char-sae",
        description=f"sparse autoencoder ({recipe.d_sae} latents) of shakespeare-char's residual stream at {recipe.hook}",
        config={
            "kind": SAE_KIND,
            "model": recipe.model,
            "hook": recipe.hook,
            "d_in": sae.d_in,
            "d_sae": sae.d_sae,
            "scale": sae.scale,
        },
        tokenizer={"kind": "of its model", "model": recipe.model},
        sha256="",
        data=f"{SHAKESPEARE_PIN}: shakespeare-char's activations at {recipe.hook} on {recipe.windows} windows of 64 characters "
        f"from the training split (first 90%); metrics on {recipe.held_out_windows} windows of the held-out 10%",
        training={
            "command": "python -m mi_course train shakespeare-char-sae",
            "recipe": asdict(recipe),
            "seconds": round(seconds, 1),
            "loss": "mi_course.toy_models.sae_loss: squared error + l1_coefficient x the decoder-norm-weighted L1 of the latents",
        },
        metrics=metrics,
    )
    return TrainedModel(
        {name: value.detach().clone() for name, value in sae.sae.state_dict().items()},
        card,
    )
