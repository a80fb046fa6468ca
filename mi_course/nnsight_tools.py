"""nnsight beside TransformerLens: the course's activation patching on a plain Hugging Face model, locally or on NDIF.

``local_model`` wraps the shipped ``gpt2-twin`` folder in nnsight, offline. ``remote_model`` names a
model that NDIF hosts and says how to run it; with ``MI_COURSE_HUB_TWINS=1`` it gives the twin and
nnsight's offline dry run of the NDIF request instead, so the tests run the NDIF code offline. ``blocks`` and ``module`` find modules in
GPT-2-, Llama- and Pythia-style models, and ``patch_residual`` patches the residual stream entering
each block, TransformerLens' ``blocks.L.hook_resid_pre``. Introduced on the page "The same
experiments in nnsight, and NDIF".
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Literal

import torch
from jaxtyping import Float, Int
from nnsight import CONFIG, TransformersModel
from nnsight.intervention.envoy import Envoy
from torch import Tensor
from transformers import GPT2LMHeadModel

from mi_course import _checks
from mi_course._checks import Call, Metric, Spec, guard
from mi_course.runtime import get_device, reachable
from mi_course.tokenization import gpt2_tokenizer
from mi_course.zoo import HUB_TWINS_SWITCH, ZOO_DIR, list_models

NDIF_KEY_VARIABLE = "NDIF_API_KEY"  # where nnsight reads the key (a Colab secret of this name works too)
NDIF_KEYS_URL = "https://login.ndif.us"
NDIF_PROBE_TIMEOUT_S = 5.0
REMOTE_TWIN = "gpt2-twin"  # what remote_model loads offline, in place of any NDIF model
# Where Hugging Face causal LMs keep their blocks: GPT-2 and GPT-J; Llama, Mistral, Qwen and OLMo; Pythia (GPT-NeoX).
BLOCK_PATHS = ("transformer.h", "model.layers", "gpt_neox.layers")
NEAREST = 5  # module paths an unknown path's error lists


Remote = (
    bool | Literal["local"]
)  # nnsight's remote=: False runs here, True on NDIF, "local" NDIF's serialization run here


class NDIFUnavailableError(RuntimeError):
    """NDIF cannot be used from here: no API key, or no answer from its server; the message says what to do."""


def local_model(
    name: str = REMOTE_TWIN, *, device: str | torch.device | None = None
) -> TransformersModel:
    """A shipped Hugging Face GPT-2 model wrapped by nnsight: its folder loaded by ``transformers``, offline, with GPT-2's tokenizer.

    It runs on ``get_device()`` by default; the weights are the ones ``load_model(name)`` boots in TransformerLens.
    """
    shipped = [
        model for model in list_models() if (ZOO_DIR / model / "config.json").is_file()
    ]  # a Hugging Face folder
    if not isinstance(name, str):
        raise TypeError(
            f"local_model expected the name (str) of a shipped Hugging Face GPT-2 model ({', '.join(shipped)}), got {type(name).__name__}"
        )
    if name not in shipped:
        raise ValueError(
            f"local_model expected the name of a shipped Hugging Face GPT-2 model ({', '.join(shipped)}), got {name!r}"
        )
    device = (
        _checks.device(device, "local_model") if device is not None else get_device()
    )
    weights = GPT2LMHeadModel.from_pretrained(ZOO_DIR / name).to(device).eval()
    return TransformersModel(
        weights, tokenizer=gpt2_tokenizer(), task="text-generation"
    )


def remote_model(repo_id: str) -> tuple[TransformersModel, Remote]:
    """``(model, remote)``: NDIF's ``repo_id`` (built on the meta device, no weights downloaded) and ``True``.

    With ``MI_COURSE_HUB_TWINS=1`` it returns ``local_model("gpt2-twin")`` and ``"local"`` instead:
    passed as ``remote=``, that runs nnsight's dry run of the remote path (the request serialized and
    deserialized as NDIF would, then run here), so the same code runs offline. Remote use needs an
    NDIF API key, which nnsight reads from the environment variable ``NDIF_API_KEY`` (or a Colab
    secret of that name, or a key saved with ``CONFIG.set_default_api_key``), and an answer from
    NDIF: without either it fails at once.
    """
    if not isinstance(repo_id, str):
        raise TypeError(
            f"remote_model expected a Hugging Face repo id (str) such as 'meta-llama/Llama-3.1-70B', got {type(repo_id).__name__}"
        )
    owner, _, name = repo_id.partition("/")
    if not owner or not name or "/" in name:
        raise ValueError(
            f"remote_model expected a Hugging Face repo id 'owner/name' such as 'meta-llama/Llama-3.1-70B', got {repo_id!r}"
        )
    if os.environ.get(HUB_TWINS_SWITCH) == "1":
        return local_model(REMOTE_TWIN), "local"
    if not (os.environ.get(NDIF_KEY_VARIABLE) or CONFIG.API.APIKEY):
        raise NDIFUnavailableError(
            f"remote_model({repo_id!r}) needs an NDIF API key: get one free at {NDIF_KEYS_URL}, then set the environment "
            f"variable {NDIF_KEY_VARIABLE} (in Colab, a secret of that name) or call nnsight.CONFIG.set_default_api_key(key)"
        )
    if not reachable(CONFIG.API.HOST, NDIF_PROBE_TIMEOUT_S):
        raise NDIFUnavailableError(
            f"remote_model({repo_id!r}): NDIF at {CONFIG.API.HOST} did not answer within {NDIF_PROBE_TIMEOUT_S:g} s; "
            f"check the network, or run offline on {REMOTE_TWIN} with {HUB_TWINS_SWITCH}=1"
        )
    return TransformersModel(repo_id, task="text-generation"), True


def blocks(model: Envoy) -> Envoy:
    """The list of transformer blocks of an nnsight ``model``, wherever its architecture keeps them (``BLOCK_PATHS``)."""
    _check_model(model, Envoy, "blocks")
    for path in BLOCK_PATHS:
        try:
            return model.get(path)
        except AttributeError:
            continue
    paths = _module_paths(model)
    lists = sorted(
        {path.removesuffix(".0") for path in paths if path.endswith(".0")}
    )  # modules with numbered children
    raise ValueError(
        f"blocks expected a model with its blocks at {', '.join(BLOCK_PATHS)}, got one whose numbered module lists "
        f"are {', '.join(lists) or 'none'}; find yours with module(model, path)"
    )


def module(model: Envoy, path: str) -> Envoy:
    """The submodule of an nnsight ``model`` at the dotted ``path``, e.g. ``"transformer.h.0.attn"``.

    A path the model lacks raises a ValueError that lists the model's nearest module paths.
    """
    _check_model(model, Envoy, "module")
    _checks.instance(path, str, "module", "path")
    try:
        found = model.get(path)
    except AttributeError:
        found = None
    if not isinstance(
        found, Envoy
    ):  # missing, or a parameter such as "transformer.wte.weight"
        nearest = difflib.get_close_matches(
            path, _module_paths(model), n=NEAREST, cutoff=0.0
        )
        raise ValueError(
            f"module expected the path of a module of this model, got {path!r}; "
            f"the nearest module paths are {', '.join(nearest)}"
        )
    return found


def _check_model(model: object, kind: type[Envoy], function: str) -> None:
    if not isinstance(model, kind):
        raise TypeError(
            f"{function} expected model to be an nnsight {kind.__name__} (from local_model or remote_model), "
            f"got {type(model).__name__}"
        )


def _module_paths(model: Envoy) -> list[str]:
    """Every module path of ``model`` relative to it, as ``module`` takes them."""
    return [
        path.removeprefix(f"{model.path}.")
        for path, _ in model.named_modules()
        if path != model.path
    ]


Inputs = (
    Tensor | Mapping[str, Tensor]
)  # token ids (batch, pos), or a tokenizer's output with input_ids and attention_mask


def _token_ids(tokens: Inputs, function: str, what: str) -> Tensor:
    ids = tokens.get("input_ids") if isinstance(tokens, Mapping) else tokens
    if not isinstance(ids, Tensor):
        raise TypeError(
            f"{function} expected {what} to be token ids (batch, pos) or a tokenizer's output with input_ids, "
            f"got {_checks.described(tokens)}"
        )
    return _checks.tokens(ids, function, what=f"{what} token ids")


def _transformers_model(model: object, name: str, call: Call) -> TransformersModel:
    """An nnsight TransformersModel, from local_model or remote_model."""
    _check_model(model, TransformersModel, call.function)
    return model


def _inputs(tokens: Inputs, name: str, call: Call) -> Inputs:
    """Token ids, or a tokenizer's output (returned as given); ``corrupted`` of ``clean``'s shape."""
    ids = _token_ids(tokens, call.function, name)
    if name == "corrupted":
        clean = _token_ids(call.arguments["clean"], call.function, "clean")
        if clean.shape != ids.shape:
            raise ValueError(
                f"{call.function} expected clean and corrupted tokens of one shape, got {tuple(clean.shape)} and {tuple(ids.shape)}"
            )
    return tokens


def _indices(
    values: Sequence[int], function: str, what: str, minimum: int, maximum: int
) -> list[int]:
    if (
        isinstance(values, (str, bytes))
        or not isinstance(values, Sequence)
        or not values
    ):
        raise TypeError(
            f"{function} expected {what} to be a non-empty list of indices, got {_checks.described(values)} {values!r}"
        )
    return [
        _checks.integer(
            value, function, f"each of {what}", minimum=minimum, maximum=maximum
        )
        for value in values
    ]


def _layers(layers: Sequence[int], name: str, call: Call) -> list[int]:
    """Block indices of the model, in increasing order, each once."""
    n_blocks = len(blocks(call.arguments["model"]))
    layers = _indices(layers, call.function, name, 0, n_blocks - 1)
    if layers != sorted(set(layers)):
        raise ValueError(
            f"{call.function} expected layers in increasing order, each once (a run reaches them in that order), got {layers}"
        )
    return layers


def _positions(positions: Sequence[int], name: str, call: Call) -> list[int]:
    """Positions of the tokens, counted from the start or (negative) the end."""
    n = _token_ids(call.arguments["clean"], call.function, "clean").shape[1]
    return _indices(positions, call.function, name, -n, n - 1)


def _remote(remote: object, name: str, call: Call) -> Remote:
    """nnsight's remote=: False, True or "local"."""
    if remote not in (False, True, "local"):
        raise ValueError(
            f"{call.function} expected remote to be False, True (NDIF) or 'local' (NDIF's serialization, run here), got {remote!r}"
        )
    return remote


_RESIDUAL_PATCHING: dict[str, Spec] = dict(
    model=_transformers_model,
    clean=_inputs,
    corrupted=_inputs,
    metric=Metric(),
    layers=_layers,
    positions=_positions,
    remote=_remote,
)


@guard(**_RESIDUAL_PATCHING)
@torch.inference_mode()
# --8<-- [start:patch-residual]
def patch_residual(
    model: TransformersModel,
    clean: Int[Tensor, "batch pos"] | Mapping[str, Tensor],
    corrupted: Int[Tensor, "batch pos"] | Mapping[str, Tensor],
    metric: Callable[[Float[Tensor, "batch pos d_vocab"]], Tensor | float],
    layers: list[int],
    positions: list[int],
    remote: bool | Literal["local"] = False,
) -> Float[Tensor, "layer position"]:
    """Activation patching with nnsight: ``metric(logits)`` of the corrupted run with
    one clean residual-stream vector patched in.

    Returns ``(len(layers), len(positions))``: entry ``[i, j]`` patches the clean
    residual stream entering block ``layers[i]`` (TransformerLens'
    ``blocks.L.hook_resid_pre``) at position ``positions[j]``, and nothing else. One
    session holds every run: on NDIF (``remote=True``) it is one request, the clean
    activations stay on the server, and only the scores come back.
    """
    chosen = [blocks(model)[layer] for layer in layers]
    # The clean inputs stay where the model runs, never sent back; the scores, one
    # number per patched run, are the one thing that comes back. Each run patches one
    # block's input, at one position only. (Each traced statement on one line, and no
    # comment inside a traced block: nnsight rebuilds the blocks from their lines.)
    with model.session(remote=remote):
        with model.trace(clean):
            clean_inputs = [block.input for block in chosen]
        scores = list().save()
        for block, clean_input in zip(chosen, clean_inputs):
            for position in positions:
                with model.trace(corrupted):
                    block.input[:, position] = clean_input[:, position]
                    scores.append(metric(model.output.logits))
    return torch.tensor([float(score) for score in scores]).reshape(
        len(layers), len(positions)
    )


# --8<-- [end:patch-residual]
