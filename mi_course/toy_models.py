"""Toy models of superposition, and a sparse autoencoder that recovers their features.

Following Elhage et al., "Toy Models of Superposition" (2022): ``n_features`` sparse features are
squeezed through ``d_hidden < n_features`` dimensions and read back out with a ReLU. When features
are rarely active together, the model stores more features than it has dimensions, as directions
that interfere only a little. A sparse autoencoder trained on the hidden activations finds those
directions again. Introduced on the page "Step 4: Key concepts".
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mi_course import _checks
from mi_course.runtime import seed_everything, torch_threads


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
        if not 0 <= _checks.number(self.feature_probability, "ToyConfig", "feature_probability") <= 1:
            raise ValueError(f"ToyConfig expected 0 <= feature_probability <= 1, got {self.feature_probability}")
        _checks.number(self.importance_decay, "ToyConfig", "importance_decay", positive=True)
        _checks.number(self.lr, "ToyConfig", "lr", positive=True)


class ToyModel(nn.Module):
    """``x -> ReLU(W^T W x + b)``: features in, through ``d_hidden`` dimensions, features out."""

    def __init__(self, cfg: ToyConfig):
        _checks.instance(cfg, ToyConfig, "ToyModel", "cfg")
        super().__init__()
        self.W = nn.Parameter(nn.init.xavier_normal_(torch.empty(cfg.d_hidden, cfg.n_features)))
        self.b_final = nn.Parameter(torch.zeros(cfg.n_features))

    def hidden(self, features: Tensor) -> Tensor:
        return features @ self.W.T

    def forward(self, features: Tensor) -> Tensor:
        return F.relu(self.hidden(features) @ self.W + self.b_final)


class SparseAutoencoder(nn.Module):
    """``h -> ReLU(W_enc (h - b_dec) + b_enc) -> W_dec latents + b_dec``, decoder directions of unit norm."""

    def __init__(self, d_in: int, d_sae: int):
        _checks.integer(d_in, "SparseAutoencoder", "d_in", minimum=1)
        _checks.integer(d_sae, "SparseAutoencoder", "d_sae", minimum=1)
        super().__init__()
        self.W_enc = nn.Parameter(nn.init.kaiming_uniform_(torch.empty(d_in, d_sae)))
        self.b_enc = nn.Parameter(torch.zeros(d_sae))
        self.W_dec = nn.Parameter(self.W_enc.detach().T.clone())
        self.b_dec = nn.Parameter(torch.zeros(d_in))

    def encode(self, h: Tensor) -> Tensor:
        return F.relu((h - self.b_dec) @ self.W_enc + self.b_enc)

    def forward(self, h: Tensor) -> tuple[Tensor, Tensor]:
        latents = self.encode(h)
        return latents @ self.W_dec + self.b_dec, latents

    @torch.no_grad()
    def normalize_decoder(self) -> None:
        self.W_dec /= self.W_dec.norm(dim=1, keepdim=True)


def _sparse_features(batch: int, cfg: ToyConfig, generator: torch.Generator) -> Tensor:
    """``(batch, n_features)``: each feature uniform in [0, 1] with probability ``feature_probability``, else 0."""
    _checks.integer(batch, "_sparse_features", "batch", minimum=1)
    _checks.instance(cfg, ToyConfig, "_sparse_features", "cfg")
    _checks.instance(generator, torch.Generator, "_sparse_features", "generator")
    values = torch.rand(batch, cfg.n_features, generator=generator)
    active = torch.rand(batch, cfg.n_features, generator=generator) < cfg.feature_probability
    return values * active


def train_toy_model(cfg: ToyConfig = ToyConfig()) -> ToyModel:
    """Train with Adam on importance-weighted squared error, from ``cfg.seed``."""
    _checks.instance(cfg, ToyConfig, "train_toy_model", "cfg")
    seed_everything(cfg.seed)
    generator = torch.Generator().manual_seed(cfg.seed)
    model = ToyModel(cfg)
    importance = cfg.importance_decay ** torch.arange(cfg.n_features)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    with torch_threads(1):  # a model this small trains fastest on one thread
        for _ in range(cfg.steps):
            features = _sparse_features(cfg.batch_size, cfg, generator)
            loss = (importance * (model(features) - features) ** 2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model.eval()


def train_sae(
    model: ToyModel, cfg: ToyConfig, d_sae: int, *, l1_coefficient: float = 0.2, steps: int = 3_000, lr: float = 1e-2, seed: int = 0
) -> SparseAutoencoder:
    """Train a sparse autoencoder on ``model``'s hidden activations: reconstruction error plus L1 on the latents."""
    _checks.instance(model, ToyModel, "train_sae", "model")
    _checks.instance(cfg, ToyConfig, "train_sae", "cfg")
    _checks.integer(d_sae, "train_sae", "d_sae", minimum=1)
    _checks.integer(steps, "train_sae", "steps", minimum=0)
    _checks.integer(seed, "train_sae", "seed", minimum=0)
    _checks.number(l1_coefficient, "train_sae", "l1_coefficient", minimum=0)
    _checks.number(lr, "train_sae", "lr", positive=True)
    if cfg.n_features != model.W.shape[1]:
        raise ValueError(f"train_sae expected cfg of the model's {model.W.shape[1]} features, got cfg.n_features={cfg.n_features}")
    seed_everything(seed)
    generator = torch.Generator().manual_seed(seed + 1)
    sae = SparseAutoencoder(model.W.shape[0], d_sae)
    optimizer = torch.optim.Adam(sae.parameters(), lr=lr)
    with torch_threads(1):
        for _ in range(steps):
            with torch.no_grad():
                h = model.hidden(_sparse_features(cfg.batch_size, cfg, generator))
            sae.normalize_decoder()
            reconstruction, latents = sae(h)
            loss = (reconstruction - h).pow(2).sum(-1).mean() + l1_coefficient * latents.abs().sum(-1).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    sae.normalize_decoder()
    return sae.eval()


@torch.no_grad()
def feature_recovery(model: ToyModel, sae: SparseAutoencoder) -> Tensor:
    """For each of the model's features, the best cosine similarity between its direction and an SAE decoder row."""
    _checks.instance(model, ToyModel, "feature_recovery", "model")
    _checks.instance(sae, SparseAutoencoder, "feature_recovery", "sae")
    if sae.W_dec.shape[1] != model.W.shape[0]:
        raise ValueError(f"feature_recovery expected an SAE of the model's d_hidden = {model.W.shape[0]}, got one of d_in = {sae.W_dec.shape[1]}")
    features = F.normalize(model.W.T, dim=1)  # (n_features, d_hidden)
    decoder = F.normalize(sae.W_dec, dim=1)  # (d_sae, d_hidden)
    return (features @ decoder.T).max(dim=1).values
