# The induction score, checked against the course's reference, then used to find induction-2l's induction heads.
import torch
from jaxtyping import Float
from torch import Tensor

from mi_course import get_device, load_model, seed_everything
from mi_course.checkers import check_induction_score
from mi_course.induction import repeated_random_tokens

seed_everything(0)


def induction_score(pattern: Float[Tensor, "batch head query key"], seq_len: int) -> Float[Tensor, "head"]:
    """Mean attention each head pays from the second copy of a token to the token after its first copy."""
    queries = torch.arange(seq_len + 1, 2 * seq_len + 1)  # the second copy
    keys = queries - seq_len + 1  # one after the same token's first occurrence
    return pattern[:, :, queries, keys].mean(dim=(0, 2))  # over the batch and the queries


print(check_induction_score(induction_score))

model = load_model("induction-2l", device=get_device())
tokens = repeated_random_tokens(32, 10, 50, 50, generator=torch.Generator().manual_seed(3)).to(model.cfg.device)
_, cache = model.run_with_cache(tokens)
for layer in range(model.cfg.n_layers):
    print(f"layer {layer}:", [round(score, 2) for score in induction_score(cache["pattern", layer], 10).tolist()])
