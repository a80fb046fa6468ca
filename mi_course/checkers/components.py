"""Checkers of ``mi_course.scratch``'s exercises: each part of a from-scratch transformer, and its
logits against a TransformerBridge's.

Introduced on the page "Step 2: Understand transformers". A component checker builds your
class with a small config, gives it the same random weights as the reference in
``mi_course.scratch``, runs both on the same seeded inputs and reports the first difference,
with a guess at its cause when your output matches a common mistake.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import einops
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mi_course import _checks, scratch
from mi_course.checkers.harness import (
    CHECK_SEED,
    as_checker_input_error,
    first_line,
    randomize,
)
from mi_course.checkers.report import CheckerInputError, CheckReport, CriterionResult

if TYPE_CHECKING:
    from transformer_lens import TransformerBridge


MAX_LOGIT_DIFF = 1e-4
COMPONENT_ATOL = 1e-4
# Every size differs from every other, so a swapped axis cannot go unnoticed.
CHECK_CONFIG = scratch.ScratchConfig(
    d_model=48, n_layers=2, n_heads=3, d_head=16, d_mlp=80, d_vocab=50, n_ctx=20
)
_BATCH, _POS = 2, 9
_LOGIT_CHECK_BATCH, _MAX_LOGIT_CHECK_POS = (
    4,
    256,
)  # GPT-2's full 1,024 positions would need gigabytes of logits

Forward = Callable[[nn.Module, Tensor], Tensor]
# A common mistake: how its output is computed from the reference module, and what to say about it.
Mistake = tuple[Forward, str]


def check_layernorm(cls: type[nn.Module]) -> CheckReport:
    """Check a LayerNorm class: parameters ``w``, ``b`` of shape (d_model,); biased variance; eps inside the root."""

    eps = CHECK_CONFIG.layer_norm_eps

    def normalize(x: Tensor, variance: Tensor, eps_outside: bool = False) -> Tensor:
        centred = x - x.mean(-1, keepdim=True)
        return centred / (
            variance.sqrt() + eps if eps_outside else (variance + eps).sqrt()
        )

    def variance(x: Tensor, unbiased: bool = False) -> Tensor:
        return x.var(-1, keepdim=True, unbiased=unbiased)

    mistakes: list[Mistake] = [
        (
            lambda ln, x: normalize(x, variance(x), eps_outside=True) * ln.w + ln.b,
            "is eps inside the square root?",
        ),
        (
            lambda ln, x: normalize(x, variance(x, unbiased=True)) * ln.w + ln.b,
            "divide the variance by d_model (biased), not d_model - 1",
        ),
        (
            lambda ln, x: (
                x / (x.pow(2).mean(-1, keepdim=True) + eps).sqrt() * ln.w + ln.b
            ),
            "subtract the mean before you divide by the standard deviation",
        ),
        (
            lambda ln, x: normalize(x, variance(x)),
            "apply the learned scale w and shift b at the end",
        ),
    ]
    return _check_component(
        "LayerNorm",
        cls,
        scratch.LayerNorm,
        _layernorm_input,
        mistakes,
        "compute (x - mean) / sqrt(variance + eps) * w + b over d_model",
    )


def check_embed(cls: type[nn.Module]) -> CheckReport:
    """Check an Embed class: parameter ``W_E`` of shape (d_vocab, d_model), one row per token id."""
    mistakes: list[Mistake] = [
        (
            lambda embed, tokens: embed.W_E[: tokens.shape[-1]].expand(
                tokens.shape[0], -1, -1
            ),
            "look up the row of W_E for each token id, not for each position",
        ),
    ]
    return _check_component(
        "Embed",
        cls,
        scratch.Embed,
        _token_input(CHECK_CONFIG.d_vocab),
        mistakes,
        "row t of W_E is the embedding of token t",
    )


def check_pos_embed(cls: type[nn.Module]) -> CheckReport:
    """Check a PosEmbed class: parameter ``W_pos`` of shape (n_ctx, d_model), row p added at position p."""
    mistakes: list[Mistake] = [
        (
            lambda pe, tokens: pe.W_pos[1 : tokens.shape[1] + 1].expand(
                tokens.shape[0], -1, -1
            ),
            "positions start at 0: take W_pos[:pos], not W_pos[1:pos + 1]",
        ),
        (
            lambda pe, tokens: pe.W_pos[tokens],
            "index W_pos by position (0, 1, 2...), not by token id",
        ),
        (
            lambda pe, tokens: (
                pe.W_pos[: tokens.shape[1]].flip(0).expand(tokens.shape[0], -1, -1)
            ),
            "row p belongs to position p, counted from the start of the sequence",
        ),
    ]
    # token ids below n_ctx, so that indexing W_pos by token id runs and gets its hint
    return _check_component(
        "PosEmbed",
        cls,
        scratch.PosEmbed,
        _token_input(CHECK_CONFIG.n_ctx),
        mistakes,
        "add row p of W_pos at position p, the same for every sequence in the batch",
    )


def check_attention(cls: type[nn.Module]) -> CheckReport:
    """Check an Attention class: W_Q, W_K, W_V (n_heads, d_model, d_head), W_O (n_heads, d_head, d_model), biases."""

    def attend(
        attn: nn.Module,
        x: Tensor,
        *,
        scale: float | None = None,
        mask: str = "causal",
        softmax_dim: int = -1,
        b_O: bool = True,
    ) -> Tensor:
        q = torch.einsum("bpm,hmd->bphd", x, attn.W_Q) + attn.b_Q
        k = torch.einsum("bpm,hmd->bphd", x, attn.W_K) + attn.b_K
        v = torch.einsum("bpm,hmd->bphd", x, attn.W_V) + attn.b_V
        scores = torch.einsum("bqhd,bkhd->bhqk", q, k) / (
            math.sqrt(q.shape[-1]) if scale is None else scale
        )
        n = scores.shape[-1]
        future = torch.triu(
            torch.ones(n, n, dtype=torch.bool), diagonal=0 if mask == "diagonal" else 1
        )
        if mask in ("causal", "diagonal"):
            scores = scores.masked_fill(future, -1e5)
        pattern = scores.softmax(dim=softmax_dim)
        if mask == "after softmax":
            pattern = pattern.masked_fill(future, 0.0)
        z = torch.einsum("bhqk,bkhd->bqhd", pattern, v)
        return torch.einsum("bqhd,hdm->bqm", z, attn.W_O) + (attn.b_O if b_O else 0)

    d_head = CHECK_CONFIG.d_head
    mistakes: list[Mistake] = [
        (
            lambda a, x: attend(a, x, mask="none"),
            "future positions get weight: check the causal mask",
        ),
        (
            lambda a, x: attend(a, x, mask="after softmax"),
            "rows of your pattern don't sum to 1: mask the scores with -inf before the softmax, not the pattern after it",
        ),
        (
            lambda a, x: attend(a, x, mask="diagonal"),
            "each position must attend to itself: mask only keys after the query (triu with diagonal=1)",
        ),
        (lambda a, x: attend(a, x, scale=1.0), "divide the scores by sqrt(d_head)"),
        (
            lambda a, x: attend(a, x, scale=float(d_head)),
            "divide the scores by sqrt(d_head), not d_head",
        ),
        (
            lambda a, x: attend(a, x, softmax_dim=-2),
            "take the softmax over keys (the last axis), not queries",
        ),
        (
            lambda a, x: attend(a, x, b_O=False),
            "add the output bias b_O once, after summing the heads",
        ),
    ]
    return _check_component(
        "Attention",
        cls,
        scratch.Attention,
        _residual_input(1.0),
        mistakes,
        "check the einsum axes of q, k, the scores, z and the output",
    )


def check_mlp(cls: type[nn.Module]) -> CheckReport:
    """Check an MLP class: W_in (d_model, d_mlp), b_in, W_out (d_mlp, d_model), b_out, with gelu_new."""

    def mlp(
        m: nn.Module,
        x: Tensor,
        act: Callable[[Tensor], Tensor] = scratch.gelu_new,
        biases: bool = True,
    ) -> Tensor:
        pre = x @ m.W_in + (m.b_in if biases else 0)
        return act(pre) @ m.W_out + (m.b_out if biases else 0)

    mistakes: list[Mistake] = [
        (
            lambda m, x: mlp(m, x, act=F.gelu),
            "use gelu_new, GPT-2's tanh approximation, not the exact GELU",
        ),
        (lambda m, x: mlp(m, x, act=F.relu), "the activation is gelu_new, not ReLU"),
        (lambda m, x: mlp(m, x, biases=False), "add the biases b_in and b_out"),
    ]
    return _check_component(
        "MLP",
        cls,
        scratch.MLP,
        _residual_input(1.0),
        mistakes,
        "compute gelu_new(x @ W_in + b_in) @ W_out + b_out",
    )


def check_block(cls: type[nn.Module]) -> CheckReport:
    """Check a TransformerBlock class: submodules ln1, attn, ln2, mlp, in the pre-LayerNorm arrangement."""
    mistakes: list[Mistake] = [
        (
            lambda blk, x: (
                blk.attn(blk.ln1(x)) + blk.mlp(blk.ln2(x + blk.attn(blk.ln1(x))))
            ),
            "add each sublayer's output to the residual stream: resid + attn(ln1(resid))",
        ),
        (
            lambda blk, x: blk.ln2((h := blk.ln1(x + blk.attn(x))) + blk.mlp(h)),
            "normalize the input of each sublayer (pre-LayerNorm), not the residual after it",
        ),
        (
            lambda blk, x: x + blk.attn(blk.ln1(x)) + blk.mlp(blk.ln2(x)),
            "the MLP reads the residual after attention has added to it",
        ),
        (
            lambda blk, x: (h := x + blk.attn(blk.ln1(x))) + blk.mlp(blk.ln1(h)),
            "the MLP reads ln2 of the residual, not ln1",
        ),
    ]
    return _check_component(
        "TransformerBlock",
        cls,
        scratch.TransformerBlock,
        _residual_input(1.0),
        mistakes,
        "resid_mid = resid_pre + attn(ln1(resid_pre)); resid_post = resid_mid + mlp(ln2(resid_mid))",
    )


def check_unembed(cls: type[nn.Module]) -> CheckReport:
    """Check an Unembed class: W_U (d_model, d_vocab) and b_U (d_vocab,)."""
    mistakes: list[Mistake] = [
        (lambda u, x: x @ u.W_U, "add the bias b_U"),
    ]
    return _check_component(
        "Unembed",
        cls,
        scratch.Unembed,
        _residual_input(1.0),
        mistakes,
        "logits = x @ W_U + b_U",
    )


def check_transformer(cls: type[nn.Module]) -> CheckReport:
    """Check a DemoTransformer class: embed, pos_embed, blocks, ln_final, unembed, mapping tokens to logits."""

    def run(
        model: nn.Module,
        tokens: Tensor,
        *,
        positions: bool = True,
        final_ln: bool = True,
    ) -> Tensor:
        residual = model.embed(tokens) + (model.pos_embed(tokens) if positions else 0)
        for block in model.blocks:
            residual = block(residual)
        return model.unembed(model.ln_final(residual) if final_ln else residual)

    mistakes: list[Mistake] = [
        (
            lambda m, t: run(m, t, positions=False),
            "add the positional embedding to the token embedding",
        ),
        (
            lambda m, t: run(m, t, final_ln=False),
            "apply ln_final before the unembedding",
        ),
    ]
    return _check_component(
        "DemoTransformer",
        cls,
        scratch.DemoTransformer,
        _token_input(CHECK_CONFIG.d_vocab),
        mistakes,
        "embed + pos_embed, each block in order, ln_final, unembed",
    )


def check_logits_match(model: nn.Module, bridge: TransformerBridge) -> CheckReport:
    """Step 2's criterion: your model's logits are within 1e-4 of ``bridge``'s on the checker's own tokens.

    ``model`` is your from-scratch model holding the bridge's weights, mapping int64 tokens
    (batch, pos) to logits (batch, pos, d_vocab). Both run on a few seeded random sequences, as
    long as the bridge's context allows (capped for GPT-2's sake), so that a missing causal mask
    or a position mix-up shows.
    """
    with as_checker_input_error():
        _checks.model(bridge, "check_logits_match", "bridge")
    if not isinstance(model, nn.Module):
        raise CheckerInputError(
            f"check_logits_match expected your model (an nn.Module mapping tokens to logits), got {type(model).__name__}; "
            "pass the model itself: the checker runs it on its own tokens"
        )
    borrowed = _transformer_lens_part(model, bridge)
    if borrowed is not None:
        raise CheckerInputError(
            f"check_logits_match expected your own model, but {borrowed}: it would be compared with TransformerLens "
            "itself; load the bridge's weights into your DemoTransformer with bridge_state_dict(bridge)"
        )
    parameter = next(model.parameters(), None)
    if parameter is None:
        raise CheckerInputError(
            "check_logits_match expected your model to hold the bridge's weights, but it has no parameters"
        )
    pos = min(bridge.cfg.n_ctx, _MAX_LOGIT_CHECK_POS)
    generator = torch.Generator().manual_seed(CHECK_SEED)
    tokens = torch.randint(
        0, bridge.cfg.d_vocab, (_LOGIT_CHECK_BATCH, pos), generator=generator
    )
    with torch.inference_mode():
        expected = bridge(tokens.to(bridge.W_E.device)).float()
        logits = _run_learner("your model", lambda: model(tokens.to(parameter.device)))
    if not isinstance(logits, Tensor) or tuple(logits.shape) != tuple(expected.shape):
        got = (
            tuple(logits.shape) if isinstance(logits, Tensor) else type(logits).__name__
        )
        raise CheckerInputError(
            f"expected logits of shape {tuple(expected.shape)} (batch, pos, d_vocab), got {got} "
            f"for tokens of shape {tuple(tokens.shape)}"
        )
    difference = (
        (logits.detach().float().to(expected.device) - expected).abs().max().item()
    )
    result = CriterionResult(
        name="logits match the bridge",
        passed=difference <= MAX_LOGIT_DIFF,  # False for nan
        measured=f"max abs difference {difference:.1e} over {expected.numel():,} logits "
        f"of {_LOGIT_CHECK_BATCH} random {pos}-token sequences",
        criterion=f"<= {MAX_LOGIT_DIFF:.0e}",
    )
    return CheckReport(step="step2", results=(result,))


def _transformer_lens_part(model: nn.Module, bridge: TransformerBridge) -> str | None:
    """Where ``model`` is, or holds, a TransformerLens model or a part of ``bridge``, in words; None if nowhere."""
    bridge_parts = {id(module) for module in bridge.modules()}
    for name, module in model.named_modules():
        if id(module) in bridge_parts or hasattr(
            module, "run_with_cache"
        ):  # run_with_cache: a bridge, a HookedTransformer
            where = f"your model's {name}" if name else "your model"
            kind = (
                "the bridge or part of it"
                if id(module) in bridge_parts
                else "a TransformerLens model"
            )
            return f"{where} is {kind} ({type(module).__name__})"
    return None


def _check_component(
    name: str,
    cls: type[nn.Module],
    reference_cls: type[nn.Module],
    make_input: Callable[[torch.Generator], Tensor],
    mistakes: list[Mistake],
    generic_hint: str,
) -> CheckReport:
    """Give ``cls`` the reference's random weights, compare outputs, and name a likely cause of a difference."""
    generator = torch.Generator().manual_seed(CHECK_SEED)
    reference = reference_cls(CHECK_CONFIG)
    randomize(reference, generator)
    learner = _build_like(name, cls, reference)
    inputs = make_input(generator)
    with torch.inference_mode():
        expected = reference(inputs)
        got = _run_learner(name, lambda: learner(inputs))
    if not isinstance(got, Tensor) or got.shape != expected.shape:
        shape = tuple(got.shape) if isinstance(got, Tensor) else type(got).__name__
        raise CheckerInputError(
            f"{name}: expected output of shape {tuple(expected.shape)}, got {shape} "
            f"for an input of shape {tuple(inputs.shape)}"
        )
    got = got.float()
    difference = (got - expected).abs().max().item()
    criterion = f"max abs difference <= {COMPONENT_ATOL:.0e}"
    if difference <= COMPONENT_ATOL:
        measured = f"matches the reference on a random {_shape_words(inputs)} input"
        return CheckReport(
            step="step2", results=(CriterionResult(name, True, measured, criterion),)
        )
    hint = generic_hint
    if not torch.isfinite(got).all():
        hint = "your output has nan or inf: is some query masked from every key, or a division by zero?"
    else:
        with torch.inference_mode():
            for mistake, mistake_hint in mistakes:
                if (
                    got - mistake(reference, inputs)
                ).abs().max().item() <= COMPONENT_ATOL:
                    hint = mistake_hint
                    break
    measured = f"output differs from the reference by {difference:#.2g}; {hint}"
    return CheckReport(
        step="step2", results=(CriterionResult(name, False, measured, criterion),)
    )


def _build_like(name: str, cls: type[nn.Module], reference: nn.Module) -> nn.Module:
    """Build ``cls(CHECK_CONFIG)`` and copy the reference's weights into it, name by name."""
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise CheckerInputError(
            f"{name}: expected your nn.Module class itself, got {type(cls).__name__}"
        )
    try:
        learner = cls(CHECK_CONFIG)
    except Exception as error:
        raise CheckerInputError(
            f"{name}(cfg) raised {type(error).__name__}: {first_line(error, empty='(no message)')}"
        ) from error
    ours = dict(reference.named_parameters())
    theirs = dict(learner.named_parameters())
    if set(ours) != set(theirs):
        missing, extra = (
            sorted(set(ours) - set(theirs)),
            sorted(set(theirs) - set(ours)),
        )
        raise CheckerInputError(
            f"{name}: expected parameters named {', '.join(ours)}; "
            + (f"missing {', '.join(missing)}" if missing else "")
            + ("; " if missing and extra else "")
            + (f"unexpected {', '.join(extra)}" if extra else "")
        )
    for key, parameter in ours.items():
        if tuple(theirs[key].shape) != tuple(parameter.shape):
            raise CheckerInputError(
                f"{name}: parameter {key} should have shape {tuple(parameter.shape)}, got {tuple(theirs[key].shape)}"
            )
    with torch.no_grad():
        for key, parameter in ours.items():
            theirs[key].copy_(parameter)
    return learner.eval()


def _run_learner(name: str, call: Callable[[], Tensor]) -> Tensor:
    try:
        return call()
    except (
        Exception
    ) as error:  # the learner's code failed: say so in one line, no traceback
        raise CheckerInputError(
            f"{name}: forward raised {type(error).__name__}: {first_line(error, empty='(no message)')}"
        ) from error


def _layernorm_input(generator: torch.Generator) -> Tensor:
    """Residual vectors at very different scales: eps only matters where the variance is tiny."""
    x = torch.randn(_BATCH, _POS, CHECK_CONFIG.d_model, generator=generator) + 2.0
    scales = einops.rearrange(torch.logspace(-3, 1, _POS), "pos -> 1 pos 1")
    return x * scales


def _residual_input(scale: float) -> Callable[[torch.Generator], Tensor]:
    return lambda generator: (
        scale * torch.randn(_BATCH, _POS, CHECK_CONFIG.d_model, generator=generator)
    )


def _token_input(high: int) -> Callable[[torch.Generator], Tensor]:
    return lambda generator: torch.randint(0, high, (_BATCH, _POS), generator=generator)


def _shape_words(inputs: Tensor) -> str:
    return " x ".join(str(size) for size in inputs.shape)
