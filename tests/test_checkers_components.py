"""mi_course.checkers.components: each checker of a from-scratch transformer part passes the reference, names
each plausible mistake, and refuses what it cannot check in one line; the logits check against a bridge.

The bad-input cases that tests/test_bad_input.py scans for are in tests/test_checkers.py.
"""

import math
import re
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from mi_course import scratch
from mi_course.checkers import (
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
from site_tools.pages import Snippet
from tests.models import as_shown, native_bridge, tokens_for

ROOT = Path(__file__).resolve().parents[1]


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


# --- the page's solutions are the reference ----------------------------------------------------

SOLUTIONS = {  # each solution snippet of the page, and the classes of mi_course.scratch it shows
    "step2/embed_solution.py": ["Embed", "PosEmbed"],
    "step2/layernorm_solution.py": ["LayerNorm"],
    "step2/attention_solution.py": ["Attention"],
    "step2/mlp_solution.py": ["MLP"],
    "step2/block_solution.py": ["TransformerBlock"],
    "step2/transformer_solution.py": ["Unembed", "DemoTransformer"],
}


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
