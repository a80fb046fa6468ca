# einsum: attention scores with every axis named,
# so a forgotten transpose cannot slip through.
import torch
from einops import einsum

torch.manual_seed(0)
seq, d_head = 6, 6  # equal sizes hide shape bugs: exactly the case to guard against
q = torch.randn(seq, d_head)
k = torch.randn(seq, d_head)

scores = einsum(q, k, "q_pos d_head, k_pos d_head -> q_pos k_pos")
print("scores:", tuple(scores.shape))
assert torch.allclose(scores, q @ k.T)

# Forgetting the transpose still gives a (6, 6)
# matrix, but it is not the attention scores.
no_transpose = q @ k
assert no_transpose.shape == scores.shape and not torch.allclose(no_transpose, scores)
print("q @ k (no transpose) matches:", torch.allclose(no_transpose, scores))
