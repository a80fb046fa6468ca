# Contrastive activation addition on shakespeare-char: a steering vector from contrast
# pairs, over 5 seeds, beside 20 random directions.
import torch
import torch.nn.functional as F

from mi_course import load_model, seed_everything
from mi_course.baselines import Distribution, random_directions
from mi_course.steering import addition_hook, sample_texts, steering_vector
from mi_course.text_labels import text_windows

seed_everything(0)
model = load_model("shakespeare-char", device="cpu")
hook = "blocks.2.hook_resid_pre"
_, text = text_windows("training", 2_000)
lines = [
    line for line in text.split("\n") if 20 <= len(line) <= 50 and not line.isupper()
][:100]
# the same words, in capitals minus as written
vector = steering_vector(model, hook, [(line.upper(), line) for line in lines])
controls = random_directions(
    20,
    model.cfg.d_model,
    norm=vector.norm().item(),
    generator=torch.Generator().manual_seed(0),
)
# a run: 8 texts of 32 characters, shorter than n_ctx,
# so the model and the loss read every character
samples, length = 8, 32
print(
    f"{len(lines)} contrast pairs; the vector's norm is {vector.norm():.1f}; "
    f"a run is {samples} samples of {length} characters"
)

# Every run in one batch: one vector per row, and each run
# draws from its own seed, so no two runs share random numbers.
runs = [("unsteered", torch.zeros(model.cfg.d_model), 5)]
for strength in (0.25, 1):
    runs += [
        (f"steered x {strength}", strength * vector, 5),
        (f"control x {strength}", strength * controls, 20),
    ]
added = torch.cat(
    [rows.expand(count, -1) for _, rows, count in runs]
).repeat_interleave(samples, dim=0)
texts = sample_texts(
    model,
    samples=samples,
    length=length,
    seed=list(range(len(added) // samples)),
    fwd_hooks=[addition_hook(model, hook, added)],
)
# BOS and 32 characters: the model reads all of it
tokens = torch.stack([model.to_tokens(text)[0] for text in texts])
# the unsteered model's loss on each text, every character scored
with torch.inference_mode():
    loss = F.cross_entropy(
        model(tokens)[:, :-1].transpose(1, 2), tokens[:, 1:], reduction="none"
    ).mean(dim=1)
capital = torch.tensor(
    [
        sum(c.isupper() for c in text) / max(1, sum(c.isalpha() for c in text))
        for text in texts
    ]
)

share, nats, start = {}, {}, 0
for name, _, count in runs:
    rows = slice(start * samples, (start + count) * samples)
    share[name] = Distribution(
        tuple((100 * capital[rows].view(count, samples).mean(dim=1)).tolist())
    )
    nats[name] = Distribution(
        tuple(loss[rows].view(count, samples).mean(dim=1).tolist())
    )
    start += count
print(
    "capitals, % of letters (a run's mean over its samples; "
    "steered runs over 5 seeds, controls over 20 directions)"
)
for name, values in share.items():
    print(f"{name:>14}: {values.describe(1)}")
print("the unsteered model's loss on the text, nats per character")
for name, values in nats.items():
    print(f"{name:>14}: {values.describe(2)}")
first = {
    name: texts[sum(count for _, _, count in runs[:index]) * samples]
    for index, (name, _, _) in enumerate(runs)
}
for name in ("unsteered", "steered x 0.25", "steered x 1"):
    print(f"{name:>14}, its first text: {first[name]!r}")
