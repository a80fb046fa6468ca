# Name SAE latents from evidence: for properties labelled from the text itself, the
# latent whose firing marks them best, beside 20 random SAEs.
import torch

from mi_course import load_model, seed_everything
from mi_course.baselines import Distribution
from mi_course.plotting import show, token_activations
from mi_course.residual_sae import (
    best_latent_for,
    random_residual_sae,
    residual_activations,
)
from mi_course.text_labels import (
    capital_word,
    end_of_speaker_name,
    speaker_name,
    text_windows,
    word_start,
)
from mi_course.toy_models import mean_l0
from mi_course.zoo import load_sae

seed_everything(0)
model, sae = (
    load_model("shakespeare-char", device="cpu"),
    load_sae("shakespeare-char-sae"),
)
tokens, text = text_windows("held-out", 400)
# one row per character of text
activations = residual_activations(model, tokens, sae.hook)
latents = sae.encode(activations)
properties = {
    "inside a speaker's name": speaker_name(text),
    "inside a word in capitals": capital_word(text),
    "ends a speaker's name": end_of_speaker_name(text),
    "'s' starting a word": word_start(text, "s"),
    "'t' starting a word": word_start(text, "t"),
    "'a' starting a word": word_start(text, "a"),
}
print(
    f"{len(text)} held-out characters; per property, the best latent by F1 (precision, "
    "recall), and the best F1 of each of 20 random SAEs"
)
# The baseline: 20 random SAEs, each with as many latents active
# as the trained SAE's; per property, each one's best F1.
random_f1 = {name: [] for name in properties}
for seed in range(20):
    random_latents = random_residual_sae(
        sae, top_k=round(mean_l0(latents)), seed=seed
    ).encode(activations)
    for name, labels in properties.items():
        random_f1[name].append(best_latent_for(random_latents, labels).f1)
named = {}
for name, labels in properties.items():
    best, chance = (
        best_latent_for(latents, labels),
        Distribution(tuple(random_f1[name])),
    )
    named[name] = best.latent
    # of its 20 strongest activations, how many have it
    top_20 = labels[latents[:, best.latent].topk(20).indices].sum().item()
    print(
        f"{name:>24} ({labels.float().mean():.1%} of characters): "
        f"trained latent {best.latent:<3} F1 {best.f1:.2f} "
        f"({best.precision:.2f}, {best.recall:.2f}), top 20: {top_20}; "
        f"random SAEs F1 mean {chance.mean:.2f}, 95th percentile {chance.p95:.2f}"
    )

# Each named latent's five strongest activations,
# in their context, shaded by the latent.
shown = lambda character: "↵" if character == "\n" else character  # noqa: E731
for name in ("inside a word in capitals", "'s' starting a word", "'t' starting a word"):
    values = latents[:, named[name]]
    characters, shades = [], []
    for position in values.topk(5).indices.tolist():
        window = range(max(0, position - 30), min(len(text), position + 10))
        characters += [shown(text[i]) for i in window] + [" … "]
        shades += [values[i].item() for i in window] + [0.0]
    show(
        token_activations(
            characters, torch.tensor(shades), title=f"latent {named[name]}: {name}"
        )
    )
