# repeat: upsample an image by repeating each pixel,
# where Tensor.repeat would tile the whole image.
import torch
from einops import repeat

image = torch.arange(4).reshape(2, 2)  # [[0, 1], [2, 3]]

upsampled = repeat(image, "h w -> (h 2) (w 2)")
print(upsampled.tolist())
assert upsampled.tolist() == [[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]]

# Tensor.repeat gives the same (4, 4) shape by tiling copies of the image side by side.
tiled = image.repeat(2, 2)
assert tiled.shape == upsampled.shape and not torch.equal(tiled, upsampled)
print(tiled.tolist())
