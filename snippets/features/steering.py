# Activation addition on shakespeare-char: a steering vector from contrast pairs (a line in capitals, and as written) against a random control.
import torch
import torch.nn.functional as F

from mi_course import load_model, seed_everything
from mi_course.steering import addition_hook, sample_texts, steering_vector
from mi_course.text_labels import text_windows

seed_everything(0)
model = load_model("shakespeare-char", device="cpu")
hook = "blocks.2.hook_resid_pre"
_, text = text_windows("training", 2_000)
lines = [line for line in text.split("\n") if 20 <= len(line) <= 50 and not line.isupper()][:100]
vector = steering_vector(model, hook, [(line.upper(), line) for line in lines])  # the same words, in capitals minus as written
control = F.normalize(torch.randn(model.cfg.d_model, generator=torch.Generator().manual_seed(3)), dim=0) * vector.norm()
print(f"{len(lines)} contrast pairs; the vector's norm is {vector.norm():.1f}")


def capitals_and_loss(texts: list[str]) -> tuple[float, float]:
    """The share of letters that are capitals, and the unsteered model's loss on the texts (nats per character)."""
    letters = [character for text in texts for character in text if character.isalpha()]
    tokens = torch.cat([model.to_tokens(text)[:, : model.cfg.n_ctx] for text in texts])
    with torch.inference_mode():
        logits = model(tokens)
    return sum(character.isupper() for character in letters) / len(letters), F.cross_entropy(logits[:, :-1].flatten(0, 1), tokens[:, 1:].flatten()).item()


for name, added in (("unsteered", None), ("steered x 0.25", 0.25 * vector), ("control x 0.25", 0.25 * control),
                    ("steered x 1", vector), ("control x 1", control)):
    texts = sample_texts(model, samples=8, length=120, seed=0, fwd_hooks=[] if added is None else [addition_hook(model, hook, added)])
    share, loss = capitals_and_loss(texts)
    print(f"{name:>14}: capitals {share:.1%} of letters, loss {loss:.2f} nats/char; {texts[0][:48]!r}")
