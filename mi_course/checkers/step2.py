"""Checkers for Step 2: each part of a from-scratch transformer, and its logits against a TransformerBridge.

Introduced on the page "Step 2: Understand transformers". A component checker builds your
class with a small config, gives it the same random weights as the reference in
``mi_course.scratch``, runs both on the same seeded inputs and reports the first difference,
with a guess at its cause when your output matches a common mistake.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import einops
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mi_course import _checks, scratch
from mi_course.checkers.report import (
    CheckerInputError,
    CheckReport,
    CriterionResult,
    _as_checker_input_error,
)

if TYPE_CHECKING:
    from transformer_lens import TransformerBridge

MAX_LOGIT_DIFF = 1e-4
COMPONENT_ATOL = 1e-4
CHECK_SEED = 0
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
    with _as_checker_input_error():
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
    _randomize(reference, generator)
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
            f"{name}(cfg) raised {type(error).__name__}: {_first_line(error)}"
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
            f"{name}: forward raised {type(error).__name__}: {_first_line(error)}"
        ) from error


def _randomize(module: nn.Module, generator: torch.Generator) -> None:
    """Weights large enough that every mistake shows: std 0.2 for matrices, 0.1 around 1 and 0 for vectors."""
    with torch.no_grad():
        for key, parameter in module.named_parameters():
            noise = torch.randn(parameter.shape, generator=generator)
            if key.endswith(".w") or key == "w":  # LayerNorm scale
                parameter.copy_(1 + 0.1 * noise)
            elif parameter.dim() == 1 or key.split(".")[-1].startswith("b_"):
                parameter.copy_(0.1 * noise)
            else:
                parameter.copy_(0.2 * noise)


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


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else "(no message)"


# --- sampling: top-k and top-p --------------------------------------------------------------------

PROBS_ATOL = 1e-5
SAMPLE_DRAWS = (
    20_000  # draws per row: a kept token of probability 0.01 is drawn about 200 times
)
MAX_SAMPLE_TV = 0.02  # total variation between the draws and the reference; its noise is about 0.005
# (batch, d_vocab), temperature, top_k, top_p: two vocabulary sizes; each cut alone, then both, each with a
# temperature away from 1 somewhere, so that a temperature applied in the wrong place shows
_PROBS_CASES = (
    ((3, 10), 0.5, None, None),
    ((3, 10), 1.0, 4, None),
    ((2, 50), 2.0, 7, None),
    ((3, 10), 1.0, None, 0.7),
    ((2, 50), 0.8, None, 0.9),
    ((2, 50), 1.5, 12, 0.6),
    ((3, 10), 0.7, 5, 0.8),
)
# one row of logits each, drawn SAMPLE_DRAWS times: d_vocab, temperature, top_k, top_p, and the seed of the
# logits, chosen so that every kept token has probability 0.019 or more
_SAMPLE_CASES = ((10, 0.8, 6, None, 101), (50, 1.3, 12, 0.9, 100))


def check_sampling(
    sample_next_token: Callable[..., Tensor], next_token_probs: Callable[..., Tensor]
) -> CheckReport:
    """Check ``next_token_probs(logits, temperature, top_k, top_p)`` and ``sample_next_token(..., generator)``.

    ``next_token_probs`` is compared with the reference (``mi_course.sampling``) on seeded random
    logits of two vocabulary sizes, with each cut alone and both together; ``sample_next_token`` is
    drawn from 20,000 times per case with a seeded generator: it must draw only the tokens the
    reference keeps, every one of them, at frequencies within 0.02 (total variation) of the
    reference's probabilities, and the same tokens again from a generator with the same seed.
    """
    for function, what in (
        (sample_next_token, "your sample_next_token function"),
        (next_token_probs, "your next_token_probs function"),
    ):
        if not callable(function):
            raise CheckerInputError(
                f"check_sampling expected {what}, got {type(function).__name__}"
            )
    with torch.random.fork_rng(
        devices=[]
    ):  # a learner's draw from the global generator must not move the caller's
        torch.manual_seed(CHECK_SEED)
        return CheckReport(
            "step2", (_check_probs(next_token_probs), _check_samples(sample_next_token))
        )


def _sampling_logits(batch: int, d_vocab: int, seed: int) -> Tensor:
    return 2 * torch.randn(
        batch, d_vocab, generator=torch.Generator().manual_seed(seed)
    )


def _settings(temperature: float, top_k: int | None, top_p: float | None) -> str:
    return f"temperature={temperature}, top_k={top_k}, top_p={top_p}"


def _check_probs(next_token_probs: Callable[..., Tensor]) -> CriterionResult:
    from mi_course import sampling

    criterion = f"max abs difference <= {PROBS_ATOL:.0e}"
    for index, ((batch, d_vocab), temperature, top_k, top_p) in enumerate(_PROBS_CASES):
        logits = _sampling_logits(batch, d_vocab, index)
        expected = sampling.next_token_probs(logits, temperature, top_k, top_p)
        settings = _settings(temperature, top_k, top_p)
        try:
            got = next_token_probs(logits.clone(), temperature, top_k, top_p)
        except Exception as error:
            raise CheckerInputError(
                f"next_token_probs raised {type(error).__name__}: {_first_line(error)} ({settings})"
            ) from error
        if not isinstance(got, Tensor) or got.shape != expected.shape:
            raise CheckerInputError(
                f"next_token_probs: expected probabilities of shape {tuple(expected.shape)} (batch, d_vocab) for logits "
                f"of shape {tuple(logits.shape)}, got {_checks.described(got)}"
            )
        got = got.detach().float()
        difference = (got - expected).abs().max().item()
        if difference <= PROBS_ATOL:  # False for nan
            continue
        hint = _probs_hint(got, expected, logits, temperature, top_k, top_p)
        measured = f"with {settings} on {batch} x {d_vocab} logits, differs from the reference by {difference:#.2g}; {hint}"
        return CriterionResult("next_token_probs", False, measured, criterion)
    measured = f"matches the reference on random logits with d_vocab 10 and 50, {len(_PROBS_CASES)} settings of temperature, top_k and top_p"
    return CriterionResult("next_token_probs", True, measured, criterion)


def _probs_hint(
    got: Tensor,
    expected: Tensor,
    logits: Tensor,
    temperature: float,
    top_k: int | None,
    top_p: float | None,
) -> str:
    for wrong, hint in _sampling_mistakes(logits, temperature, top_k, top_p):
        if torch.allclose(
            got, wrong, rtol=0, atol=PROBS_ATOL, equal_nan=True
        ):  # nan where the mistake removes every token
            return hint
    if not torch.isfinite(got).all():
        return (
            "your probabilities have nan or inf: is every token of a row removed? top-p keeps at least the most likely "
            "token, and the token that crosses p"
        )
    sums = got.sum(dim=-1)
    if (sums - 1).abs().max().item() > 1e-4:
        return f"each row should sum to 1, yours sum to {', '.join(f'{s:.3g}' for s in sums.tolist())}: renormalise what you keep"
    kept, reference_kept = (got > 0).sum(dim=-1), (expected > 0).sum(dim=-1)
    if not torch.equal(kept, reference_kept):
        return (
            f"you keep {kept.tolist()} tokens per row, the reference {reference_kept.tolist()}: "
            "top-k keeps the k largest logits, top-p the smallest set whose probability reaches p"
        )
    return "the same tokens are kept, with other probabilities: divide the logits by the temperature, then softmax what is kept"


def _sampling_mistakes(
    logits: Tensor, temperature: float, top_k: int | None, top_p: float | None
) -> list[tuple[Tensor, str]]:
    """Each plausible mistake's probabilities for these arguments, with what to say about it."""

    def variant(**changes: Any) -> Tensor:
        return _sampling_variant(logits, temperature, top_k, top_p, **changes)

    mistakes = []
    if top_k is not None:
        mistakes += [
            (
                variant(k_offset=-1),
                "you kept top_k - 1 tokens: keep every logit >= the k-th largest, topk(top_k).values[:, -1:]",
            ),
            (
                variant(k_offset=+1),
                "you kept top_k + 1 tokens: the k-th largest logit is topk(top_k).values[:, -1:], keep it and those above",
            ),
        ]
    if top_p is not None:
        mistakes += [
            (
                variant(crossing=False),
                "you dropped the token that crosses p: the nucleus is the smallest set whose probability reaches top_p, so keep "
                "a token while the probability ranked above it is below p (shift the cumulative-sum mask right by one)",
            ),
        ]
        if temperature != 1:
            mistakes.append(
                (
                    variant(p_from_tempered=False),
                    "apply the temperature first, then cut top-p from the tempered probabilities",
                )
            )
    if top_p is not None and top_k is not None:
        mistakes.append(
            (
                variant(p_after_k=False),
                "apply top-k first, then top-p on the renormalised probabilities of the top_k tokens (Hugging Face's order)",
            )
        )
    if temperature != 1:
        mistakes += [
            (
                variant(temper="after softmax"),
                "divide the logits by the temperature before the softmax, not the probabilities after it",
            ),
            (
                variant(temper="ignored"),
                "divide the logits by the temperature before the softmax: dividing the probabilities after it, then "
                "renormalising, undoes the temperature",
            ),
            (
                variant(temper="multiplied"),
                "divide the logits by the temperature, don't multiply them",
            ),
        ]
    if top_k is not None or top_p is not None:
        mistakes.append(
            (
                variant(renormalise=False),
                "renormalise what you keep: the kept probabilities must sum to 1 (softmax the logits after "
                "masking the removed tokens with -inf)",
            )
        )
    return mistakes


def _sampling_variant(
    logits: Tensor,
    temperature: float,
    top_k: int | None,
    top_p: float | None,
    *,
    k_offset: int = 0,
    crossing: bool = True,
    p_from_tempered: bool = True,
    p_after_k: bool = True,
    temper: str = "logits",
    renormalise: bool = True,
) -> Tensor:
    """The reference's probabilities, or those of one mistake: see ``_sampling_mistakes``."""
    tempered = {"logits": logits / temperature, "multiplied": logits * temperature}.get(
        temper, logits
    )
    keep = torch.ones_like(logits, dtype=torch.bool)
    if top_k is not None:
        k = min(max(top_k + k_offset, 1), logits.shape[-1])
        keep &= tempered >= tempered.topk(k, dim=-1).values[:, -1:]
    if top_p is not None:
        base = tempered if p_from_tempered else logits
        base = base.masked_fill(~keep, float("-inf")) if p_after_k else base
        sorted_probs, order = base.softmax(dim=-1).sort(dim=-1, descending=True)
        cumulative = sorted_probs.cumsum(dim=-1)
        remove_sorted = (
            cumulative - sorted_probs >= top_p if crossing else cumulative > top_p
        )
        keep &= ~torch.zeros_like(remove_sorted).scatter(-1, order, remove_sorted)
    if renormalise:
        probs = tempered.masked_fill(~keep, float("-inf")).softmax(dim=-1)
    else:
        probs = tempered.softmax(dim=-1) * keep
    return probs / temperature if temper == "after softmax" else probs


def _check_samples(sample_next_token: Callable[..., Tensor]) -> CriterionResult:
    from mi_course import sampling

    criterion = f"only and every kept token drawn, total variation <= {MAX_SAMPLE_TV} over {SAMPLE_DRAWS:,} draws, repeatable"
    for d_vocab, temperature, top_k, top_p, seed in _SAMPLE_CASES:
        row = _sampling_logits(1, d_vocab, seed)
        logits = row.expand(SAMPLE_DRAWS, d_vocab).contiguous()
        expected = sampling.next_token_probs(row, temperature, top_k, top_p)[0]
        settings = _settings(temperature, top_k, top_p)
        draws = _draw(sample_next_token, logits, temperature, top_k, top_p, settings)
        frequencies = torch.bincount(draws, minlength=d_vocab).float() / SAMPLE_DRAWS
        distance = 0.5 * (frequencies - expected).abs().sum().item()
        same_support = torch.equal(frequencies > 0, expected > 0)
        if not same_support or distance > MAX_SAMPLE_TV:
            hint = _samples_hint(frequencies, expected, row, temperature, top_k, top_p)
            measured = f"with {settings} on one row of {d_vocab} logits, {hint}"
            return CriterionResult("sample_next_token", False, measured, criterion)
        torch.manual_seed(
            CHECK_SEED + 1
        )  # the global generator moves on; a draw from a seeded generator must not
        again = _draw(sample_next_token, logits, temperature, top_k, top_p, settings)
        if not torch.equal(draws, again):
            measured = (
                f"with {settings}, two generators seeded alike drew different tokens: pass generator to "
                "torch.multinomial(probs, 1, generator=generator)"
            )
            return CriterionResult("sample_next_token", False, measured, criterion)
    cases = "; ".join(
        f"d_vocab {d}, {_settings(t, k, p)}" for d, t, k, p, _ in _SAMPLE_CASES
    )
    return CriterionResult(
        "sample_next_token",
        True,
        f"draws match the reference's distribution ({cases})",
        criterion,
    )


def _draw(
    sample_next_token: Callable[..., Tensor],
    logits: Tensor,
    temperature: float,
    top_k: int | None,
    top_p: float | None,
    settings: str,
) -> Tensor:
    generator = torch.Generator().manual_seed(CHECK_SEED)
    try:
        draws = sample_next_token(logits.clone(), temperature, top_k, top_p, generator)
    except Exception as error:
        raise CheckerInputError(
            f"sample_next_token raised {type(error).__name__}: {_first_line(error)} ({settings})"
        ) from error
    batch = logits.shape[0]
    if isinstance(draws, Tensor) and tuple(draws.shape) == (batch, 1):
        raise CheckerInputError(
            f"sample_next_token: expected one token id per row, shape ({batch},), got ({batch}, 1): "
            "squeeze the sample axis, torch.multinomial(...).squeeze(-1)"
        )
    if (
        not isinstance(draws, Tensor)
        or tuple(draws.shape) != (batch,)
        or draws.is_floating_point()
        or draws.is_complex()
    ):
        raise CheckerInputError(
            f"sample_next_token: expected int64 token ids of shape ({batch},) for logits of shape "
            f"{tuple(logits.shape)}, got {_checks.described(draws)}"
        )
    draws = draws.long().cpu()
    if draws.numel() and (draws.min() < 0 or draws.max() >= logits.shape[1]):
        raise CheckerInputError(
            f"sample_next_token: expected token ids in 0..{logits.shape[1] - 1}, got ids "
            f"{draws.min().item()}..{draws.max().item()}"
        )
    return draws


def _samples_hint(
    frequencies: Tensor,
    expected: Tensor,
    row: Tensor,
    temperature: float,
    top_k: int | None,
    top_p: float | None,
) -> str:
    drawn, kept = int((frequencies > 0).sum()), int((expected > 0).sum())
    distance = 0.5 * (frequencies - expected).abs().sum().item()
    said = f"your draws use {drawn} tokens, the reference keeps {kept}, total variation {distance:.3f}"
    for wrong, hint in _sampling_mistakes(row, temperature, top_k, top_p):
        wrong = (
            wrong[0] / wrong[0].sum()
        )  # torch.multinomial renormalises what it is given
        if (
            torch.equal(frequencies > 0, wrong > 0)
            and 0.5 * (frequencies - wrong).abs().sum().item() <= MAX_SAMPLE_TV
        ):
            return f"{said}; {hint}"
    return f"{said}; draw with torch.multinomial(next_token_probs(logits, temperature, top_k, top_p), 1, generator=generator)"


# --- the training loop ----------------------------------------------------------------------------

TRAIN_ATOL = 1e-4
TRAIN_CONFIG = scratch.ScratchConfig(
    d_model=16, n_layers=1, n_heads=2, d_head=8, d_mlp=24, d_vocab=13, n_ctx=12
)
TRAIN_LR = 0.5  # plain SGD: a step is lr times the gradient, so every mistake moves the weights its own way
_TRAIN_BATCHES, _TRAIN_BATCH, _TRAIN_POS = (
    5,
    4,
    10,
)  # pos - 1 differs from batch and from d_vocab: a wrong axis cannot fit

Train = Callable[[nn.Module, torch.optim.Optimizer, list[Tensor]], list[float]]


class _CountingSGD(torch.optim.SGD):
    """SGD that counts its steps, so that the checker can tell a loop that never steps the optimizer it was given."""

    def __init__(self, params: Any, lr: float) -> None:
        super().__init__(params, lr=lr)
        self.steps = 0

    def step(self, closure: Any = None) -> Any:
        self.steps += 1
        return super().step(closure)


def check_training_loop(train: Train) -> CheckReport:
    """Check ``train(model, optimizer, batches) -> losses``: one step of next-token prediction per batch.

    Your loop and the reference (``mi_course.scratch.train_demo_transformer``) each train a copy of
    the same small random DemoTransformer with SGD (lr 0.5) on the same 5 batches of seeded random
    tokens; the loss of every step and the final weights must agree within 1e-4.
    """
    if not callable(train):
        raise CheckerInputError(
            f"check_training_loop expected your training function, got {type(train).__name__}"
        )
    generator = torch.Generator().manual_seed(CHECK_SEED)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(CHECK_SEED)
        start = scratch.DemoTransformer(TRAIN_CONFIG)
    _randomize(start, generator)
    batches = [
        torch.randint(
            0, TRAIN_CONFIG.d_vocab, (_TRAIN_BATCH, _TRAIN_POS), generator=generator
        )
        for _ in range(_TRAIN_BATCHES)
    ]
    expected_losses, expected_weights, _ = _train_copy(
        scratch.train_demo_transformer, start, batches
    )
    losses, weights, steps = _train_copy(train, start, batches, learner=True)
    loss_difference = max(abs(a - b) for a, b in zip(losses, expected_losses))
    weight_difference = _max_difference(weights, expected_weights)
    criterion = f"losses and final weights within {TRAIN_ATOL:.0e} of the reference"
    setting = f"{_TRAIN_BATCHES} SGD steps on batches of {_TRAIN_BATCH} x {_TRAIN_POS} random tokens"
    if (
        loss_difference <= TRAIN_ATOL and weight_difference <= TRAIN_ATOL
    ):  # False for nan
        measured = f"matches the reference over {setting}: losses {expected_losses[0]:.3f} -> {expected_losses[-1]:.3f}"
        return CheckReport(
            "step2", (CriterionResult("training loop", True, measured, criterion),)
        )
    hint = _training_hint(losses, weights, steps, start, batches)
    measured = (
        f"over {setting}, losses differ from the reference by up to {loss_difference:#.2g} and the final weights "
        f"by {weight_difference:#.2g}; {hint}"
    )
    return CheckReport(
        "step2", (CriterionResult("training loop", False, measured, criterion),)
    )


def _train_copy(
    train: Train, start: nn.Module, batches: list[Tensor], learner: bool = False
) -> tuple[list[float], dict[str, Tensor], int]:
    """Train a copy of ``start``: its losses, its final weights, and how often it stepped its optimizer."""
    model = copy.deepcopy(start).train()
    optimizer = _CountingSGD(model.parameters(), lr=TRAIN_LR)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(CHECK_SEED)
        try:
            losses = train(model, optimizer, [tokens.clone() for tokens in batches])
        except Exception as error:
            if not learner:
                raise
            raise CheckerInputError(
                f"your training loop raised {type(error).__name__}: {_first_line(error)}{_training_error_hint(error)}"
            ) from error
    if learner:
        losses = _as_losses(losses, len(batches))
    weights = {
        name: parameter.detach().clone() for name, parameter in model.named_parameters()
    }
    return losses, weights, optimizer.steps


def _training_error_hint(error: Exception) -> str:
    text = str(error)
    if "size" in text and ("target" in text.lower() or "batch_size" in text):
        return (
            "; F.cross_entropy takes logits (N, d_vocab) and targets (N,): flatten batch and pos of logits[:, :-1] "
            "and tokens[:, 1:] (or put d_vocab on dim 1)"
        )
    if "does not require grad" in text:
        return "; the loss has no graph to backpropagate through: compute it from the model's logits, outside torch.no_grad()"
    return ""


def _as_losses(losses: object, n: int) -> list[float]:
    """The learner's losses as floats: a list (or tuple, or 1-D tensor) of numbers or one-element tensors, one per batch."""
    if isinstance(losses, Tensor) and losses.ndim == 1:
        losses = losses.tolist()
    if not isinstance(losses, (list, tuple)):
        raise CheckerInputError(
            f"your training loop should return a list with the loss of each step ({n} floats), "
            f"got {_checks.described(losses)}"
        )
    if len(losses) != n:
        raise CheckerInputError(
            f"your training loop should return one loss per batch: {n} batches, {len(losses)} losses"
        )
    values = []
    for loss in losses:
        if isinstance(loss, Tensor) and loss.numel() == 1:
            loss = loss.item()
        if not isinstance(loss, (int, float)) or isinstance(loss, bool):
            raise CheckerInputError(
                f"your training loop should return the losses as numbers (loss.item()), got {_checks.described(loss)}"
            )
        values.append(float(loss))
    return values


def _max_difference(weights: dict[str, Tensor], others: dict[str, Tensor]) -> float:
    return max((weights[name] - others[name]).abs().max().item() for name in others)


def _training_hint(
    losses: list[float],
    weights: dict[str, Tensor],
    steps: int,
    start: nn.Module,
    batches: list[Tensor],
) -> str:
    if not all(math.isfinite(loss) for loss in losses):
        return "a loss is nan or inf: is the learning rate the optimizer's, and the loss a mean over the positions?"
    initial = {name: parameter.detach() for name, parameter in start.named_parameters()}
    if _max_difference(weights, initial) == 0:
        if steps == 0:
            return "the weights never changed: call optimizer.step() after loss.backward(), once per batch"
        return (
            "the weights never changed, though you called optimizer.step(): call loss.backward() before it, and "
            "optimizer.zero_grad() before backward, not between backward and step"
        )
    if steps == 0:
        return "the optimizer you were given never stepped: use it (optimizer.step()), don't build another"
    for mistake, hint in _TRAINING_MISTAKES:
        wrong_losses, wrong_weights, _ = _train_copy(mistake, start, batches)
        # the losses alone, relative as well as absolute: a loop that sums the loss diverges, and two ways of
        # writing it then agree on the weights only roughly, on the losses to 1e-3
        if all(
            abs(a - b) <= TRAIN_ATOL + 1e-3 * abs(b)
            for a, b in zip(losses, wrong_losses)
        ):
            return hint
    return (
        "for each batch: logits = model(tokens); the cross-entropy of logits[:, :-1] against tokens[:, 1:]; "
        "optimizer.zero_grad(); loss.backward(); optimizer.step(); record loss.item()"
    )


def _loop(loss_of: Callable[[Tensor, Tensor], Tensor], zero_grad: bool = True) -> Train:
    """A training loop like the reference's, with the loss computed by ``loss_of(logits, tokens)``."""

    def train(
        model: nn.Module, optimizer: torch.optim.Optimizer, batches: list[Tensor]
    ) -> list[float]:
        losses = []
        for tokens in batches:
            loss = loss_of(model(tokens), tokens)
            if zero_grad:
                optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        return losses

    return train


def _next_token_loss(logits: Tensor, tokens: Tensor) -> Tensor:
    return F.cross_entropy(logits[:, :-1].flatten(0, 1), tokens[:, 1:].flatten())


_TRAINING_MISTAKES: list[tuple[Train, str]] = [
    (
        _loop(
            lambda logits, tokens: F.cross_entropy(
                logits.flatten(0, 1), tokens.flatten()
            )
        ),
        "you predict each token from its own position: the logits at position p predict the next token, so compare "
        "logits[:, :-1] with tokens[:, 1:]",
    ),
    (
        _loop(
            lambda logits, tokens: F.cross_entropy(
                logits[:, 1:].flatten(0, 1), tokens[:, :-1].flatten()
            )
        ),
        "you shifted the wrong way: the logits at position p predict token p + 1, logits[:, :-1] against tokens[:, 1:]",
    ),
    (
        _loop(_next_token_loss, zero_grad=False),
        "call optimizer.zero_grad() before each loss.backward(): without it, each step's gradients add to all the earlier ones",
    ),
    (
        _loop(
            lambda logits, tokens: (
                -logits[:, :-1]
                .log_softmax(dim=1)
                .gather(-1, tokens[:, 1:, None])
                .mean()
            )
        ),
        "you took the softmax over positions (dim 1): the probabilities are over the vocabulary, the last axis",
    ),
    (
        _loop(
            lambda logits, tokens: F.cross_entropy(
                logits[:, :-1].flatten(0, 1), tokens[:, 1:].flatten(), reduction="sum"
            )
        ),
        "average the loss over the batch and the positions (cross_entropy's default reduction='mean'), don't sum it",
    ),
    (
        _loop(
            lambda logits, tokens: (
                F.cross_entropy(logits[:, :-1].flatten(0, 1), tokens[:, 1:].flatten())
                * logits.shape[0]
            )
        ),
        "the loss is already a mean over the batch and positions: don't scale it by the batch size",
    ),
]
