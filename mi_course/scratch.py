"""A GPT-style transformer written from scratch, small enough to hold in your head.

Introduced on the page "Step 2: Understand transformers". One small module per part, each
named and shaped like TransformerLens' components (``W_E``, ``W_Q``, ``b_in``...), so that
``load_weights_from_bridge`` copies a TransformerBridge's weights in and the logits match.
The model is the GPT-2 family: learned positions, pre-LayerNorm blocks, gelu_new MLPs.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from einops import einsum, rearrange, reduce, repeat
from jaxtyping import Float, Int
from torch import Tensor, nn

from mi_course import _checks
from mi_course._checks import Call, IsA, guard
from mi_course.sampling import sample_next_token

if TYPE_CHECKING:
    from transformer_lens import TransformerBridge


@dataclass(frozen=True)
class ScratchConfig:
    """The sizes of a model; ``from_bridge`` reads them from a TransformerBridge."""

    d_model: int = 128
    n_layers: int = 4
    n_heads: int = 4
    d_head: int = 32
    d_mlp: int = 512
    d_vocab: int = 66
    n_ctx: int = 128
    layer_norm_eps: float = 1e-5
    attn_only: bool = False
    init_range: float = 0.02

    def __post_init__(self) -> None:
        for name in (
            "d_model",
            "n_layers",
            "n_heads",
            "d_head",
            "d_mlp",
            "d_vocab",
            "n_ctx",
        ):
            _checks.integer(getattr(self, name), "ScratchConfig", name, minimum=1)
        _checks.number(
            self.layer_norm_eps, "ScratchConfig", "layer_norm_eps", minimum=0
        )
        _checks.number(self.init_range, "ScratchConfig", "init_range", minimum=0)

    @classmethod
    def from_bridge(cls, bridge: TransformerBridge) -> ScratchConfig:
        """The config of ``bridge``'s model; raises ValueError for a feature this model lacks."""
        _checks.model(bridge, "ScratchConfig.from_bridge", "bridge")
        cfg = bridge.cfg
        unsupported = {
            "act_fn": (cfg.act_fn or "").lower()
            not in ("gelu_new", "gelu_pytorch_tanh")
            and not cfg.attn_only,
            "normalization_type": cfg.normalization_type != "LN",
            "positional_embedding_type": cfg.positional_embedding_type != "standard",
            "n_key_value_heads": getattr(cfg, "n_key_value_heads", None)
            not in (None, cfg.n_heads),
            "gated_mlp": bool(getattr(cfg, "gated_mlp", False)),
            "final_rms": bool(getattr(cfg, "final_rms", False)),
            "attn_scale": getattr(cfg, "attn_scale", -1.0)
            not in (-1.0, math.sqrt(cfg.d_head)),
            "attn_scores_soft_cap": getattr(cfg, "attn_scores_soft_cap", -1.0) > 0,
            "output_logits_soft_cap": getattr(cfg, "output_logits_soft_cap", -1.0) > 0,
            "d_vocab_out": getattr(cfg, "d_vocab_out", -1) not in (-1, cfg.d_vocab),
        }
        for field, differs in unsupported.items():
            if differs:
                raise ValueError(
                    f"the scratch transformer does not implement {field}={getattr(cfg, field)!r}"
                )
        return cls(
            d_model=cfg.d_model,
            n_layers=cfg.n_layers,
            n_heads=cfg.n_heads,
            d_head=cfg.d_head,
            d_mlp=cfg.d_mlp or 4 * cfg.d_model,
            d_vocab=cfg.d_vocab,
            n_ctx=cfg.n_ctx,
            layer_norm_eps=cfg.eps,
            attn_only=bool(cfg.attn_only),
        )


def gelu_new(x: Tensor) -> Tensor:
    """GPT-2's GELU: the tanh approximation of x * Phi(x)."""
    _checks.tensor(x, "gelu_new", "x")
    return (
        0.5
        * x
        * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x.pow(3))))
    )


def _takes_config(cls: type[nn.Module]) -> type[nn.Module]:
    """Make ``cls(cfg)`` refuse a ``cfg`` that is not a ScratchConfig, naming ``cls``.

    The check sits here, outside the class, so that the class's own lines are what the page shows
    and a learner can paste: they use only what a solution snippet imports.
    """
    init = cls.__init__

    @functools.wraps(init)
    def __init__(
        self: nn.Module, cfg: ScratchConfig, *args: Any, **kwargs: Any
    ) -> None:
        _checks.instance(cfg, ScratchConfig, cls.__name__, "cfg")
        init(self, cfg, *args, **kwargs)

    cls.__init__ = __init__
    return cls


# Each class below is a solution on the page "Step 2: Understand transformers", which shows it
# between its section markers (and each exercise's stub shows the __init__ between its own).


@_takes_config
# --8<-- [start:layernorm]
class LayerNorm(nn.Module):
    """Centre each residual vector, scale it to unit variance, then apply a learned
    scale and shift.
    """

    # --8<-- [start:layernorm-init]
    def __init__(self, cfg: ScratchConfig):
        super().__init__()
        self.eps = cfg.layer_norm_eps
        self.w = nn.Parameter(torch.ones(cfg.d_model))
        self.b = nn.Parameter(torch.zeros(cfg.d_model))

    # --8<-- [end:layernorm-init]

    def forward(
        self, residual: Float[Tensor, "batch pos d_model"]
    ) -> Float[Tensor, "batch pos d_model"]:
        centred = residual - reduce(
            residual, "batch pos d_model -> batch pos 1", "mean"
        )
        variance = reduce(
            centred.pow(2), "batch pos d_model -> batch pos 1", "mean"
        )  # divide by d_model
        return centred / torch.sqrt(variance + self.eps) * self.w + self.b


# --8<-- [end:layernorm]


@_takes_config
# --8<-- [start:embed]
class Embed(nn.Module):
    """Token embedding: row ``t`` of ``W_E`` is the residual vector token ``t`` starts
    as.
    """

    # --8<-- [start:embed-init]
    def __init__(self, cfg: ScratchConfig):
        super().__init__()
        self.W_E = nn.Parameter(torch.empty(cfg.d_vocab, cfg.d_model))
        nn.init.normal_(self.W_E, std=cfg.init_range)

    # --8<-- [end:embed-init]

    def forward(
        self, tokens: Int[Tensor, "batch pos"]
    ) -> Float[Tensor, "batch pos d_model"]:
        return self.W_E[tokens]  # one row of W_E per token id


# --8<-- [end:embed]


@_takes_config
# --8<-- [start:pos-embed]
class PosEmbed(nn.Module):
    """Learned positional embedding: row ``p`` of ``W_pos`` is added at position
    ``p``.
    """

    # --8<-- [start:pos-embed-init]
    def __init__(self, cfg: ScratchConfig):
        super().__init__()
        self.W_pos = nn.Parameter(torch.empty(cfg.n_ctx, cfg.d_model))
        nn.init.normal_(self.W_pos, std=cfg.init_range)

    # --8<-- [end:pos-embed-init]

    def forward(
        self, tokens: Int[Tensor, "batch pos"]
    ) -> Float[Tensor, "batch pos d_model"]:
        batch, pos = tokens.shape
        return repeat(self.W_pos[:pos], "pos d_model -> batch pos d_model", batch=batch)


# --8<-- [end:pos-embed]


@_takes_config
# --8<-- [start:attention]
class Attention(nn.Module):
    """Causal multi-head self-attention, one weight tensor per role, heads as a leading
    axis.
    """

    # --8<-- [start:attention-init]
    def __init__(self, cfg: ScratchConfig):
        super().__init__()
        self.cfg = cfg
        self.W_Q = nn.Parameter(torch.empty(cfg.n_heads, cfg.d_model, cfg.d_head))
        self.W_K = nn.Parameter(torch.empty(cfg.n_heads, cfg.d_model, cfg.d_head))
        self.W_V = nn.Parameter(torch.empty(cfg.n_heads, cfg.d_model, cfg.d_head))
        self.W_O = nn.Parameter(torch.empty(cfg.n_heads, cfg.d_head, cfg.d_model))
        self.b_Q = nn.Parameter(torch.zeros(cfg.n_heads, cfg.d_head))
        self.b_K = nn.Parameter(torch.zeros(cfg.n_heads, cfg.d_head))
        self.b_V = nn.Parameter(torch.zeros(cfg.n_heads, cfg.d_head))
        self.b_O = nn.Parameter(torch.zeros(cfg.d_model))
        for weight in (self.W_Q, self.W_K, self.W_V, self.W_O):
            nn.init.normal_(weight, std=cfg.init_range)

    # --8<-- [end:attention-init]

    def forward(
        self, normalized_resid_pre: Float[Tensor, "batch pos d_model"]
    ) -> Float[Tensor, "batch pos d_model"]:
        x = normalized_resid_pre
        q = (
            einsum(
                x,
                self.W_Q,
                "batch pos d_model, n_heads d_model d_head -> batch pos n_heads d_head",
            )
            + self.b_Q
        )
        k = (
            einsum(
                x,
                self.W_K,
                "batch pos d_model, n_heads d_model d_head -> batch pos n_heads d_head",
            )
            + self.b_K
        )
        v = (
            einsum(
                x,
                self.W_V,
                "batch pos d_model, n_heads d_model d_head -> batch pos n_heads d_head",
            )
            + self.b_V
        )
        scores = einsum(
            q,
            k,
            (
                "batch q_pos n_heads d_head, batch k_pos n_heads d_head "
                "-> batch n_heads q_pos k_pos"
            ),
        )
        pattern = self.apply_causal_mask(scores / math.sqrt(self.cfg.d_head)).softmax(
            dim=-1
        )  # each row sums to 1
        z = einsum(
            pattern,
            v,
            (
                "batch n_heads q_pos k_pos, batch k_pos n_heads d_head "
                "-> batch q_pos n_heads d_head"
            ),
        )
        return (
            einsum(
                z,
                self.W_O,
                "batch pos n_heads d_head, n_heads d_head d_model -> batch pos d_model",
            )
            + self.b_O
        )

    @staticmethod
    def apply_causal_mask(
        scores: Float[Tensor, "batch n_heads q_pos k_pos"],
    ) -> Float[Tensor, "batch n_heads q_pos k_pos"]:
        """Set the score of every key after its query to -inf, so softmax gives it
        weight 0.
        """
        q_pos, k_pos = scores.shape[-2:]
        future = torch.triu(
            torch.ones(q_pos, k_pos, dtype=torch.bool, device=scores.device), diagonal=1
        )
        return scores.masked_fill(future, float("-inf"))


# --8<-- [end:attention]


@_takes_config
# --8<-- [start:mlp]
class MLP(nn.Module):
    """Position-wise MLP: up to ``d_mlp`` neurons, gelu_new, back down to
    ``d_model``.
    """

    # --8<-- [start:mlp-init]
    def __init__(self, cfg: ScratchConfig):
        super().__init__()
        self.W_in = nn.Parameter(torch.empty(cfg.d_model, cfg.d_mlp))
        self.b_in = nn.Parameter(torch.zeros(cfg.d_mlp))
        self.W_out = nn.Parameter(torch.empty(cfg.d_mlp, cfg.d_model))
        self.b_out = nn.Parameter(torch.zeros(cfg.d_model))
        nn.init.normal_(self.W_in, std=cfg.init_range)
        nn.init.normal_(self.W_out, std=cfg.init_range)

    # --8<-- [end:mlp-init]

    def forward(
        self, normalized_resid_mid: Float[Tensor, "batch pos d_model"]
    ) -> Float[Tensor, "batch pos d_model"]:
        pre = (
            einsum(
                normalized_resid_mid,
                self.W_in,
                "batch pos d_model, d_model d_mlp -> batch pos d_mlp",
            )
            + self.b_in
        )
        post = gelu_new(
            pre
        )  # not torch's default GELU: GPT-2 uses the tanh approximation
        return (
            einsum(
                post, self.W_out, "batch pos d_mlp, d_mlp d_model -> batch pos d_model"
            )
            + self.b_out
        )


# --8<-- [end:mlp]


@_takes_config
# --8<-- [start:transformer-block]
class TransformerBlock(nn.Module):
    """Pre-LayerNorm block: attention, then the MLP, each reading a normalized residual
    and adding to it.
    """

    def __init__(self, cfg: ScratchConfig):
        super().__init__()
        self.cfg = cfg
        self.ln1 = LayerNorm(cfg)
        self.attn = Attention(cfg)
        if (
            not cfg.attn_only
        ):  # an attention-only model, such as induction-2l, has no MLPs
            self.ln2 = LayerNorm(cfg)
            self.mlp = MLP(cfg)

    def forward(
        self, resid_pre: Float[Tensor, "batch pos d_model"]
    ) -> Float[Tensor, "batch pos d_model"]:
        resid_mid = resid_pre + self.attn(self.ln1(resid_pre))
        if self.cfg.attn_only:
            return resid_mid
        return resid_mid + self.mlp(self.ln2(resid_mid))


# --8<-- [end:transformer-block]


@_takes_config
# --8<-- [start:unembed]
class Unembed(nn.Module):
    """Map the final (normalized) residual vector to one logit per vocabulary token."""

    # --8<-- [start:unembed-init]
    def __init__(self, cfg: ScratchConfig):
        super().__init__()
        self.W_U = nn.Parameter(torch.empty(cfg.d_model, cfg.d_vocab))
        self.b_U = nn.Parameter(torch.zeros(cfg.d_vocab))
        nn.init.normal_(self.W_U, std=cfg.init_range)

    # --8<-- [end:unembed-init]

    def forward(
        self, normalized_resid_final: Float[Tensor, "batch pos d_model"]
    ) -> Float[Tensor, "batch pos d_vocab"]:
        return (
            einsum(
                normalized_resid_final,
                self.W_U,
                "batch pos d_model, d_model d_vocab -> batch pos d_vocab",
            )
            + self.b_U
        )


# --8<-- [end:unembed]


@_takes_config
# --8<-- [start:demo-transformer]
class DemoTransformer(nn.Module):
    """The whole model: embed, add positions, run the blocks, normalize, unembed."""

    # --8<-- [start:demo-transformer-init]
    def __init__(self, cfg: ScratchConfig):
        super().__init__()
        self.cfg = cfg
        self.embed = Embed(cfg)
        self.pos_embed = PosEmbed(cfg)
        self.blocks = nn.ModuleList(
            [TransformerBlock(cfg) for _ in range(cfg.n_layers)]
        )
        self.ln_final = LayerNorm(cfg)
        self.unembed = Unembed(cfg)

    # --8<-- [end:demo-transformer-init]

    def forward(
        self, tokens: Int[Tensor, "batch pos"]
    ) -> Float[Tensor, "batch pos d_vocab"]:
        residual = self.embed(tokens) + self.pos_embed(tokens)
        for block in self.blocks:
            residual = block(residual)
        return self.unembed(self.ln_final(residual))


# --8<-- [end:demo-transformer]


def _batches(batches: object, name: str, call: Call) -> Iterator[Tensor]:
    """An iterable of token batches, each checked as the loop reaches it (so it may be a generator or a DataLoader)."""
    if isinstance(batches, Tensor) or not isinstance(batches, Iterable):
        raise TypeError(
            f"{call.function} expected batches to be a list (or other iterable) of (batch, pos) token tensors, "
            f"got {_checks.described(batches)}"
        )

    def each_checked() -> Iterator[Tensor]:
        for tokens in batches:
            _checks.tokens(tokens, call.function, what="each batch of tokens")
            if tokens.shape[1] < 2:
                raise ValueError(
                    f"{call.function} expected each batch of tokens to have at least 2 positions (one to "
                    f"predict from, one to predict), got shape {tuple(tokens.shape)}"
                )
            yield tokens

    return each_checked()


@guard(model=IsA(nn.Module), optimizer=IsA(torch.optim.Optimizer), batches=_batches)
# --8<-- [start:train-loop]
# --8<-- [start:train-loop-signature]
def train_demo_transformer(
    model: DemoTransformer,
    optimizer: torch.optim.Optimizer,
    batches: Iterable[Int[Tensor, "batch pos"]],
) -> list[float]:
    """One optimizer step per batch, on next-token prediction; returns the loss of each
    step.
    """
    # --8<-- [end:train-loop-signature]
    losses = []
    for tokens in batches:
        logits = model(tokens)
        # the logits at position p predict the token at p + 1: drop the last position's
        # logits and the first token
        loss = F.cross_entropy(
            rearrange(logits[:, :-1], "batch pos d_vocab -> (batch pos) d_vocab"),
            rearrange(tokens[:, 1:], "batch pos -> (batch pos)"),
        )
        # else backward adds this step's gradients to the last step's
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


# --8<-- [end:train-loop]


def bridge_state_dict(bridge: TransformerBridge) -> dict[str, Tensor]:
    """``bridge``'s weights under DemoTransformer's parameter names, read through its TransformerLens attributes.

    Works for any bridge of this family (TL's native models, GPT-2 via ``boot_transformers``)
    without compatibility mode, so LayerNorm weights are the model's own, not folded.
    """
    _checks.model(bridge, "bridge_state_dict", "bridge")
    cfg = ScratchConfig.from_bridge(bridge)
    state: dict[str, Tensor] = {
        "embed.W_E": bridge.W_E,
        "pos_embed.W_pos": bridge.W_pos,
    }
    for layer, block in enumerate(bridge.blocks):
        prefix = f"blocks.{layer}"
        state[f"{prefix}.ln1.w"], state[f"{prefix}.ln1.b"] = block.ln1.w, block.ln1.b
        for name in ("W_Q", "W_K", "W_V", "W_O", "b_Q", "b_K", "b_V", "b_O"):
            state[f"{prefix}.attn.{name}"] = getattr(block.attn, name)
        if not cfg.attn_only:
            state[f"{prefix}.ln2.w"], state[f"{prefix}.ln2.b"] = (
                block.ln2.w,
                block.ln2.b,
            )
            for name in ("W_in", "b_in", "W_out", "b_out"):
                state[f"{prefix}.mlp.{name}"] = getattr(block.mlp, name)
    state["ln_final.w"], state["ln_final.b"] = bridge.ln_final.w, bridge.ln_final.b
    state["unembed.W_U"], state["unembed.b_U"] = bridge.W_U, bridge.b_U
    return {name: tensor.detach().clone() for name, tensor in state.items()}


def load_weights_from_bridge(bridge: TransformerBridge) -> DemoTransformer:
    """A DemoTransformer holding ``bridge``'s weights, on the bridge's device, in eval mode."""
    _checks.model(bridge, "load_weights_from_bridge", "bridge")
    state = bridge_state_dict(bridge)
    model = DemoTransformer(ScratchConfig.from_bridge(bridge)).to(
        state["embed.W_E"].device
    )
    model.load_state_dict(state)
    return model.eval()


def sample(
    model: nn.Module,
    tokens: Int[Tensor, "batch pos"],
    n: int,
    temperature: float = 1.0,
    seed: int = 0,
) -> Int[Tensor, "batch pos_plus_n"]:
    """Extend ``tokens`` by ``n`` tokens, one at a time, drawn from ``model``'s next-token distribution.

    ``temperature`` 0 takes the most likely token. Draws use a CPU generator seeded with
    ``seed``, so a CPU and a GPU pick the same tokens. ``model.cfg.n_ctx`` caps the context.
    """
    if not isinstance(model, nn.Module) or not hasattr(
        getattr(model, "cfg", None), "n_ctx"
    ):
        raise TypeError(
            f"sample expected model to be a model with cfg.n_ctx (a DemoTransformer or TransformerBridge), got {type(model).__name__}"
        )
    _checks.tokens(tokens, "sample")
    _checks.integer(n, "sample", "n", minimum=0)
    _checks.number(temperature, "sample", "temperature", minimum=0)
    _checks.integer(seed, "sample", "seed", minimum=0)
    generator = torch.Generator().manual_seed(seed)
    n_ctx: int = model.cfg.n_ctx
    with torch.inference_mode():
        for _ in range(n):
            logits = model(tokens[:, -n_ctx:])[:, -1]
            if temperature == 0:
                next_token = logits.argmax(dim=-1, keepdim=True)
            else:
                next_token = sample_next_token(
                    logits.float().cpu(), temperature, generator=generator
                )[:, None].to(tokens.device)
            tokens = torch.cat([tokens, next_token], dim=1)
    return tokens


__all__ = [
    "MLP",
    "Attention",
    "DemoTransformer",
    "Embed",
    "LayerNorm",
    "PosEmbed",
    "ScratchConfig",
    "TransformerBlock",
    "Unembed",
    "bridge_state_dict",
    "gelu_new",
    "load_weights_from_bridge",
    "sample",
    "train_demo_transformer",
]
