# rearrange: split the residual stream into attention heads without scrambling it.
import torch
from einops import rearrange

torch.manual_seed(0)
batch, seq, n_heads, d_head = 2, 5, 3, 4
q = torch.randn(batch, seq, n_heads * d_head)  # (batch, seq, n_heads * d_head)

heads = rearrange(
    q, "batch seq (n_heads d_head) -> batch n_heads seq d_head", n_heads=n_heads
)
print("heads:", tuple(heads.shape))

# Head 1's vector at position 2 is the slice of q that belongs to head 1 ...
assert torch.equal(heads[0, 1, 2], q[0, 2, d_head : 2 * d_head])
# ... while a plain reshape gives the same shape and silently mixes positions and heads.
scrambled = q.reshape(batch, n_heads, seq, d_head)
assert scrambled.shape == heads.shape and not torch.equal(scrambled, heads)
print(
    "reshape instead of rearrange scrambles heads:", not torch.equal(scrambled, heads)
)
