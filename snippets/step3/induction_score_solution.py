# The induction score, checked against the course's reference,
# then used to find induction-2l's induction heads.
import torch
from jaxtyping import Float
from torch import Tensor

from mi_course import get_device, load_model, seed_everything
from mi_course.checkers import check_induction_score
from mi_course.induction import repeated_random_tokens

seed_everything(0)


# --8<-- "mi_course/induction.py:induction-score"


print(check_induction_score(induction_score))

model = load_model("induction-2l", device=get_device())
bos = model.cfg.d_vocab - 1  # BOS is the last id; every id before it is a symbol
tokens = repeated_random_tokens(
    32, 10, bos, bos, generator=torch.Generator().manual_seed(3)
).to(model.cfg.device)
_, cache = model.run_with_cache(tokens)
for layer in range(model.cfg.n_layers):
    print(
        f"layer {layer}:",
        [
            round(score, 2)
            for score in induction_score(cache["pattern", layer], 10).tolist()
        ],
    )
