"""Toy models of superposition, and a sparse autoencoder that recovers their features.

Following Elhage et al., "Toy Models of Superposition" (2022): ``n_features`` sparse features are
squeezed through ``d_hidden < n_features`` dimensions and read back out with a ReLU. When features
are rarely active together, the model stores more features than it has dimensions, as directions
that interfere only a little. A sparse autoencoder trained on the hidden activations finds those
directions again; ``evaluate_sae`` measures how well, beside a random SAE of the same shape.
Introduced on the page "Step 4: Key concepts".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from jaxtyping import Float
from torch import Tensor, nn

from mi_course import _checks
from mi_course._checks import Call, IsA, Number, Shape, guard
from mi_course.runtime import seed_everything, torch_threads

HELD_OUT_SEED = (
    1_000  # evaluate_sae's data: a seed the course's training runs do not use
)


@dataclass(frozen=True)
class ToyConfig:
    """A toy model and its data: feature ``i`` matters ``importance_decay ** i`` and is active with ``feature_probability``."""

    n_features: int = 5
    d_hidden: int = 2
    feature_probability: float = 0.05
    importance_decay: float = 0.9
    batch_size: int = 1024
    steps: int = 3_000
    lr: float = 1e-2
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("n_features", "d_hidden", "batch_size"):
            _checks.integer(getattr(self, name), "ToyConfig", name, minimum=1)
        _checks.integer(self.steps, "ToyConfig", "steps", minimum=0)
        _checks.integer(self.seed, "ToyConfig", "seed", minimum=0)
        if (
            not 0
            <= _checks.number(
                self.feature_probability, "ToyConfig", "feature_probability"
            )
            <= 1
        ):
            raise ValueError(
                f"ToyConfig expected 0 <= feature_probability <= 1, got {self.feature_probability}"
            )
        _checks.number(
            self.importance_decay, "ToyConfig", "importance_decay", positive=True
        )
        _checks.number(self.lr, "ToyConfig", "lr", positive=True)

    @property
    def importance(self) -> Tensor:
        """``(n_features,)``: the weight of each feature's squared error in the toy model's loss, ``importance_decay ** i``."""
        return self.importance_decay ** torch.arange(
            self.n_features, dtype=torch.float32
        )


class ToyModel(nn.Module):
    """``x -> ReLU(W^T W x + b)``: features in, through ``d_hidden`` dimensions, features out."""

    def __init__(self, cfg: ToyConfig):
        _checks.instance(cfg, ToyConfig, "ToyModel", "cfg")
        super().__init__()
        self.W = nn.Parameter(
            nn.init.xavier_normal_(torch.empty(cfg.d_hidden, cfg.n_features))
        )
        self.b_final = nn.Parameter(torch.zeros(cfg.n_features))

    def hidden(self, features: Tensor) -> Tensor:
        return features @ self.W.T

    def forward(self, features: Tensor) -> Tensor:
        return F.relu(self.hidden(features) @ self.W + self.b_final)


class SparseAutoencoder(nn.Module):
    """``h -> latents = ReLU((h - b_dec) W_enc + b_enc) -> latents W_dec + b_dec``; row ``i`` of ``W_dec`` is latent ``i``'s direction."""

    def __init__(self, d_in: int, d_sae: int):
        _checks.integer(d_in, "SparseAutoencoder", "d_in", minimum=1)
        _checks.integer(d_sae, "SparseAutoencoder", "d_sae", minimum=1)
        super().__init__()
        self.W_enc = nn.Parameter(nn.init.kaiming_uniform_(torch.empty(d_in, d_sae)))
        self.b_enc = nn.Parameter(torch.zeros(d_sae))
        self.W_dec = nn.Parameter(self.W_enc.detach().T.clone())
        self.b_dec = nn.Parameter(torch.zeros(d_in))

    def pre_activations(self, h: Tensor) -> Tensor:
        """``(batch, d_sae)``: the encoder's output before the ReLU."""
        return (h - self.b_dec) @ self.W_enc + self.b_enc

    def encode(self, h: Tensor) -> Tensor:
        """``(batch, d_sae)``: the latent activations, >= 0."""
        return F.relu(self.pre_activations(h))

    def forward(self, h: Tensor) -> tuple[Tensor, Tensor]:
        """``(reconstruction, latents)``."""
        latents = self.encode(h)
        return latents @ self.W_dec + self.b_dec, latents

    @torch.no_grad()
    def normalize_decoder(self) -> None:
        """Scale each decoder row to norm 1 and its latent up by the same factor: the SAE computes the same function."""
        norms = self.W_dec.norm(dim=1).clamp_min(1e-12)  # (d_sae,)
        self.W_dec /= norms[:, None]
        self.W_enc *= norms  # ReLU(c z) = c ReLU(z) for c > 0
        self.b_enc *= norms


def _sae_input(h: object, name: str, call: Call) -> Tensor:
    """``(batch, d_in)`` activations, for the SAE's ``d_in``."""
    d_in = call.arguments["sae"].W_dec.shape[1]
    if Shape("batch d_in")(h, name, call).shape[1] != d_in:
        raise ValueError(
            f"{call.function} expected h of shape (batch, {d_in}) for the SAE's d_in, got {tuple(h.shape)}"
        )
    return h


@guard(sae=IsA(SparseAutoencoder), h=_sae_input, l1_coefficient=Number(minimum=0))
# --8<-- [start:sae-loss]
def sae_loss(
    sae: SparseAutoencoder, h: Float[Tensor, "batch d_in"], l1_coefficient: float
) -> Float[Tensor, ""]:
    """Squared reconstruction error plus ``l1_coefficient`` times the latents' L1 norm,
    each latent weighted by its decoder norm.

    The weight ``||W_dec[i]||`` (Anthropic's April 2024 update) is the decoder-norm
    constraint: without it the SAE could dodge the penalty by shrinking a latent and
    growing its decoder row by the same factor.
    """
    reconstruction, latents = sae(h)  # (batch, d_in), (batch, d_sae)
    squared_error = (
        (reconstruction - h).pow(2).sum(dim=-1)
    )  # (batch,): summed over the hidden dimension
    decoder_norms = sae.W_dec.norm(
        dim=1
    )  # (d_sae,): the length of each latent's direction
    sparsity = (latents * decoder_norms).sum(
        dim=-1
    )  # (batch,): latents are >= 0, so this is their weighted L1 norm
    return (squared_error + l1_coefficient * sparsity).mean()  # over the batch


# --8<-- [end:sae-loss]


def _sparse_features(batch: int, cfg: ToyConfig, generator: torch.Generator) -> Tensor:
    """``(batch, n_features)``: each feature uniform in [0, 1] with probability ``feature_probability``, else 0."""
    _checks.integer(batch, "_sparse_features", "batch", minimum=1)
    _checks.instance(cfg, ToyConfig, "_sparse_features", "cfg")
    _checks.instance(generator, torch.Generator, "_sparse_features", "generator")
    values = torch.rand(batch, cfg.n_features, generator=generator)
    active = (
        torch.rand(batch, cfg.n_features, generator=generator) < cfg.feature_probability
    )
    return values * active


def train_toy_model(cfg: ToyConfig = ToyConfig()) -> ToyModel:
    """Train with Adam on importance-weighted squared error, from ``cfg.seed``."""
    _checks.instance(cfg, ToyConfig, "train_toy_model", "cfg")
    seed_everything(cfg.seed)
    generator = torch.Generator().manual_seed(cfg.seed)
    model = ToyModel(cfg)
    importance = cfg.importance
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    with torch_threads(1):  # a model this small trains fastest on one thread
        for _ in range(cfg.steps):
            features = _sparse_features(cfg.batch_size, cfg, generator)
            loss = (importance * (model(features) - features) ** 2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model.eval()


def _checks_sae_fits(model: ToyModel, sae: SparseAutoencoder, function: str) -> None:
    _checks.instance(sae, SparseAutoencoder, function, "sae")
    if sae.W_dec.shape[1] != model.W.shape[0]:
        raise ValueError(
            f"{function} expected an SAE of the model's d_hidden = {model.W.shape[0]}, got one of d_in = {sae.W_dec.shape[1]}"
        )


def _checks_model_and_cfg(model: ToyModel, cfg: ToyConfig, function: str) -> None:
    _checks.instance(model, ToyModel, function, "model")
    _checks.instance(cfg, ToyConfig, function, "cfg")
    if cfg.n_features != model.W.shape[1]:
        raise ValueError(
            f"{function} expected cfg of the model's {model.W.shape[1]} features, got cfg.n_features={cfg.n_features}"
        )


def train_sae(
    model: ToyModel,
    cfg: ToyConfig,
    d_sae: int,
    *,
    l1_coefficient: float = 0.2,
    steps: int = 3_000,
    lr: float = 1e-2,
    seed: int = 0,
    loss: Callable[[SparseAutoencoder, Tensor, float], Tensor] = sae_loss,
) -> SparseAutoencoder:
    """Train a sparse autoencoder with Adam on ``model``'s hidden activations, minimising ``loss`` (default ``sae_loss``).

    The decoder is free during training (``sae_loss`` weights the penalty by its norms); at the end
    ``normalize_decoder`` gives each latent a unit direction without changing what the SAE computes.
    """
    _checks_model_and_cfg(model, cfg, "train_sae")
    _checks.integer(d_sae, "train_sae", "d_sae", minimum=1)
    _checks.integer(steps, "train_sae", "steps", minimum=0)
    _checks.integer(seed, "train_sae", "seed", minimum=0)
    _checks.number(l1_coefficient, "train_sae", "l1_coefficient", minimum=0)
    _checks.number(lr, "train_sae", "lr", positive=True)
    if not callable(loss):
        raise TypeError(
            f"train_sae expected loss to be a function (sae, h, l1_coefficient) -> loss, got {type(loss).__name__}"
        )
    seed_everything(seed)
    generator = torch.Generator().manual_seed(seed + 1)
    sae = SparseAutoencoder(model.W.shape[0], d_sae)
    optimizer = torch.optim.Adam(sae.parameters(), lr=lr)
    with torch_threads(1):
        for _ in range(steps):
            with torch.no_grad():
                h = model.hidden(_sparse_features(cfg.batch_size, cfg, generator))
            value = loss(sae, h, l1_coefficient)
            optimizer.zero_grad()
            value.backward()
            optimizer.step()
    sae.normalize_decoder()
    return sae.eval()


def random_sae(d_in: int, d_sae: int, *, seed: int = 0) -> SparseAutoencoder:
    """An untrained baseline: ``d_sae`` random unit directions as decoder rows, the encoder their transpose, biases 0.

    Each latent is ``ReLU(h . direction)``: what an SAE would be if its directions were chance.
    """
    _checks.integer(d_in, "random_sae", "d_in", minimum=1)
    _checks.integer(d_sae, "random_sae", "d_sae", minimum=1)
    _checks.integer(seed, "random_sae", "seed", minimum=0)
    with torch.random.fork_rng(
        devices=[]
    ):  # leave the global generator as it was: only seed picks the directions
        sae = SparseAutoencoder(d_in, d_sae)
    directions = F.normalize(
        torch.randn(d_sae, d_in, generator=torch.Generator().manual_seed(seed)), dim=1
    )
    with torch.no_grad():
        sae.W_dec.copy_(directions)
        sae.W_enc.copy_(directions.T)
        sae.b_enc.zero_()
        sae.b_dec.zero_()
    return sae.eval()


@torch.no_grad()
def feature_recovery(model: ToyModel, sae: SparseAutoencoder) -> Tensor:
    """For each of the model's features, the best cosine similarity between its direction and an SAE decoder row."""
    _checks.instance(model, ToyModel, "feature_recovery", "model")
    _checks_sae_fits(model, sae, "feature_recovery")
    features = F.normalize(model.W.T, dim=1)  # (n_features, d_hidden)
    decoder = F.normalize(sae.W_dec, dim=1)  # (d_sae, d_hidden)
    return (features @ decoder.T).max(dim=1).values


def _latents(latents: Tensor, function: str) -> Tensor:
    _checks.tensor(latents, function, "latents", dims=("batch", "d_sae"))
    if not latents.numel():
        raise ValueError(
            f"{function} expected latents of at least one input and one latent, got shape {tuple(latents.shape)}"
        )
    return latents


def mean_l0(latents: Float[Tensor, "batch d_sae"]) -> float:
    """L0: the mean, over the inputs, of how many latents are active (> 0)."""
    return (_latents(latents, "mean_l0") > 0).sum(dim=1).float().mean().item()


def dead_latents(latents: Float[Tensor, "batch d_sae"]) -> int:
    """How many latents are active (> 0) on none of the inputs."""
    return int((_latents(latents, "dead_latents") > 0).sum(dim=0).eq(0).sum())


def fraction_of_variance_unexplained(
    h: Float[Tensor, "batch d_in"], reconstruction: Float[Tensor, "batch d_in"]
) -> float:
    """FVU: the squared reconstruction error over ``h``'s squared deviation from its mean, summed over batch and dims.

    0 is a perfect reconstruction; 1 is no better than predicting the mean activation.
    """
    _checks.tensor(h, "fraction_of_variance_unexplained", "h", dims=("batch", "d_in"))
    _checks.tensor(
        reconstruction,
        "fraction_of_variance_unexplained",
        "reconstruction",
        dims=("batch", "d_in"),
    )
    if reconstruction.shape != h.shape:
        raise ValueError(
            f"fraction_of_variance_unexplained expected reconstruction of h's shape {tuple(h.shape)}, got {tuple(reconstruction.shape)}"
        )
    variance = (h - h.mean(dim=0)).pow(2).sum()
    if not variance > 0:
        raise ValueError(
            f"fraction_of_variance_unexplained expected h that varies across the batch, got h of shape {tuple(h.shape)} with no variance"
        )
    return ((reconstruction - h).pow(2).sum() / variance).item()


@dataclass(frozen=True)
class SAEEvaluation:
    """What ``evaluate_sae`` measured; ``str`` gives it on one line."""

    recovery_median: (
        float  # the median over the features of the cosine with the closest latent
    )
    recovered: int  # features whose closest latent has cosine > threshold
    n_features: int
    threshold: float
    l0: float  # mean active latents per input
    fvu: float  # fraction of variance unexplained
    dead: int  # latents never active on the held-out batch
    d_sae: int

    def __str__(self) -> str:
        return (
            f"recovery median {self.recovery_median:.2f}, {self.recovered}/{self.n_features} features with cosine > {self.threshold:g}; "
            f"L0 {self.l0:.2f}; FVU {self.fvu:.3f}; dead latents {self.dead}/{self.d_sae}"
        )


@torch.no_grad()
def evaluate_sae(
    model: ToyModel,
    cfg: ToyConfig,
    sae: SparseAutoencoder,
    *,
    threshold: float = 0.9,
    batch_size: int = 8_192,
    seed: int = HELD_OUT_SEED,
) -> SAEEvaluation:
    """Feature recovery, L0, FVU and dead latents of ``sae`` on a held-out batch of ``model``'s hidden activations."""
    _checks_model_and_cfg(model, cfg, "evaluate_sae")
    _checks_sae_fits(model, sae, "evaluate_sae")
    if not 0 < _checks.number(threshold, "evaluate_sae", "threshold") < 1:
        raise ValueError(f"evaluate_sae expected 0 < threshold < 1, got {threshold}")
    _checks.integer(batch_size, "evaluate_sae", "batch_size", minimum=2)
    _checks.integer(seed, "evaluate_sae", "seed", minimum=0)
    recovery = feature_recovery(model, sae)
    h = model.hidden(
        _sparse_features(batch_size, cfg, torch.Generator().manual_seed(seed))
    )
    reconstruction, latents = sae(h)
    return SAEEvaluation(
        recovery.quantile(0.5).item(),
        int((recovery > threshold).sum()),
        cfg.n_features,
        threshold,
        mean_l0(latents),
        fraction_of_variance_unexplained(h, reconstruction),
        dead_latents(latents),
        latents.shape[1],
    )
