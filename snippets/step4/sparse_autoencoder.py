# A sparse autoencoder, trained only on the toy model's hidden activations, finds the 5 feature directions.
from mi_course import seed_everything
from mi_course.toy_models import ToyConfig, feature_recovery, train_sae, train_toy_model

seed_everything(0)
cfg = ToyConfig(n_features=5, d_hidden=2, feature_probability=0.05)
model = train_toy_model(cfg)
sae = train_sae(model, cfg, d_sae=10, l1_coefficient=0.2)  # 10 latents for 5 features: an overcomplete dictionary

recovery = feature_recovery(model, sae)  # best cosine between each true feature and any decoder direction
print("cosine of each feature with its closest SAE latent:", [round(value, 3) for value in recovery.tolist()])
print(f"features recovered (cosine > 0.95): {(recovery > 0.95).sum().item()} of {cfg.n_features}")
