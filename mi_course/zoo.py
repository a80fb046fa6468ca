"""The model zoo: small models the course trains and ships, and hub models for Colab.

``load_model(name)`` returns a TransformerLens 4 ``TransformerBridge`` with a tokenizer. Shipped
models load offline in seconds from safetensors weights whose sha256 is checked; hub models
(GPT-2 small) need the network and fail within seconds without it. Hugging Face GPT-2 models,
GPT-2 small from the hub and the shipped ``gpt2-twin`` folder alike, boot through one call,
``TransformerBridge.boot_transformers(name_or_folder, tokenizer=gpt2_tokenizer())``.

With the environment variable ``MI_COURSE_HUB_TWINS=1``, ``load_model`` loads each hub model's
shipped twin in its place: the tests run the course's GPT-2 snippets that way, offline.
Introduced on the page "Step 2: Understand transformers".
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file
from transformer_lens import TransformerBridge
from transformer_lens.config import TransformerBridgeConfig
from transformer_lens.model_bridge.sources._bridge_builder import (
    build_bridge_from_module,
)
from transformer_lens.model_bridge.sources.native.model import NativeModel
from transformers import PreTrainedTokenizerFast

from mi_course import _checks
from mi_course.residual_sae import ResidualSAE
from mi_course.runtime import get_device, reachable
from mi_course.tokenization import (
    character_tokenizer,
    gpt2_tokenizer,
    modular_tokenizer,
    symbol_tokenizer,
)
from mi_course.toy_models import SparseAutoencoder

ZOO_DIR = Path(__file__).parent / "weights"
WEIGHTS_FILE, CARD_FILE = "model.safetensors", "card.json"
HUB_URL = "https://huggingface.co/api/models/gpt2"
HUB_PROBE_TIMEOUT_S = 3.0
# Hub models the course uses (Colab only): our name -> the name TransformerLens boots.
HUB_MODELS = {"gpt2-small": "gpt2"}
# Each hub model's shipped twin: the same architecture and tokenizer, small enough to run offline.
HUB_TWINS = {"gpt2-small": "gpt2-twin"}
HUB_TWINS_SWITCH = (
    "MI_COURSE_HUB_TWINS"  # "1": load_model loads a hub model's twin instead
)
HF_CONFIG_FILE = "config.json"
SAE_KIND = "sparse-autoencoder"  # a card's config["kind"] for a shipped SAE, which load_sae loads and load_model does not


class UnknownModelError(ValueError):
    """No model of that name; the message lists the available ones."""


class CheckpointError(RuntimeError):
    """A shipped checkpoint is missing or does not match its recorded sha256."""


class HubUnavailableError(RuntimeError):
    """A hub model was requested but the hub cannot be reached; the message says what to do."""


@dataclass(frozen=True)
class ModelCard:
    """What a shipped model is: its config, tokenizer, data, training recipe and measured metrics."""

    name: str
    description: str
    config: dict[str, Any]
    tokenizer: dict[str, Any]
    sha256: str
    data: str
    training: dict[str, Any]
    metrics: dict[str, Any]

    @classmethod
    def read(cls, folder: Path) -> ModelCard:
        return cls(**json.loads((folder / CARD_FILE).read_text()))

    def write(self, folder: Path) -> None:
        (folder / CARD_FILE).write_text(
            json.dumps(self.__dict__, indent=2, ensure_ascii=False) + "\n"
        )


def list_models() -> list[str]:
    """Names ``load_model`` accepts: the shipped models, then the hub models (which need the network)."""
    return _shipped(saes=False) + sorted(HUB_MODELS)


def list_saes() -> list[str]:
    """Names ``load_sae`` accepts: the shipped sparse autoencoders."""
    return _shipped(saes=True)


def _shipped(*, saes: bool) -> list[str]:
    cards = {
        folder.name: ModelCard.read(folder)
        for folder in ZOO_DIR.iterdir()
        if (folder / CARD_FILE).is_file()
    }
    return sorted(
        name
        for name, card in cards.items()
        if (card.config.get("kind") == SAE_KIND) == saes
    )


def _shipped_names() -> list[str]:
    return _shipped(saes=False) + _shipped(saes=True)


def model_card(name: str) -> ModelCard:
    """The card of a shipped model or SAE."""
    if not isinstance(name, str):
        raise UnknownModelError(
            f"model_card expected a model name (str), got {type(name).__name__}; shipped models: {', '.join(_shipped_names())}"
        )
    folder = ZOO_DIR / name
    if not (folder / CARD_FILE).is_file():
        raise UnknownModelError(
            f"no shipped model {name!r}; shipped models: {', '.join(_shipped_names())}"
        )
    return ModelCard.read(folder)


def load_model(
    name: str | Path, *, device: str | torch.device | None = None
) -> TransformerBridge:
    """Load a model of the zoo, or a Hugging Face GPT-2 model folder, as a ``TransformerBridge`` with its tokenizer.

    It runs on ``get_device()`` by default. A hub model loads its shipped twin instead when
    ``MI_COURSE_HUB_TWINS=1`` (see ``hub_twin``).
    """
    if not isinstance(name, (str, Path)):
        raise UnknownModelError(
            f"expected a model name (str) or a model folder (Path), got {type(name).__name__}; choose from {', '.join(list_models())}"
        )
    device = (
        _checks.device(device, "load_model", "device")
        if device is not None
        else get_device()
    )
    if isinstance(name, Path):
        return boot_gpt2(_gpt2_folder(name), device)
    if name in HUB_MODELS and os.environ.get(HUB_TWINS_SWITCH) == "1":
        name = hub_twin(name)
    if name in HUB_MODELS:
        return _load_hub_model(name, device)
    if name in list_saes():
        raise UnknownModelError(
            f"{name!r} is a sparse autoencoder of {model_card(name).config['model']}, not a model: load it with load_sae({name!r})"
        )
    if name not in list_models():
        raise UnknownModelError(
            f"unknown model {name!r}; choose from {', '.join(list_models())}"
        )
    card = model_card(name)
    if card.tokenizer == {"kind": "gpt2"}:
        _verified_weights(ZOO_DIR / name / WEIGHTS_FILE, card.sha256)
        return boot_gpt2(str(ZOO_DIR / name), device)
    weights = _verified_weights(ZOO_DIR / name / WEIGHTS_FILE, card.sha256)
    return bridge_from_state_dict(
        card.config,
        weights,
        make_tokenizer(card.tokenizer),
        device=device,
        model_name=name,
    )


def load_sae(name: str) -> ResidualSAE:
    """A shipped sparse autoencoder of a shipped model's residual stream (on the CPU), its weights' sha256 checked."""
    if not isinstance(name, str) or name not in list_saes():
        raise UnknownModelError(
            f"load_sae expected the name of a shipped SAE, one of {', '.join(list_saes())}, got {name!r}"
        )
    card = model_card(name)
    weights = _verified_weights(ZOO_DIR / name / WEIGHTS_FILE, card.sha256)
    sae = SparseAutoencoder(card.config["d_in"], card.config["d_sae"])
    sae.load_state_dict(weights)
    return ResidualSAE(
        sae.eval(), card.config["model"], card.config["hook"], card.config["scale"]
    )


def boot_gpt2(name_or_folder: str, device: torch.device) -> TransformerBridge:
    """Boot a Hugging Face GPT-2 (a hub name or a model folder) with GPT-2's tokenizer: the one path both take."""
    _checks.instance(name_or_folder, str, "boot_gpt2", "name_or_folder")
    return TransformerBridge.boot_transformers(
        name_or_folder,
        device=_checks.device(device, "boot_gpt2"),
        tokenizer=gpt2_tokenizer(),
    )


def hub_twin(name: str) -> str:
    """The shipped model that stands in for hub model ``name`` offline; the message lists the twins if it has none."""
    if name not in HUB_TWINS:
        twins = ", ".join(f"{hub} -> {twin}" for hub, twin in HUB_TWINS.items())
        raise UnknownModelError(
            f"hub_twin: {name!r} has no shipped twin; the twins are {twins}"
        )
    return HUB_TWINS[name]


def bridge_from_state_dict(
    config: dict[str, Any],
    state_dict: dict[str, torch.Tensor],
    tokenizer: PreTrainedTokenizerFast,
    *,
    device: torch.device,
    model_name: str,
) -> TransformerBridge:
    """Wrap TransformerLens' native model, with these weights, in a TransformerBridge."""
    _checks.instance(config, dict, "bridge_from_state_dict", "config")
    _checks.instance(state_dict, dict, "bridge_from_state_dict", "state_dict")
    _checks.instance(
        tokenizer, PreTrainedTokenizerFast, "bridge_from_state_dict", "tokenizer"
    )
    device = _checks.device(device, "bridge_from_state_dict", "device")
    cfg = TransformerBridgeConfig.from_dict({**config, "init_weights": False})
    model = NativeModel(cfg)
    model.load_state_dict(state_dict)
    model = model.to(device).eval()
    return build_bridge_from_module(
        model,
        architecture="TransformerLensNative",
        tl_config=cfg,
        tokenizer=tokenizer,
        device=device,
        model_name=model_name,
    )


def make_tokenizer(spec: dict[str, Any]) -> PreTrainedTokenizerFast:
    """Build the tokenizer a model card describes."""
    kinds = {"characters": "characters", "symbols": "n_symbols", "modular": "p"}
    _checks.instance(spec, dict, "make_tokenizer", "spec")
    if spec.get("kind") in kinds and kinds[spec["kind"]] not in spec:
        raise ValueError(
            f"make_tokenizer expected a {spec['kind']!r} spec to have the key {kinds[spec['kind']]!r}, got keys {sorted(spec)}"
        )
    if spec.get("kind") == "characters":
        return character_tokenizer(spec["characters"])
    if spec.get("kind") == "symbols":
        return symbol_tokenizer(spec["n_symbols"])
    if spec.get("kind") == "modular":
        return modular_tokenizer(spec["p"])
    if spec.get("kind") == "gpt2":
        return gpt2_tokenizer()
    raise ValueError(
        f"make_tokenizer got unknown tokenizer kind {spec.get('kind')!r}; expected 'characters', 'symbols', 'modular' or 'gpt2'"
    )


def sha256_of(path: Path) -> str:
    _checks.instance(path, Path, "sha256_of", "path")
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _verified_weights(path: Path, expected_sha256: str) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise CheckpointError(
            f"{path} is missing; reinstall mi-course or retrain with: python -m mi_course train {path.parent.name}"
        )
    actual = sha256_of(path)
    if actual != expected_sha256:
        raise CheckpointError(
            f"{path} is corrupt: sha256 {actual[:12]}... does not match the recorded {expected_sha256[:12]}...; "
            f"reinstall mi-course or retrain with: python -m mi_course train {path.parent.name}"
        )
    return load_file(path)


def hub_reachable(
    url: str | None = None, timeout_s: float = HUB_PROBE_TIMEOUT_S
) -> bool:
    """Whether the Hugging Face hub answers an HTTPS request within ``timeout_s`` (see ``runtime.reachable``)."""
    _checks.number(timeout_s, "hub_reachable", "timeout_s", positive=True)
    return reachable(url or HUB_URL, timeout_s)


def _load_hub_model(name: str, device: torch.device) -> TransformerBridge:
    if not hub_reachable():
        shipped = ", ".join(list_models()[: -len(HUB_MODELS)])
        raise HubUnavailableError(
            f"{name!r} is downloaded from the Hugging Face hub, which is unreachable from here. "
            f"Use a shipped model instead (load_model(...) with one of: {shipped}), or run this in Colab."
        )
    return boot_gpt2(HUB_MODELS[name], device)


def _gpt2_folder(folder: Path) -> str:
    config = folder / HF_CONFIG_FILE
    if not folder.is_dir():
        raise UnknownModelError(
            f"load_model expected a Hugging Face GPT-2 model folder, found no folder at {folder}"
        )
    if not config.is_file():
        found = (
            ", ".join(sorted(path.name for path in folder.iterdir())[:8]) or "nothing"
        )
        raise UnknownModelError(
            f"load_model expected a Hugging Face GPT-2 model folder with {HF_CONFIG_FILE}, found in {folder}: {found}"
        )
    model_type = json.loads(config.read_text()).get("model_type")
    if model_type != "gpt2":
        raise UnknownModelError(
            f"load_model expected a Hugging Face GPT-2 model folder (model_type 'gpt2'), found model_type {model_type!r} in {config}"
        )
    return str(folder)
