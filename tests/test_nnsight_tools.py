"""mi_course.nnsight_tools: nnsight's residual-stream patching against TransformerLens' and plain PyTorch hooks,
NDIF's request path run offline, the module finders, remote_model's switch and failures, and bad input to each.
"""

import importlib.abc
import re
import runpy
import sys
from functools import cache
from pathlib import Path

import pytest
import torch
from nnsight import NNsight, TransformersModel
from nnsight.schema.request import RequestModel
from transformers import GPTNeoXConfig, GPTNeoXForCausalLM, LlamaConfig, LlamaForCausalLM

from mi_course import nnsight_tools as nt
from mi_course.interventions import patch_by_position
from mi_course.ioi import ioi_metric, patching_prompts
from mi_course.tokenization import gpt2_tokenizer
from mi_course.zoo import HUB_TWINS_SWITCH, load_model
from tests.bad_input import Bad, assert_refused, bad_input_params, shared_kit

# nnsight and TransformerLens compute the same float32 sums in orders that differ a little: on
# gpt2-twin the largest difference measured over the 30 patched runs is 1.6e-07 (of scores near 0 to 1).
TOLERANCE = 1e-5
LAYERS, POSITIONS = range(2), range(15)  # gpt2-twin's blocks; the positions of one held-out template's prompts


@cache
def twin() -> TransformersModel:
    return nt.local_model("gpt2-twin", device="cpu")


def nnsight_metric(model: TransformersModel, prompts, abc):
    with torch.inference_mode():
        with model.trace(prompts.tokens):
            clean = model.output.logits.save()
        with model.trace(abc.tokens):
            corrupt = model.output.logits.save()
    return ioi_metric(prompts, clean, corrupt)


def test_nnsight_patching_equals_transformer_lens_patch_by_position():
    prompts, abc = patching_prompts(20)
    nnsight = nt.patch_residual(
        twin(), prompts.tokens, abc.tokens, nnsight_metric(twin(), prompts, abc), LAYERS, POSITIONS
    )
    bridge = load_model("gpt2-twin", device="cpu")
    with torch.inference_mode():
        metric = ioi_metric(prompts, bridge(prompts.tokens), bridge(abc.tokens))
    reference = patch_by_position(
        bridge, prompts.tokens, abc.tokens, [f"blocks.{layer}.hook_resid_pre" for layer in LAYERS], metric
    )
    assert nnsight.shape == reference.shape == (2, 15)
    assert (nnsight - reference).abs().max() <= TOLERANCE
    assert reference.abs().max() > 0.5  # the sweep measures something: the last position before block 1 restores most


def patched_by_hooks(
    model: torch.nn.Module, clean: torch.Tensor, corrupt: torch.Tensor, metric, layers, positions
) -> torch.Tensor:
    """The same sweep with plain PyTorch forward pre-hooks on ``model.model.layers``, the reference for a Llama-style model."""
    captured: dict[int, torch.Tensor] = {}

    def hidden(args, kwargs) -> torch.Tensor:
        return args[0] if args else kwargs["hidden_states"]

    def capture(layer):
        return lambda module, args, kwargs: captured.__setitem__(layer, hidden(args, kwargs).clone())

    handles = [
        model.model.layers[layer].register_forward_pre_hook(capture(layer), with_kwargs=True) for layer in layers
    ]
    with torch.inference_mode():
        model(clean)
        for handle in handles:
            handle.remove()
        scores = torch.zeros(len(layers), len(positions))
        for row, layer in enumerate(layers):
            for column, position in enumerate(positions):

                def patch(module, args, kwargs, layer=layer, position=position):
                    hidden(args, kwargs)[:, position] = captured[layer][:, position]

                handle = model.model.layers[layer].register_forward_pre_hook(patch, with_kwargs=True)
                scores[row, column] = float(metric(model(corrupt).logits))
                handle.remove()
    return scores


@cache
def tiny_llama() -> LlamaForCausalLM:
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=50257,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=3,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=64,
    )
    return LlamaForCausalLM(config).eval()


def test_on_a_llama_style_model_the_patching_equals_plain_pytorch_hooks():
    clean = torch.randint(0, 50257, (3, 6), generator=torch.Generator().manual_seed(1))
    corrupt = torch.randint(0, 50257, (3, 6), generator=torch.Generator().manual_seed(2))

    def metric(logits):  # any function of the logits: here the first sequence's last logit of token 7
        return logits[0, -1, 7]

    model = TransformersModel(tiny_llama(), tokenizer=gpt2_tokenizer(), task="text-generation")
    nnsight = nt.patch_residual(model, clean, corrupt, metric, [0, 2], [1, -1])
    reference = patched_by_hooks(tiny_llama(), clean, corrupt, metric, [0, 2], [1, -1])
    assert (nnsight - reference).abs().max() <= TOLERANCE
    assert len(set(reference.flatten().tolist())) == 4  # each patch changed the run in its own way


class _NoCourseOnTheServer(importlib.abc.MetaPathFinder):
    """Refuses to import mi_course, as an NDIF server (which does not have it) would."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "mi_course":
            raise ModuleNotFoundError(f"No module named {name!r} (the NDIF server has no mi_course)")
        return None


@pytest.fixture
def server_without_the_course(monkeypatch):
    """nnsight's dry run of NDIF (remote="local") deserializes with the user's modules hidden; this hides mi_course too.

    The dry run hides only modules outside site-packages, and mi_course is installed in this venv, so
    without the blocker a request that pickled mi_course code by reference would still load here.
    """
    deserialize = RequestModel.deserialize

    def as_on_the_server(*args, **kwargs):
        blocker = _NoCourseOnTheServer()
        saved = {name: sys.modules.pop(name) for name in list(sys.modules) if name.split(".")[0] == "mi_course"}
        sys.meta_path.insert(0, blocker)
        try:
            return deserialize(*args, **kwargs)
        finally:
            sys.meta_path.remove(blocker)
            sys.modules.update(saved)

    monkeypatch.setattr(RequestModel, "deserialize", staticmethod(as_on_the_server))


def test_the_ndif_request_carries_a_script_metric_and_no_course_code(server_without_the_course):
    prompts, abc = patching_prompts(20)
    rows, end, io, s = (
        torch.arange(len(prompts)),
        prompts.end,
        prompts.io,
        prompts.s,
    )  # tensors: an IOIPrompts is mi_course's

    def logit_diff(logits):  # defined outside mi_course, like the NDIF snippet's: it travels with the request
        return (logits[rows, end, io] - logits[rows, end, s]).mean()

    layers, positions = [0, 1], [4, 10, -1]
    shipped = nt.patch_residual(twin(), prompts.tokens, abc.tokens, logit_diff, layers, positions, remote="local")
    here = nt.patch_residual(twin(), prompts.tokens, abc.tokens, logit_diff, layers, positions)
    assert torch.equal(shipped, here)


def test_the_ndif_snippet_runs_offline_as_on_a_server_without_the_course(
    server_without_the_course, monkeypatch, capsys
):
    monkeypatch.setenv(HUB_TWINS_SWITCH, "1")  # gpt2-twin, through nnsight's dry run of the NDIF request
    runpy.run_path(str(Path(__file__).parents[1] / "snippets" / "nnsight" / "ndif_llama.py"), run_name="__main__")
    printed = capsys.readouterr().out
    assert "2 blocks at transformer.h, remote=local" in printed and "share restored" in printed


def test_a_metric_from_mi_course_cannot_reach_ndif(server_without_the_course):
    prompts, abc = patching_prompts(20)
    with pytest.raises(Exception, match="No module named 'mi_course"):
        nt.patch_residual(
            twin(), prompts.tokens, abc.tokens, nnsight_metric(twin(), prompts, abc), [1], [-1], remote="local"
        )


def test_blocks_finds_the_blocks_of_gpt2_llama_and_pythia():
    torch.manual_seed(0)
    pythia = GPTNeoXForCausalLM(
        GPTNeoXConfig(
            vocab_size=64,
            hidden_size=16,
            intermediate_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            max_position_embeddings=16,
        )
    )
    found = {
        name: nt.blocks(model).path
        for name, model in (("gpt2", twin()), ("llama", NNsight(tiny_llama())), ("pythia", NNsight(pythia)))
    }
    assert found == {"gpt2": "model.transformer.h", "llama": "model.model.layers", "pythia": "model.gpt_neox.layers"}
    assert len(nt.blocks(NNsight(tiny_llama()))) == 3


def test_a_missing_module_path_lists_the_nearest_module_paths():
    assert nt.module(twin(), "transformer.h.1.attn").path == "model.transformer.h.1.attn"
    with pytest.raises(
        ValueError, match=r"got 'transformer\.h\.0\.atn'; the nearest module paths are transformer\.h\.0\.attn, "
    ):
        nt.module(twin(), "transformer.h.0.atn")
    with pytest.raises(ValueError, match=r"got 'model\.layers\.0'; the nearest module paths are .*transformer\.h\.0"):
        nt.module(twin(), "model.layers.0")  # a Llama path on a GPT-2 model


def test_with_the_switch_remote_model_gives_the_twin_for_a_dry_run(monkeypatch):
    monkeypatch.setenv(HUB_TWINS_SWITCH, "1")
    model, remote = nt.remote_model("meta-llama/Llama-3.1-70B")
    assert remote == "local" and isinstance(model, TransformersModel) and nt.blocks(model).path == "model.transformer.h"


def test_without_a_key_remote_model_fails_at_once_naming_the_variable(monkeypatch):
    monkeypatch.delenv(HUB_TWINS_SWITCH, raising=False)
    monkeypatch.delenv(nt.NDIF_KEY_VARIABLE, raising=False)
    monkeypatch.setattr(nt.CONFIG.API, "APIKEY", None)
    monkeypatch.setattr(
        nt, "reachable", lambda url, timeout_s: pytest.fail("asked the network before checking the key")
    )
    with pytest.raises(
        nt.NDIFUnavailableError,
        match=r"needs an NDIF API key: get one free at https://login\.ndif\.us, "
        r"then set the environment variable NDIF_API_KEY",
    ):
        nt.remote_model("meta-llama/Llama-3.1-70B")


def test_with_a_key_but_no_answer_remote_model_says_so(monkeypatch):
    monkeypatch.delenv(HUB_TWINS_SWITCH, raising=False)
    monkeypatch.setenv(nt.NDIF_KEY_VARIABLE, "a-key")
    asked = []
    monkeypatch.setattr(nt, "reachable", lambda url, timeout_s: asked.append(url) or False)
    with pytest.raises(
        nt.NDIFUnavailableError, match=re.escape(f"NDIF at {nt.CONFIG.API.HOST} did not answer within 5 s")
    ):
        nt.remote_model("meta-llama/Llama-3.1-70B")
    assert asked == [nt.CONFIG.API.HOST]


def _tokens(n: int = 15) -> torch.Tensor:
    return patching_prompts(20)[0].tokens[:, :n]


BAD_INPUTS: dict[str, list[Bad]] = {
    "mi_course.nnsight_tools:local_model": [
        Bad(
            lambda k: nt.local_model("induction-2l"),
            ValueError,
            "local_model expected the name of a shipped Hugging Face GPT-2 model \\(gpt2-twin\\), got 'induction-2l'",
        ),
        Bad(
            lambda k: nt.local_model(2),
            TypeError,
            "local_model expected the name \\(str\\) of a shipped Hugging Face GPT-2 model .*, got int",
        ),
        Bad(
            lambda k: nt.local_model(device="gpu"),
            ValueError,
            "local_model expected device to be a device such as 'cpu'.*, got 'gpu'",
        ),
    ],
    "mi_course.nnsight_tools:remote_model": [
        Bad(
            lambda k: nt.remote_model(70),
            TypeError,
            "remote_model expected a Hugging Face repo id \\(str\\) .*, got int",
        ),
        Bad(
            lambda k: nt.remote_model("Llama-3.1-70B"),
            ValueError,
            "remote_model expected a Hugging Face repo id 'owner/name' such as 'meta-llama/Llama-3.1-70B', got 'Llama-3.1-70B'",
        ),
    ],
    "mi_course.nnsight_tools:blocks": [
        Bad(
            lambda k: nt.blocks(k.bridge),
            TypeError,
            "blocks expected model to be an nnsight Envoy .*, got TransformerBridge",
        ),
        Bad(
            lambda k: nt.blocks(NNsight(torch.nn.Sequential(torch.nn.Linear(2, 2)))),
            ValueError,
            "blocks expected a model with its blocks at transformer.h, model.layers, gpt_neox.layers, got one whose numbered module lists are none",
        ),
    ],
    "mi_course.nnsight_tools:module": [
        Bad(lambda k: nt.module(twin(), 0), TypeError, "module expected path to be a str, got int"),
        Bad(
            lambda k: nt.module(twin(), "transformer.h.0.attn.c_attn.weight"),
            ValueError,
            "module expected the path of a module of this model, got 'transformer.h.0.attn.c_attn.weight'; the nearest",
        ),
        Bad(
            lambda k: nt.module("gpt2", "transformer"),
            TypeError,
            "module expected model to be an nnsight Envoy .*, got str",
        ),
    ],
    "mi_course.nnsight_tools:patch_residual": [
        Bad(
            lambda k: nt.patch_residual(k.bridge, _tokens(), _tokens(), sum, [0], [0]),
            TypeError,
            "patch_residual expected model to be an nnsight TransformersModel .*, got TransformerBridge",
        ),
        Bad(
            lambda k: nt.patch_residual(twin(), _tokens(), _tokens(14), sum, [0], [0]),
            ValueError,
            re.escape("patch_residual expected clean and corrupted tokens of one shape, got (20, 15) and (20, 14)"),
        ),
        Bad(
            lambda k: nt.patch_residual(twin(), ["When Mary and John"], _tokens(), sum, [0], [0]),
            TypeError,
            "patch_residual expected clean to be token ids \\(batch, pos\\) or a tokenizer's output with input_ids, got list",
        ),
        Bad(
            lambda k: nt.patch_residual(twin(), _tokens(), _tokens(), "logit diff", [0], [0]),
            TypeError,
            "patch_residual expected metric to be a function of the logits, got str",
        ),
        Bad(
            lambda k: nt.patch_residual(twin(), _tokens(), _tokens(), sum, [2], [0]),
            ValueError,
            "patch_residual expected each of layers >= 0 and <= 1, got 2",
        ),
        Bad(
            lambda k: nt.patch_residual(twin(), _tokens(), _tokens(), sum, [1, 0], [0]),
            ValueError,
            re.escape(
                "patch_residual expected layers in increasing order, each once (a run reaches them in that order), got [1, 0]"
            ),
        ),
        Bad(
            lambda k: nt.patch_residual(twin(), _tokens(), _tokens(), sum, [0], [15]),
            ValueError,
            "patch_residual expected each of positions >= -15 and <= 14, got 15",
        ),
        Bad(
            lambda k: nt.patch_residual(twin(), _tokens(), _tokens(), sum, 0, [0]),
            TypeError,
            "patch_residual expected layers to be a non-empty list of indices, got int 0",
        ),
        Bad(
            lambda k: nt.patch_residual(twin(), _tokens(), _tokens(), sum, [0], [0], remote="ndif"),
            ValueError,
            "patch_residual expected remote to be False, True \\(NDIF\\) or 'local' .*, got 'ndif'",
        ),
    ],
}
NO_BAD_INPUT: dict[str, str] = {
    "mi_course.nnsight_tools:NDIFUnavailableError": "an exception class",
}


@pytest.mark.parametrize("case", bad_input_params(BAD_INPUTS))
def test_bad_input_raises_a_clear_error(case, tmp_path_factory):
    assert_refused(case, shared_kit(tmp_path_factory))
