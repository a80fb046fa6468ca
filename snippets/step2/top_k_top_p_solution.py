# Top-k and nucleus (top-p) sampling, checked against the
# course's reference, then shown on one distribution.
import torch
from jaxtyping import Float, Int
from torch import Tensor

from mi_course import seed_everything
from mi_course.checkers.sampling import check_sampling

seed_everything(0)


# --8<-- "mi_course/sampling.py:next-token-probs"


# --8<-- "mi_course/sampling.py:sample-next-token"


print(check_sampling(sample_next_token, next_token_probs))

# Ten tokens' logits: how many tokens each setting
# keeps, and the probability of the most likely one.
logits = torch.tensor([[3.0, 2.5, 2.0, 1.0, 0.5, 0.0, -0.5, -1.0, -2.0, -3.0]])
for temperature, top_k, top_p in (
    (1.0, None, None),
    (0.5, None, None),
    (1.0, 3, None),
    (1.0, None, 0.9),
    (2.0, 5, 0.9),
):
    probs = next_token_probs(logits, temperature, top_k, top_p)[0]
    tokens = sample_next_token(
        logits.expand(8, -1),
        temperature,
        top_k,
        top_p,
        generator=torch.Generator().manual_seed(0),
    )
    print(
        f"temperature {temperature}, top_k {top_k}, "
        f"top_p {top_p}: keeps {int((probs > 0).sum())} tokens, "
        f"top probability {probs.max():.3f}, 8 draws {tokens.tolist()}"
    )
