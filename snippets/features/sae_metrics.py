# The shipped SAE of shakespeare-char's residual stream, measured on held-out text beside two random SAEs of its shape.
from mi_course import load_model, seed_everything
from mi_course.residual_sae import evaluate_residual_sae, random_residual_sae
from mi_course.text_labels import text_windows
from mi_course.zoo import load_sae

seed_everything(0)
model, sae = load_model("shakespeare-char", device="cpu"), load_sae("shakespeare-char-sae")
print(f"{sae.d_sae} latents on {sae.model}'s residual stream at {sae.hook} (d_model {sae.d_in})")
tokens, _ = text_windows("held-out", 256)
trained = evaluate_residual_sae(model, sae, tokens)
print(f"{'trained':>24}: {trained}")
for name, baseline in (("random", random_residual_sae(sae)), ("random, at trained L0", random_residual_sae(sae, top_k=round(trained.l0)))):
    print(f"{name:>24}: {evaluate_residual_sae(model, baseline, tokens)}")
