# reduce: average over the axis you name, not
# over whichever axis happens to be number 1.
import torch
from einops import reduce

torch.manual_seed(0)
batch, seq, d_model = 4, 4, 8
activations = torch.randn(batch, seq, d_model)

mean_over_batch = reduce(activations, "batch seq d_model -> seq d_model", "mean")
print("mean over batch:", tuple(mean_over_batch.shape))
assert torch.allclose(mean_over_batch, activations.mean(dim=0))

# With batch == seq, averaging over the wrong
# axis has the right shape and the wrong numbers.
wrong_axis = activations.mean(dim=1)
assert wrong_axis.shape == mean_over_batch.shape and not torch.allclose(
    wrong_axis, mean_over_batch
)
print(
    "mean(dim=1) has the same shape but other numbers:",
    not torch.allclose(wrong_axis, mean_over_batch),
)
