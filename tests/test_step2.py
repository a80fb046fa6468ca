"""Step 2: the from-scratch transformer matches TransformerLens, and each checker catches plausible mistakes."""

import contextlib
import inspect
import io
import math
import re
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from mi_course import scratch
from mi_course.checkers import (
    STEP_CHECKS,
    CheckerInputError,
    check_attention,
    check_block,
    check_embed,
    check_layernorm,
    check_logits_match,
    check_mlp,
    check_pos_embed,
    check_transformer,
    check_unembed,
)
from site_tools.pages import SECTION_MARKER, Snippet

ROOT = Path(__file__).resolve().parents[1]

NATIVE = dict(
    d_model=128,
    d_head=32,
    n_heads=4,
    n_layers=4,
    n_ctx=128,
    d_vocab=66,
    d_mlp=512,
    act_fn="gelu_new",
    normalization_type="LN",
    positional_embedding_type="standard",
    seed=0,
)


def native_bridge(**overrides):
    """A random TL-native bridge whose every weight, biases and LayerNorms included, is non-trivial."""
    import transformer_lens.model_bridge.sources.native  # noqa: F401  registers boot_native
    from transformer_lens import TransformerBridge
    from transformer_lens.config import TransformerBridgeConfig

    bridge = TransformerBridge.boot_native(TransformerBridgeConfig(**{**NATIVE, **overrides}))
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for parameter in bridge.original_model.parameters():
            parameter.add_(0.2 * torch.randn(parameter.shape, generator=generator))
    return bridge


def tokens_for(bridge, batch=3, pos=None):
    generator = torch.Generator().manual_seed(2)
    return torch.randint(0, bridge.cfg.d_vocab, (batch, pos or bridge.cfg.n_ctx), generator=generator)


# --- the reference matches the bridge -------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"n_layers": 2, "attn_only": True},
        {"d_model": 96, "d_head": 16, "n_heads": 6, "n_layers": 3, "d_mlp": 200, "d_vocab": 101, "n_ctx": 40},
    ],
    ids=["shakespeare-sized", "attn-only", "odd-sizes"],
)
def test_reference_matches_native_bridge(overrides):
    bridge = native_bridge(**overrides)
    model = scratch.load_weights_from_bridge(bridge)
    tokens = tokens_for(bridge)
    with torch.inference_mode():
        difference = (model(tokens) - bridge(tokens)).abs().max().item()
    assert difference <= 1e-4
    report = check_logits_match(model, bridge)
    assert report.passed and str(report).startswith("[step2] PASS  logits match the bridge: max abs difference")


def test_reference_matches_a_gpt2_bridge_offline():
    """GPT-2's architecture adapter, on a small random GPT-2 built locally (no download)."""
    import transformers  # a dependency of mi-course: missing, it must fail, not skip
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from transformer_lens import TransformerBridge

    torch.manual_seed(0)
    hf_config = transformers.GPT2Config(n_layer=2, n_embd=64, n_head=4, n_positions=32, vocab_size=100)
    hf_model = transformers.GPT2LMHeadModel(hf_config).eval()
    with torch.no_grad():
        for parameter in hf_model.parameters():
            parameter.add_(0.05 * torch.randn_like(parameter))
    vocab = Tokenizer(WordLevel({f"t{i}": i for i in range(100)}, unk_token="t0"))
    tokenizer = transformers.PreTrainedTokenizerFast(tokenizer_object=vocab)
    bridge = TransformerBridge.boot_transformers("gpt2", hf_model=hf_model, tokenizer=tokenizer)
    model = scratch.load_weights_from_bridge(bridge)
    tokens = tokens_for(bridge, pos=32)
    assert check_logits_match(model, bridge).passed
    with torch.inference_mode():
        assert (model(tokens) - hf_model(tokens).logits).abs().max().item() <= 1e-4


def test_config_refuses_what_the_scratch_model_lacks():
    with pytest.raises(ValueError, match="positional_embedding_type='rotary'"):
        scratch.ScratchConfig.from_bridge(native_bridge(positional_embedding_type="rotary"))


def with_output(model, change):
    """``model`` with ``change`` applied to its logits, as a forward hook."""
    model.register_forward_hook(lambda module, inputs, logits: change(logits))
    return model


def test_logit_checker_fails_above_the_criterion_and_reports_the_difference():
    bridge = native_bridge(n_layers=1)
    reference = scratch.load_weights_from_bridge(bridge)
    assert check_logits_match(with_output(reference, lambda logits: logits + 0.9e-4), bridge).passed
    report = check_logits_match(
        with_output(scratch.load_weights_from_bridge(bridge), lambda logits: logits + 2e-4), bridge
    )
    assert not report.passed and "FAIL  logits match the bridge: max abs difference 2.0e-04" in str(report)
    assert "over 33,792 logits of 4 random 128-token sequences (criterion: <= 1e-04)" in str(report)
    nan = with_output(scratch.load_weights_from_bridge(bridge), lambda logits: logits * float("nan"))
    assert not check_logits_match(nan, bridge).passed
    with pytest.raises(CheckerInputError, match=r"expected logits of shape \(4, 128, 66\).*got \(4, 128, 65\)"):
        check_logits_match(
            with_output(scratch.load_weights_from_bridge(bridge), lambda logits: logits[..., :-1]), bridge
        )


def test_logit_checker_runs_full_length_sequences_so_a_missing_causal_mask_fails():
    bridge = native_bridge(n_layers=1)
    unmasked = scratch.load_weights_from_bridge(bridge)
    for block in unmasked.blocks:
        block.attn.apply_causal_mask = lambda scores: scores  # every query sees the future
    one_token = tokens_for(bridge, pos=1)
    with torch.inference_mode():  # on one-token sequences the mask changes nothing, so learner tokens could hide it
        assert (unmasked(one_token) - bridge(one_token)).abs().max().item() <= 1e-4
    assert not check_logits_match(unmasked, bridge).passed
    long_context = native_bridge(n_layers=1, n_ctx=300)
    report = check_logits_match(scratch.load_weights_from_bridge(long_context), long_context)
    assert report.passed and "of 4 random 256-token sequences" in str(report), str(report)
    assert str(report) == str(
        check_logits_match(scratch.load_weights_from_bridge(long_context), long_context)
    )  # seeded


class HoldsTheBridge(torch.nn.Module):
    def __init__(self, bridge):
        super().__init__()
        self.bridge = bridge

    def forward(self, tokens):
        return self.bridge(tokens)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda bridge: bridge, r"your model is the bridge or part of it \(TransformerBridge\)"),
        (
            lambda bridge: bridge.original_model,
            r"your model's tok_embed is the bridge or part of it \(EmbeddingBridge\)",
        ),
        (HoldsTheBridge, r"your model's bridge is the bridge or part of it \(TransformerBridge\)"),
        (lambda bridge: native_bridge(n_layers=1), r"your model is a TransformerLens model \(TransformerBridge\)"),
        (
            lambda bridge: bridge(tokens_for(bridge)),
            "got Tensor; pass the model itself: the checker runs it on its own tokens",
        ),
    ],
)
def test_logit_checker_refuses_transformer_lens_as_your_model(wrong, message):
    bridge = native_bridge(n_layers=1)
    with pytest.raises(CheckerInputError, match=message) as raised:
        check_logits_match(wrong(bridge), bridge)
    assert "\n" not in str(raised.value)


def test_step2_is_registered_with_the_logit_match_snippet_and_its_model_passes():
    step = STEP_CHECKS["step2"]
    assert [path.name for path in step.solution_paths()] == ["logit_match.py"]
    assert [path.name for path in step.sources()] == [
        "logit_match.py",
        "scratch.py",
        "sampling.py",
    ]  # and the taught code
    report = step.run()
    assert report.passed and "over 22,100 logits of 4 random 65-token sequences" in str(report), str(report)


# --- the page's solutions are the reference ----------------------------------------------------

SOLUTIONS = {  # each solution snippet of the page, and the classes of mi_course.scratch it shows
    "step2/embed_solution.py": ["Embed", "PosEmbed"],
    "step2/layernorm_solution.py": ["LayerNorm"],
    "step2/attention_solution.py": ["Attention"],
    "step2/mlp_solution.py": ["MLP"],
    "step2/block_solution.py": ["TransformerBlock"],
    "step2/transformer_solution.py": ["Unembed", "DemoTransformer"],
}


def as_shown(taught) -> str:
    """The source of a class or function of mi_course as a page shows it: no input-checking decorator, no section markers."""
    lines = inspect.getsource(taught).split("\n")
    return "\n".join(line for line in lines if not line.startswith("@") and not SECTION_MARKER.match(line))


@pytest.mark.parametrize("name, classes", SOLUTIONS.items(), ids=list(SOLUTIONS))
def test_each_solution_shows_the_reference_class_itself(name, classes):
    """What the component checkers compare a learner's class with is, line for line, the solution the page shows."""
    snippet = Snippet(name, ROOT)
    assert len(snippet.includes) == len(classes) and all(
        path.startswith("mi_course/scratch.py:") for path in snippet.includes
    )
    assert re.findall(r"^class (\w+)", snippet.script, re.MULTILINE) == classes  # no class of its own beside them
    for cls in classes:
        assert as_shown(getattr(scratch, cls)) in snippet.script, (
            f"{name} does not show mi_course.scratch.{cls} as it is"
        )


# --- component checkers accept the reference and reject plausible mistakes ----------------------


@pytest.mark.parametrize(
    "checker, reference",
    [
        (check_layernorm, scratch.LayerNorm),
        (check_embed, scratch.Embed),
        (check_pos_embed, scratch.PosEmbed),
        (check_attention, scratch.Attention),
        (check_mlp, scratch.MLP),
        (check_block, scratch.TransformerBlock),
        (check_unembed, scratch.Unembed),
        (check_transformer, scratch.DemoTransformer),
    ],
)
def test_checkers_pass_the_reference(checker, reference):
    report = checker(reference)
    assert report.passed, str(report)
    assert str(report).startswith(f"[step2] PASS  {report.results[0].name}: matches the reference")


def override(base, **methods):
    return type(f"Wrong{base.__name__}", (base,), methods)


def ln_forward(eps_outside=False, unbiased=False, centre=True):
    def forward(self, x):
        centred = x - x.mean(-1, keepdim=True) if centre else x
        variance = x.var(-1, keepdim=True, unbiased=unbiased) if centre else x.pow(2).mean(-1, keepdim=True)
        scale = variance.sqrt() + self.eps if eps_outside else (variance + self.eps).sqrt()
        return centred / scale * self.w + self.b

    return forward


def attn_forward(scale=None, mask="causal", fill=float("-inf")):
    def forward(self, x):
        q = torch.einsum("bpm,hmd->bphd", x, self.W_Q) + self.b_Q
        k = torch.einsum("bpm,hmd->bphd", x, self.W_K) + self.b_K
        v = torch.einsum("bpm,hmd->bphd", x, self.W_V) + self.b_V
        scores = torch.einsum("bqhd,bkhd->bhqk", q, k) / (math.sqrt(self.cfg.d_head) if scale is None else scale)
        n = scores.shape[-1]
        future = torch.triu(torch.ones(n, n, dtype=torch.bool), diagonal=0 if mask == "diagonal" else 1)
        if mask in ("causal", "diagonal"):
            scores = scores.masked_fill(future, fill)
        pattern = scores.softmax(-1)
        if mask == "after softmax":
            pattern = pattern.masked_fill(future, 0.0)
        return torch.einsum("bqhd,hdm->bqm", torch.einsum("bhqk,bkhd->bqhd", pattern, v), self.W_O) + self.b_O

    return forward


def mlp_forward(act):
    return lambda self, x: act(x @ self.W_in + self.b_in) @ self.W_out + self.b_out


def no_positions(self, tokens):
    residual = self.embed(tokens)
    for block in self.blocks:
        residual = block(residual)
    return self.unembed(self.ln_final(residual))


def no_final_ln(self, tokens):
    residual = self.embed(tokens) + self.pos_embed(tokens)
    for block in self.blocks:
        residual = block(residual)
    return self.unembed(residual)


MISTAKES = [
    (
        check_layernorm,
        override(scratch.LayerNorm, forward=ln_forward(eps_outside=True)),
        "is eps inside the square root?",
    ),
    (check_layernorm, override(scratch.LayerNorm, forward=ln_forward(unbiased=True)), "not d_model - 1"),
    (check_layernorm, override(scratch.LayerNorm, forward=ln_forward(centre=False)), "subtract the mean"),
    (
        check_layernorm,
        override(scratch.LayerNorm, forward=lambda self, x: F.layer_norm(x, x.shape[-1:])),
        "apply the learned scale w and shift b",
    ),
    (
        check_pos_embed,
        override(scratch.PosEmbed, forward=lambda self, t: self.W_pos[1 : t.shape[1] + 1].expand(t.shape[0], -1, -1)),
        "positions start at 0",
    ),
    (check_pos_embed, override(scratch.PosEmbed, forward=lambda self, t: self.W_pos[t]), "not by token id"),
    (
        check_embed,
        override(scratch.Embed, forward=lambda self, t: self.W_E[: t.shape[1]].expand(t.shape[0], -1, -1)),
        "for each token id, not for each position",
    ),
    (check_attention, override(scratch.Attention, forward=attn_forward(mask="none")), "check the causal mask"),
    (check_attention, override(scratch.Attention, forward=attn_forward(mask="after softmax")), "don't sum to 1"),
    (check_attention, override(scratch.Attention, forward=attn_forward(mask="diagonal")), "nan"),
    (
        check_attention,
        override(scratch.Attention, forward=attn_forward(mask="diagonal", fill=-1e5)),
        "must attend to itself",
    ),
    (
        check_attention,
        override(scratch.Attention, forward=attn_forward(scale=1.0)),
        "divide the scores by sqrt(d_head)",
    ),
    (check_attention, override(scratch.Attention, forward=attn_forward(scale=16.0)), "not d_head"),
    (check_attention, override(scratch.Attention, forward=attn_forward(fill=-1e4)), None),  # a finite fill is fine
    (check_mlp, override(scratch.MLP, forward=mlp_forward(F.gelu)), "not the exact GELU"),
    (check_mlp, override(scratch.MLP, forward=mlp_forward(F.relu)), "not ReLU"),
    (check_mlp, override(scratch.MLP, forward=mlp_forward(lambda x: F.gelu(x, approximate="tanh"))), None),
    (
        check_block,
        override(
            scratch.TransformerBlock,
            forward=lambda self, x: self.attn(self.ln1(x)) + self.mlp(self.ln2(x + self.attn(self.ln1(x)))),
        ),
        "add each sublayer's output to the residual stream",
    ),
    (
        check_block,
        override(scratch.TransformerBlock, forward=lambda self, x: x + self.attn(self.ln1(x)) + self.mlp(self.ln2(x))),
        "after attention",
    ),
    (check_unembed, override(scratch.Unembed, forward=lambda self, x: x @ self.W_U), "add the bias b_U"),
    (check_transformer, override(scratch.DemoTransformer, forward=no_positions), "add the positional embedding"),
    (check_transformer, override(scratch.DemoTransformer, forward=no_final_ln), "apply ln_final"),
]


@pytest.mark.parametrize("checker, wrong, hint", MISTAKES, ids=lambda v: v if isinstance(v, str) else None)
def test_checkers_reject_plausible_mistakes_with_a_hint(checker, wrong, hint):
    report = checker(wrong)
    if hint is None:  # an equivalent implementation, not a mistake
        assert report.passed, str(report)
        return
    assert not report.passed
    text = str(report)
    assert "\n" not in text and "FAIL" in text and "output differs from the reference by" in text
    assert hint in text, text


# --- one line for what a checker cannot check -------------------------------------------------------


class WrongShapeMLP(scratch.MLP):
    def forward(self, x):
        return super().forward(x)[..., :-1]


class TransposedEmbed(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.W_E = torch.nn.Parameter(torch.zeros(cfg.d_model, cfg.d_vocab))

    def forward(self, tokens):
        return self.W_E.T[tokens]


class Stub(scratch.LayerNorm):
    def forward(self, x):
        raise NotImplementedError("fill in forward")


class TorchNamedLayerNorm(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(cfg.d_model))
        self.bias = torch.nn.Parameter(torch.zeros(cfg.d_model))


class NeedsTwoArguments(scratch.Attention):
    def __init__(self, cfg, layer):
        super().__init__(cfg)


@pytest.mark.parametrize(
    "checker, wrong, message",
    [
        (check_mlp, WrongShapeMLP, r"MLP: expected output of shape \(2, 9, 48\), got \(2, 9, 47\)"),
        (check_embed, TransposedEmbed, r"Embed: parameter W_E should have shape \(50, 48\), got \(48, 50\)"),
        (check_layernorm, Stub, "LayerNorm: forward raised NotImplementedError: fill in forward"),
        (
            check_layernorm,
            TorchNamedLayerNorm,
            "LayerNorm: expected parameters named w, b; missing b, w; unexpected bias, weight",
        ),
        (
            check_layernorm,
            scratch.LayerNorm(scratch.ScratchConfig()),
            "expected your nn.Module class itself, got LayerNorm",
        ),
        (
            check_attention,
            NeedsTwoArguments,
            r"Attention\(cfg\) raised TypeError: .*missing 1 required positional argument",
        ),
    ],
)
def test_checkers_explain_what_they_cannot_check_in_one_line(checker, wrong, message):
    with pytest.raises(CheckerInputError, match=message) as raised:
        checker(wrong)
    assert "\n" not in str(raised.value)


# --- sampling ----------------------------------------------------------------------------------


def test_sample_is_seeded_greedy_at_temperature_zero_and_respects_n_ctx():
    torch.manual_seed(0)
    model = scratch.DemoTransformer(
        scratch.ScratchConfig(
            d_model=32, n_layers=1, n_heads=2, d_head=16, d_mlp=64, d_vocab=20, n_ctx=8, init_range=0.5
        )
    ).eval()
    prompt = torch.tensor([[1, 2, 3]])
    first, again = scratch.sample(model, prompt, 10, seed=3), scratch.sample(model, prompt, 10, seed=3)
    assert first.shape == (1, 13) and torch.equal(first, again) and torch.equal(first[:, :3], prompt)
    greedy = scratch.sample(model, prompt, 1, temperature=0)
    with torch.inference_mode():
        assert greedy[0, -1] == model(prompt)[0, -1].argmax()


# --- the training loop: the checker passes the reference and rejects plausible mistakes ---------------

from mi_course import sampling  # noqa: E402
from mi_course.checkers.step2 import check_sampling, check_training_loop  # noqa: E402  (the registry lists them later)


def training_loop(loss_of=None, zero_grad=True, step=True, record=lambda loss: loss.item()):
    def train(model, optimizer, batches):
        losses = []
        for tokens in batches:
            logits = model(tokens)
            loss = (loss_of or (lambda l, t: F.cross_entropy(l[:, :-1].transpose(1, 2), t[:, 1:])))(logits, tokens)
            if zero_grad:
                model.zero_grad()  # the model's zero_grad is as good as the optimizer's
            loss.backward()
            if step:
                optimizer.step()
            losses.append(record(loss))
        return losses

    return train


def test_training_checker_passes_the_reference_and_equivalent_loops():
    report = check_training_loop(scratch.train_demo_transformer)
    assert report.passed and "matches the reference over 5 SGD steps" in str(report), str(report)
    assert check_training_loop(training_loop()).passed  # transposed logits, model.zero_grad, a tensor per loss
    assert check_training_loop(training_loop(record=lambda loss: loss.detach())).passed


TRAINING_MISTAKES = [
    (
        training_loop(lambda l, t: F.cross_entropy(l.flatten(0, 1), t.flatten())),
        "you predict each token from its own position",
    ),
    (
        training_loop(lambda l, t: F.cross_entropy(l[:, 1:].flatten(0, 1), t[:, :-1].flatten())),
        "you shifted the wrong way",
    ),
    (training_loop(zero_grad=False), "call optimizer.zero_grad() before each loss.backward()"),
    (training_loop(step=False), "the weights never changed: call optimizer.step()"),
    (
        training_loop(lambda l, t: -l[:, :-1].log_softmax(dim=1).gather(-1, t[:, 1:, None]).mean()),
        "softmax over positions (dim 1)",
    ),
    (training_loop(lambda l, t: F.cross_entropy(l[:, :-1].transpose(1, 2), t[:, 1:], reduction="sum")), "don't sum it"),
]


@pytest.mark.parametrize("wrong, hint", TRAINING_MISTAKES, ids=[hint for _, hint in TRAINING_MISTAKES])
def test_training_checker_rejects_plausible_mistakes_with_a_hint(wrong, hint):
    report = check_training_loop(wrong)
    assert not report.passed and "\n" not in str(report) and hint in str(report), str(report)


def own_optimizer(model, optimizer, batches):
    return training_loop()(model, torch.optim.SGD(model.parameters(), lr=0.1), batches)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (
            training_loop(lambda l, t: F.cross_entropy(l[:, :-1], t[:, 1:])),
            r"raised RuntimeError: .*; F.cross_entropy takes logits \(N, d_vocab\)",
        ),
        (
            lambda model, optimizer, batches: 0.5,
            r"should return a list with the loss of each step \(5 floats\), got float",
        ),
        (lambda model, optimizer, batches: [1.0], "one loss per batch: 5 batches, 1 losses"),
        ("train", "check_training_loop expected your training function, got str"),
    ],
)
def test_training_checker_explains_what_it_cannot_check_in_one_line(wrong, message):
    with pytest.raises(CheckerInputError, match=message) as raised:
        check_training_loop(wrong)
    assert "\n" not in str(raised.value)


def test_training_checker_says_when_the_given_optimizer_is_unused():
    assert "the optimizer you were given never stepped" in str(check_training_loop(own_optimizer))


def test_training_loop_solution_passes_and_trains():
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(
            compile(Snippet("step2/training_loop_solution.py", ROOT).script, "training_loop_solution.py", "exec"),
            {"__name__": "__main__"},
        )
    lines = printed.getvalue().splitlines()
    assert lines[0].startswith("[step2] PASS  training loop") and lines[1].startswith("loss at step 0: 3.00"), lines
    assert float(lines[1].rsplit(": ", 1)[1]) < 0.5
    stub = io.StringIO()
    with contextlib.redirect_stdout(stub):
        exec(
            compile(Snippet("step2/training_loop_stub.py", ROOT).script, "training_loop_stub.py", "exec"),
            {"__name__": "__main__"},
        )
    assert stub.getvalue() == "your training loop raised NotImplementedError: fill in train_demo_transformer\n"
    assert Snippet("step2/training_loop_solution.py", ROOT).includes == ["mi_course/scratch.py:train-loop"]
    assert as_shown(scratch.train_demo_transformer) in Snippet("step2/training_loop_solution.py", ROOT).script


# --- top-k and top-p sampling -----------------------------------------------------------------------


def probs_variant(**changes):
    from mi_course.checkers.step2 import _sampling_variant

    return lambda logits, temperature=1.0, top_k=None, top_p=None: _sampling_variant(
        logits, temperature, top_k, top_p, **changes
    )


def sampler(probs):
    return lambda logits, temperature=1.0, top_k=None, top_p=None, generator=None: torch.multinomial(
        probs(logits, temperature, top_k, top_p), 1, generator=generator
    ).squeeze(-1)


def test_sampling_checker_passes_the_reference_deterministically():
    report = check_sampling(sampling.sample_next_token, sampling.next_token_probs)
    assert report.passed and [r.name for r in report.results] == ["next_token_probs", "sample_next_token"], str(report)
    assert str(report) == str(check_sampling(sampling.sample_next_token, sampling.next_token_probs))
    # the cumulative probabilities of the top-p cases are far from p, so float rounding cannot flip a token
    from mi_course.checkers.step2 import _PROBS_CASES, _sampling_logits

    for index, ((batch, d_vocab), temperature, top_k, top_p) in enumerate(_PROBS_CASES):
        if top_p is not None:
            scaled = _sampling_logits(batch, d_vocab, index) / temperature
            if top_k is not None:
                scaled = scaled.masked_fill(scaled < scaled.topk(top_k).values[:, -1:], float("-inf"))
            cumulative = scaled.softmax(-1).sort(descending=True).values.cumsum(-1)
            assert (cumulative - top_p).abs().min() > 1e-3


def sorted_space_sampler(logits, temperature=1.0, top_k=None, top_p=None, generator=None):
    """Draws in sorted order, then maps back: other draws than the reference's, the same distribution."""
    probs, order = sampling.next_token_probs(logits, temperature, top_k, top_p).sort(dim=-1, descending=True)
    return order.gather(-1, torch.multinomial(probs, 1, generator=generator)).squeeze(-1)


def test_sampling_checker_passes_a_sampler_that_draws_otherwise():
    assert check_sampling(sorted_space_sampler, sampling.next_token_probs).passed


SAMPLING_MISTAKES = [
    (probs_variant(k_offset=-1), "you kept top_k - 1 tokens"),
    (probs_variant(k_offset=+1), "you kept top_k + 1 tokens"),
    (probs_variant(crossing=False), "you dropped the token that crosses p"),
    (probs_variant(temper="after softmax"), "not the probabilities after it"),
    (probs_variant(temper="ignored"), "renormalising, undoes the temperature"),
    (probs_variant(temper="multiplied"), "don't multiply them"),
    (probs_variant(renormalise=False), "renormalise what you keep"),
    (probs_variant(p_from_tempered=False), "apply the temperature first, then cut top-p"),
    (probs_variant(p_after_k=False), "apply top-k first, then top-p"),
]


@pytest.mark.parametrize("wrong, hint", SAMPLING_MISTAKES, ids=[hint for _, hint in SAMPLING_MISTAKES])
def test_sampling_checker_rejects_plausible_mistakes_with_a_hint(wrong, hint):
    report = check_sampling(sampler(wrong), wrong)
    probs, samples = report.results
    assert not probs.passed and hint in probs.measured, str(report)
    if not samples.passed:  # a mistake that renormalisation by torch.multinomial undoes draws right
        assert "your draws use" in samples.measured


def test_sampling_checker_rejects_draws_from_another_distribution_and_an_unused_generator():
    report = check_sampling(sampler(probs_variant(k_offset=+1)), sampling.next_token_probs)
    assert not report.results[1].passed and "you kept top_k + 1 tokens" in report.results[1].measured, str(report)
    ignores = lambda logits, temperature=1.0, top_k=None, top_p=None, generator=None: sampling.sample_next_token(
        logits, temperature, top_k, top_p
    )  # noqa: E731
    report = check_sampling(ignores, sampling.next_token_probs)
    assert "pass generator to torch.multinomial" in report.results[1].measured, str(report)


@pytest.mark.parametrize(
    "sample, probs, message",
    [
        (
            lambda logits, *args: torch.multinomial(logits.softmax(-1), 1),
            sampling.next_token_probs,
            r"squeeze the sample axis",
        ),
        (
            lambda logits, *args: logits.argmax(-1).float(),
            sampling.next_token_probs,
            r"expected int64 token ids of shape \(20000,\)",
        ),
        (
            sampling.sample_next_token,
            lambda logits, *args: logits.softmax(-1)[0],
            r"next_token_probs: expected probabilities of shape \(3, 10\)",
        ),
        (sampling.sample_next_token, "probs", "check_sampling expected your next_token_probs function, got str"),
    ],
)
def test_sampling_checker_explains_what_it_cannot_check_in_one_line(sample, probs, message):
    with pytest.raises(CheckerInputError, match=message) as raised:
        check_sampling(sample, probs)
    assert "\n" not in str(raised.value)


def test_sampling_snippets_run_and_the_existing_sampling_snippet_is_untouched():
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(Snippet("step2/top_k_top_p_stub.py", ROOT).script, "stub", "exec"), {"__name__": "__main__"})
        exec(
            compile(Snippet("step2/top_k_top_p_solution.py", ROOT).script, "solution", "exec"), {"__name__": "__main__"}
        )
    lines = printed.getvalue().splitlines()
    assert (
        lines[0]
        == "next_token_probs raised NotImplementedError: fill in next_token_probs (temperature=0.5, top_k=None, top_p=None)"
    )
    assert lines[1].startswith("[step2] PASS  next_token_probs") and lines[2].startswith(
        "[step2] PASS  sample_next_token"
    )
    assert (
        lines[5]
        == "temperature 1.0, top_k 3, top_p None: keeps 3 tokens, top probability 0.506, 8 draws [2, 1, 0, 2, 1, 1, 1, 2]"
    )
    solution = Snippet("step2/top_k_top_p_solution.py", ROOT)
    assert solution.includes == ["mi_course/sampling.py:next-token-probs", "mi_course/sampling.py:sample-next-token"]
    assert (
        as_shown(sampling.next_token_probs) in solution.script
        and as_shown(sampling.sample_next_token) in solution.script
    )
