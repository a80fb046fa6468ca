# The QK and OV circuits of one attention head, read off
# its weights and checked against the bridge's activations.
import math

import torch
from einops import einsum
from transformer_lens import FactoredMatrix

from mi_course import get_device, load_model, seed_everything
from mi_course.scratch import load_weights_from_bridge

seed_everything(0)
device = get_device()

# the course's character-level model
bridge = load_model("shakespeare-char", device=device)
model = load_weights_from_bridge(bridge)
layer, head = 1, 2
attn = model.blocks[layer].attn
print(
    "W_Q, W_K, W_V:",
    tuple(attn.W_Q.shape),
    "(n_heads, d_model, d_head); W_O:",
    tuple(attn.W_O.shape),
)

# The QK circuit decides where a head looks; the OV circuit decides what it moves.
W_Q, W_K, W_V, W_O = attn.W_Q[head], attn.W_K[head], attn.W_V[head], attn.W_O[head]
QK = FactoredMatrix(W_Q, W_K.T)  # d_model x d_model, stored as two d_head-wide factors
OV = FactoredMatrix(W_V, W_O)
print(
    f"QK circuit: {tuple(QK.shape)}, "
    f"rank {torch.linalg.matrix_rank(QK.AB).item()} (at most d_head = {QK.mdim})"
)
print(f"OV circuit: {tuple(OV.shape)}, rank {torch.linalg.matrix_rank(OV.AB).item()}")

tokens = torch.randint(0, bridge.cfg.d_vocab, (1, 24)).to(device)
with torch.inference_mode():
    _, cache = bridge.run_with_cache(tokens)
    # the normalized residual this layer's attention reads
    x = cache[f"blocks.{layer}.ln1.hook_out"][0]
    # q.k expands into four terms: the QK circuit, plus
    # three that come from the biases b_Q and b_K.
    q_bias, k_bias = attn.b_Q[head], attn.b_K[head]
    scores = (
        einsum(x, QK.AB, x, "q_pos d_q, d_q d_k, k_pos d_k -> q_pos k_pos")
        + (x @ W_Q @ k_bias)[:, None]
        + (q_bias @ W_K.T @ x.T)[None, :]
        + q_bias @ k_bias
    ) / math.sqrt(W_Q.shape[-1])
    pattern = attn.apply_causal_mask(scores).softmax(dim=-1)
    bridge_pattern = cache[f"blocks.{layer}.attn.hook_pattern"][0, head]
    print(
        "pattern from the QK circuit matches the bridge's:",
        torch.allclose(pattern, bridge_pattern, atol=1e-5),
    )

    # Each pattern row sums to 1, so the value bias passes
    # through unchanged: out = pattern @ x @ W_OV + b_V @ W_O.
    head_out = pattern @ x @ OV.AB + attn.b_V[head] @ W_O
    # (pos, d_head): this head's mix of value vectors
    z = cache[f"blocks.{layer}.attn.hook_z"][0, :, head]
    print(
        "head output from the OV circuit matches z @ W_O:",
        torch.allclose(head_out, z @ W_O, atol=1e-5),
    )
