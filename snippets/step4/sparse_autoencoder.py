# A sparse autoencoder, trained only on a toy model's hidden
# activations, finds its 30 features; a random one does not.
from mi_course import seed_everything
from mi_course.toy_models import (
    ToyConfig,
    evaluate_sae,
    random_sae,
    train_sae,
    train_toy_model,
)

seed_everything(0)
# 30 features in 10 dimensions, each active 5% of the time
# (1.5 per input), all equally important: all 30 are stored
cfg = ToyConfig(
    n_features=30,
    d_hidden=10,
    feature_probability=0.05,
    importance_decay=1.0,
    steps=1_500,
)
model = train_toy_model(cfg)
# 60 latents for 30 features: overcomplete
sae = train_sae(model, cfg, d_sae=60, l1_coefficient=0.2, steps=1_500)
# 60 random unit directions, encoder = their transpose, biases 0
baseline = random_sae(cfg.d_hidden, 60)

print(
    "the features themselves: "
    f"{cfg.n_features * cfg.feature_probability:.1f} active per input"
)
# FVU: 0 is a perfect reconstruction, 1 no better than the
# mean activation; the random SAE's dense latents overshoot
for name, candidate in (("trained SAE", sae), ("random SAE ", baseline)):
    print(f"{name}: {evaluate_sae(model, cfg, candidate)}")  # on 8,192 held-out inputs
