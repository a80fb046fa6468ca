# The training loop, checked against the course's
# reference, then used to train a tiny model from scratch.
from collections.abc import Iterable

import torch
import torch.nn.functional as F
from einops import rearrange
from jaxtyping import Int
from torch import Tensor

from mi_course import seed_everything
from mi_course.checkers.training_loop import check_training_loop
from mi_course.scratch import DemoTransformer, ScratchConfig

seed_everything(0)


# --8<-- "mi_course/scratch.py:train-loop"


print(check_training_loop(train_demo_transformer))

# A task a model can only learn from context: count up
# from a random start in random steps of 1 to 4 (mod 20).
cfg = ScratchConfig(
    d_model=32, n_layers=2, n_heads=2, d_head=16, d_mlp=64, d_vocab=20, n_ctx=16
)
generator = torch.Generator().manual_seed(0)


def counting_batch(batch: int = 32) -> Int[Tensor, "batch pos"]:
    start = torch.randint(0, cfg.d_vocab, (batch, 1), generator=generator)
    step = torch.randint(1, 5, (batch, 1), generator=generator)
    return (start + step * torch.arange(cfg.n_ctx)) % cfg.d_vocab


model = DemoTransformer(cfg)
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
losses = train_demo_transformer(
    model, optimizer, [counting_batch() for _ in range(300)]
)
print(
    f"loss at step 0: {losses[0]:.2f} (ln 20 = "
    f"{torch.log(torch.tensor(20.0)):.2f}, a uniform guess); "
    f"mean of the last 20 steps: {sum(losses[-20:]) / 20:.2f}"
)
