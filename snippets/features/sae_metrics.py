# The shipped SAE of shakespeare-char's residual stream, measured on held-out text
# beside a rescale, a rank-matched PCA and 20 random SAEs.
from mi_course import load_model, seed_everything
from mi_course.baselines import Distribution
from mi_course.residual_sae import (
    evaluate_residual_sae,
    pca_reconstruction,
    random_residual_sae,
    residual_activations,
    spliced_loss,
)
from mi_course.text_labels import text_windows
from mi_course.toy_models import fraction_of_variance_unexplained
from mi_course.zoo import load_sae

seed_everything(0)
model, sae = (
    load_model("shakespeare-char", device="cpu"),
    load_sae("shakespeare-char-sae"),
)
print(
    f"{sae.d_sae} latents on {sae.model}'s residual "
    f"stream at {sae.hook} (d_model {sae.d_in})"
)
tokens, _ = text_windows("held-out", 256)
trained = evaluate_residual_sae(model, sae, tokens)
print(f"trained SAE: {trained}")

# Baselines spliced in the same way. delta-CE is the
# loss they add, in nats per character: 0 is perfect.
activations, rank = residual_activations(model, tokens, sae.hook), round(trained.l0)
# fitted on training text
pca = pca_reconstruction(
    residual_activations(model, text_windows("training", 512)[0], sae.hook), rank
)
for name, replace in (
    ("2 x the activation", lambda activation: 2 * activation),
    (f"PCA, top {rank} components", pca),
):
    loss = spliced_loss(model, tokens, sae.hook, replace)
    recovered = (trained.zero_loss - loss) / (trained.zero_loss - trained.clean_loss)
    print(
        f"{name:>24}: FVU "
        f"{fraction_of_variance_unexplained(activations, replace(activations)):.3f}; "
        f"loss {loss:.3f}; "
        f"loss recovered {recovered:.3f}; delta-CE {loss - trained.clean_loss:.3f} nats"
    )
random_loss = Distribution(
    tuple(
        spliced_loss(
            model,
            tokens,
            sae.hook,
            random_residual_sae(sae, top_k=rank, seed=seed).reconstruct,
        )
        - trained.clean_loss
        for seed in range(20)
    )
)
print(f"20 random SAEs at L0 {rank}, delta-CE in nats: {random_loss.describe(3)}")
