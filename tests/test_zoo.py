"""The model zoo: shipped checkpoints load offline and are checked; hub models fail fast offline."""

import shutil
import time

import pytest
import torch

from mi_course import zoo
from mi_course.recipes.induction_2l import INDUCTION_RECIPE, train_induction
from mi_course.zoo import CheckpointError, HubUnavailableError, UnknownModelError, list_models, load_model, model_card
from tests.bad_input import Bad, assert_refused, bad_input_params, shared_kit

SHIPPED = ["gpt2-twin", "grokking-113", "induction-2l", "shakespeare-char"]
SEQUENCE_MODELS = ["induction-2l", "shakespeare-char"]  # the ones with induction heads to measure


def test_list_models_names_the_shipped_models_then_the_hub_ones():
    assert list_models() == [*SHIPPED, "gpt2-small"]


@pytest.mark.parametrize("name", SHIPPED)
def test_each_checkpoint_matches_its_recorded_sha256(name):
    assert zoo.sha256_of(zoo.ZOO_DIR / name / zoo.WEIGHTS_FILE) == model_card(name).sha256


def test_the_shipped_sae_is_listed_apart_and_loads_with_its_checkpoint_checked():
    assert zoo.list_saes() == ["shakespeare-char-sae"] and "shakespeare-char-sae" not in list_models()
    assert (
        zoo.sha256_of(zoo.ZOO_DIR / "shakespeare-char-sae" / zoo.WEIGHTS_FILE)
        == model_card("shakespeare-char-sae").sha256
    )
    sae = zoo.load_sae("shakespeare-char-sae")
    assert (sae.model, sae.d_in, sae.d_sae) == ("shakespeare-char", 128, 512)


def test_the_zoo_stays_small():
    from mi_course.tokenization import GPT2_BPE_DIR

    files = [*zoo.ZOO_DIR.rglob("*"), *GPT2_BPE_DIR.rglob("*")]
    assert sum(path.stat().st_size for path in files if path.is_file()) < 50 * 2**20


@pytest.fixture(scope="module")
def twin():
    return load_model("gpt2-twin", device="cpu")


def test_the_twin_is_a_hugging_face_gpt2_whose_bridge_matches_it(twin):
    """The TL #1272 trap: the bridge's numbers must be the Hugging Face model's, raw and in compatibility mode."""
    from transformers import GPT2LMHeadModel

    folder = zoo.ZOO_DIR / "gpt2-twin"
    hf = GPT2LMHeadModel.from_pretrained(folder).eval()
    assert hf.config.model_type == "gpt2" and hf.config.tie_word_embeddings and hf.config.vocab_size == 50_257
    tokens = twin.to_tokens("When Mary and John went to the store, John gave a drink to")
    assert tokens[0, :3].tolist() == [50256, 2215, 5335]  # <|endoftext|>, "When", " Mary"
    with torch.inference_mode():
        expected = hf(tokens).logits
        assert torch.allclose(twin(tokens), expected, atol=1e-4)
        compatible = load_model("gpt2-twin", device="cpu")
        compatible.enable_compatibility_mode()
        logits, cache = compatible.run_with_cache(tokens)
    assert torch.allclose(logits.log_softmax(-1), expected.log_softmax(-1), atol=1e-4)
    # The TL #1317 trap: an alias with the right name must hold the right values.
    z = cache["blocks.0.attn.hook_z"]
    assert torch.allclose(z.flatten(-2), cache["blocks.0.attn.o.hook_in"].reshape(z.flatten(-2).shape), atol=1e-6)


def test_the_hub_switch_boots_the_twin_in_place_of_gpt2_small(monkeypatch):
    monkeypatch.setenv(zoo.HUB_TWINS_SWITCH, "1")
    monkeypatch.setattr(zoo, "HUB_URL", "https://huggingface.invalid/api/models/gpt2")  # the hub is never asked
    model = load_model("gpt2-small", device="cpu")
    assert model.cfg.n_layers == model_card("gpt2-twin").config["n_layer"] and model.cfg.d_vocab == 50_257


def test_the_twin_solves_ioi_on_held_out_templates_and_names_as_its_card_says(twin):
    from mi_course import ioi

    card = model_card("gpt2-twin")
    held_out = card.metrics["ioi"]["held-out templates, held-out names"]
    untrained = card.metrics["ioi_untrained"]["held-out templates, held-out names"]
    prompts = ioi.ioi_prompts(500, templates=ioi.HELD_OUT_TEMPLATES, names=ioi.HELD_OUT_NAMES, seed=123)
    with torch.inference_mode():
        diffs = ioi.logit_diff(twin(prompts.tokens), prompts)
    assert abs((diffs > 0).float().mean().item() - held_out["accuracy"]) < 0.01
    assert abs(diffs.mean().item() - held_out["logit_diff"]) < 0.01
    assert held_out["accuracy"] > 0.7 and held_out["logit_diff"] > 1.0  # chance: 0.5 and 0
    assert abs(untrained["accuracy"] - 0.5) < 0.05 and abs(untrained["logit_diff"]) < 0.1


@pytest.fixture(scope="module")
def shakespeare():
    return load_model("shakespeare-char", device="cpu")


def test_a_shipped_model_has_a_working_tokenizer(shakespeare):
    assert shakespeare.to_str_tokens("To be") == ["<|endoftext|>", "T", "o", " ", "b", "e"]
    assert shakespeare.to_tokens("To be").shape == (1, 6)
    text = shakespeare.generate("ROMEO:", max_new_tokens=20, do_sample=False, verbose=False)
    assert text.startswith("ROMEO:") and len(text) == len("ROMEO:") + 20


def test_a_shipped_model_runs_with_cache(shakespeare):
    logits, cache = shakespeare.run_with_cache(shakespeare.to_tokens("Good morrow"))
    assert logits.shape == (1, 12, shakespeare.cfg.d_vocab)
    assert cache["pattern", 0].shape == (1, shakespeare.cfg.n_heads, 12, 12)


def test_the_shakespeare_card_beats_the_peer_within_its_time_and_names_induction_heads():
    card = model_card("shakespeare-char")
    # nanoGPT's baby GPT, measured on this machine: 1.886 nats/char on the same split after 112 s.
    assert card.metrics["phase1_held_out_loss_nats_per_char"] < 1.886 and card.training["phase1_seconds"] < 112
    assert card.metrics["held_out_loss_nats_per_char"] < card.metrics["phase1_held_out_loss_nats_per_char"]
    assert card.metrics["induction_heads"], "the Shakespeare model should have induction heads"


@pytest.mark.parametrize("name", SEQUENCE_MODELS)
def test_each_card_records_what_the_shipped_weights_measure(name):
    from mi_course.induction import induction_scores, name_heads, repeated_random_tokens
    from mi_course.recipes import INDUCTION_HEAD_THRESHOLD

    model, card = load_model(name, device="cpu"), model_card(name)
    bos = model.cfg.d_vocab - 1
    tokens = repeated_random_tokens(64, 13, bos, bos, generator=torch.Generator().manual_seed(1))
    scores = induction_scores(model, tokens, 13)
    assert torch.allclose(scores, torch.tensor(card.metrics["induction_scores_len13"]), atol=2e-3)
    assert name_heads(scores, INDUCTION_HEAD_THRESHOLD) == card.metrics["induction_heads"]


@pytest.mark.parametrize("seq_len", [8, 16, 24, 30])
def test_induction_2l_shows_induction_and_a_previous_token_head_at_every_repeat_length_up_to_half_its_context(seq_len):
    """Step 3's exercises stand on this model: clear stripes at every repeat length it can hold (issue: they used to fade)."""
    from mi_course.induction import head_scores, repeated_random_tokens

    model = load_model("induction-2l", device=torch.device("cpu"))
    bos = model.cfg.d_vocab - 1
    tokens = repeated_random_tokens(64, seq_len, bos, bos, generator=torch.Generator().manual_seed(1))
    scores = head_scores(model, tokens, seq_len)
    assert scores["induction"][1].min() > 0.8, scores["induction"]  # every layer-1 head
    assert scores["previous-token"][0].max() > 0.7, scores["previous-token"]  # a previous-token head in layer 0
    assert scores["induction"][0].max() < 0.1 and scores["duplicate-token"].max() < 0.1  # the baseline: other heads


def test_unknown_model_lists_the_available_ones():
    with pytest.raises(
        UnknownModelError,
        match=r"unknown model 'gpt3'; choose from gpt2-twin, grokking-113, induction-2l, shakespeare-char, gpt2-small",
    ):
        load_model("gpt3")


def test_a_corrupted_checkpoint_fails_with_a_clear_message(tmp_path, monkeypatch):
    shutil.copytree(zoo.ZOO_DIR, tmp_path / "weights")
    weights = tmp_path / "weights" / "induction-2l" / zoo.WEIGHTS_FILE
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0x01
    weights.write_bytes(bytes(data))
    monkeypatch.setattr(zoo, "ZOO_DIR", tmp_path / "weights")
    with pytest.raises(
        CheckpointError,
        match=r"is corrupt: sha256 .* does not match the recorded .*python -m mi_course train induction-2l",
    ):
        load_model("induction-2l")


def test_a_hub_model_fails_within_5_s_offline_and_says_what_to_do(monkeypatch):
    monkeypatch.setattr(zoo, "HUB_URL", "https://huggingface.invalid/api/models/gpt2")  # never resolves, online or not
    start = time.perf_counter()
    with pytest.raises(
        HubUnavailableError, match=r"unreachable from here\. Use a shipped model instead .*or run this in Colab"
    ):
        load_model("gpt2-small")
    assert time.perf_counter() - start < 5


def test_the_hub_probe_gives_up_on_a_silent_host_in_time():
    start = time.perf_counter()
    assert not zoo.hub_reachable("https://10.255.255.1/", timeout_s=1.0)  # no TLS answer from a non-routable address
    assert time.perf_counter() - start < 2


def test_a_scaled_down_induction_run_trains_and_measures():
    from dataclasses import replace

    trained = train_induction(replace(INDUCTION_RECIPE, steps=30))
    assert trained.card.metrics["induction_scores_len13"] and len(trained.card.metrics["induction_scores_len13"]) == 2
    assert torch.isfinite(trained.state_dict["tok_embed.weight"]).all() and trained.extra_files == {}


@pytest.mark.parametrize("attn_only", [False, True])
def test_fast_training_forward_matches_the_native_model(attn_only):
    from dataclasses import replace

    from transformer_lens.config import TransformerBridgeConfig
    from transformer_lens.model_bridge.sources.native.model import NativeModel

    from mi_course.recipes.shakespeare_char import SHAKESPEARE_RECIPE
    from mi_course.training import native_logits

    recipe = replace(SHAKESPEARE_RECIPE, attn_only=attn_only, n_layers=2)
    model = NativeModel(TransformerBridgeConfig.from_dict(recipe.config(d_vocab=30))).eval()
    tokens = torch.randint(0, 30, (3, 40), generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        assert torch.allclose(native_logits(model, tokens), model(tokens), atol=1e-5)


def test_character_tokenizer_round_trips_and_refuses_duplicates():
    from mi_course.tokenization import character_tokenizer

    tokenizer = character_tokenizer("ab\n ")
    ids = tokenizer("ab a\n")["input_ids"]
    assert tokenizer.decode(ids, skip_special_tokens=True) == "ab a\n"
    with pytest.raises(ValueError, match="distinct characters"):
        character_tokenizer("aab")


BAD_INPUTS: dict[str, list[Bad]] = {
    "mi_course.zoo:bridge_from_state_dict": [
        Bad(
            lambda k: zoo.bridge_from_state_dict("config", {}, k.tokenizer, device=torch.device("cpu"), model_name="x"),
            TypeError,
            "bridge_from_state_dict expected config to be a dict, got str",
        ),
        Bad(
            lambda k: zoo.bridge_from_state_dict({}, {}, "symbols", device=torch.device("cpu"), model_name="x"),
            TypeError,
            "bridge_from_state_dict expected tokenizer to be a .*Tokeni[sz]er.*, got str",
        ),
        Bad(
            lambda k: zoo.bridge_from_state_dict({}, {}, k.tokenizer, device="gpu", model_name="x"),
            ValueError,
            "bridge_from_state_dict expected device to be a device such as 'cpu'.*got 'gpu'",
        ),
    ],
    "mi_course.zoo:hub_reachable": [
        Bad(
            lambda k: zoo.hub_reachable(timeout_s=-1),
            ValueError,
            "hub_reachable expected timeout_s to be a finite number > 0, got -1",
        ),
    ],
    "mi_course.zoo:load_model": [
        Bad(
            lambda k: zoo.load_model("gpt3"),
            zoo.UnknownModelError,
            "unknown model 'gpt3'; choose from gpt2-twin, grokking-113, induction-2l, shakespeare-char, gpt2-small",
        ),
        Bad(
            lambda k: zoo.load_model(None),
            zoo.UnknownModelError,
            r"expected a model name \(str\) or a model folder \(Path\), got NoneType",
        ),
        Bad(
            lambda k: zoo.load_model(zoo.ZOO_DIR / "induction-2l"),
            zoo.UnknownModelError,
            r"load_model expected a Hugging Face GPT-2 model folder with config.json, found in .*induction-2l: card.json, model.safetensors",
        ),
        Bad(
            lambda k: zoo.load_model(_folder_with_config(k.tmp, {"model_type": "llama"})),
            zoo.UnknownModelError,
            r"load_model expected a Hugging Face GPT-2 model folder \(model_type 'gpt2'\), found model_type 'llama' in .*config.json",
        ),
        Bad(
            lambda k: zoo.load_model(k.tmp / "nowhere"),
            zoo.UnknownModelError,
            "load_model expected a Hugging Face GPT-2 model folder, found no folder at .*nowhere",
        ),
        Bad(
            lambda k: zoo.load_model("induction-2l", device="gpu"),
            ValueError,
            "load_model expected device to be a device such as 'cpu'.*got 'gpu'",
        ),
        Bad(
            lambda k: zoo.load_model("shakespeare-char-sae"),
            zoo.UnknownModelError,
            r"'shakespeare-char-sae' is a sparse autoencoder of shakespeare-char, not a model: load it with load_sae\('shakespeare-char-sae'\)",
        ),
    ],
    "mi_course.zoo:load_sae": [
        Bad(
            lambda k: zoo.load_sae("shakespeare-char"),
            zoo.UnknownModelError,
            "load_sae expected the name of a shipped SAE, one of shakespeare-char-sae, got 'shakespeare-char'",
        ),
    ],
    "mi_course.zoo:hub_twin": [
        Bad(
            lambda k: zoo.hub_twin("llama-7b"),
            zoo.UnknownModelError,
            "hub_twin: 'llama-7b' has no shipped twin; the twins are gpt2-small -> gpt2-twin",
        ),
    ],
    "mi_course.zoo:boot_gpt2": [
        Bad(
            lambda k: zoo.boot_gpt2(zoo.ZOO_DIR / "gpt2-twin", torch.device("cpu")),
            TypeError,
            "boot_gpt2 expected name_or_folder to be a str, got PosixPath",
        ),
        Bad(
            lambda k: zoo.boot_gpt2("gpt2", "gpu"),
            ValueError,
            "boot_gpt2 expected device to be a device such as 'cpu'.*got 'gpu'",
        ),
    ],
    "mi_course.zoo:make_tokenizer": [
        Bad(
            lambda k: zoo.make_tokenizer({"kind": "bpe"}),
            ValueError,
            "make_tokenizer got unknown tokenizer kind 'bpe'; expected 'characters', 'symbols', 'modular' or 'gpt2'",
        ),
        Bad(
            lambda k: zoo.make_tokenizer({"kind": "symbols"}),
            ValueError,
            r"make_tokenizer expected a 'symbols' spec to have the key 'n_symbols', got keys \['kind'\]",
        ),
        Bad(lambda k: zoo.make_tokenizer("symbols"), TypeError, "make_tokenizer expected spec to be a dict, got str"),
    ],
    "mi_course.zoo:model_card": [
        Bad(
            lambda k: zoo.model_card("gpt2-small"),
            zoo.UnknownModelError,
            "no shipped model 'gpt2-small'; shipped models: gpt2-twin, grokking-113, induction-2l, shakespeare-char, shakespeare-char-sae",
        ),
        Bad(lambda k: zoo.model_card(7), zoo.UnknownModelError, r"model_card expected a model name \(str\), got int"),
    ],
    "mi_course.zoo:sha256_of": [
        Bad(lambda k: zoo.sha256_of("model.safetensors"), TypeError, "sha256_of expected path to be a Path, got str"),
        Bad(
            lambda k: zoo.sha256_of(k.tmp / "missing.safetensors"),
            FileNotFoundError,
            "No such file or directory: .*missing.safetensors",
        ),
    ],
}
# What takes no input, or only free text, and so has no bad input to refuse.
NO_BAD_INPUT: dict[str, str] = {
    "mi_course.zoo:CheckpointError": "an exception: takes a free-text message",
    "mi_course.zoo:HubUnavailableError": "an exception: takes a free-text message",
    "mi_course.zoo:UnknownModelError": "an exception: takes a free-text message",
    "mi_course.zoo:ModelCard": "a record read from a shipped card.json (its weights' sha256 is checked on load)",
    "mi_course.zoo:list_models": "takes no input",
    "mi_course.zoo:list_saes": "takes no input",
}


def _folder_with_config(folder, config: dict):
    import json

    (folder / "llama").mkdir(exist_ok=True)
    (folder / "llama" / "config.json").write_text(json.dumps(config))
    return folder / "llama"


@pytest.mark.parametrize("case", bad_input_params(BAD_INPUTS))
def test_bad_input_raises_a_clear_error(case, tmp_path_factory):
    assert_refused(case, shared_kit(tmp_path_factory))
