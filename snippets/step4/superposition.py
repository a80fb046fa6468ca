# Superposition: 5 sparse features through 2
# dimensions. A toy model stores all 5, as a pentagon.
import torch

from mi_course import seed_everything
from mi_course.plotting import scatter, show
from mi_course.toy_models import ToyConfig, train_toy_model

seed_everything(0)
# each feature is active 5% of the time; feature i's
# squared error weighs importance_decay ** i in the loss
cfg = ToyConfig(
    n_features=5, d_hidden=2, feature_probability=0.05, importance_decay=0.9
)
print("feature importances:", [round(weight, 2) for weight in cfg.importance.tolist()])
model = train_toy_model(cfg)  # a few seconds on a CPU

directions = model.W.detach()  # column i: where feature i lives in the 2-D hidden space
norms = directions.norm(dim=0)
bias = model.b_final.detach()
print(
    "feature norms (about 1: the feature is stored; about 0: dropped):",
    [round(norm, 2) for norm in norms.tolist()],
)
print("output biases:", [round(value, 2) for value in bias.tolist()])
# Feature i alone at value v comes back as ReLU(|W_i|^2 v +
# b_i); feature j gets ReLU((W_j . W_i) v + b_j): interference.
gram = directions.T @ directions
j = gram[0, 1:].argmax().item() + 1  # a neighbour of feature 0, the closest in angle
print(
    "feature 0 alone at value v comes back as "
    f"ReLU({gram[0, 0]:.2f} v - {-bias[0]:.2f}); "
    f"its neighbour, feature {j}, gets ReLU({gram[0, j]:.2f} v - {-bias[j]:.2f})"
)
print(
    "why the norms exceed 1: the negative biases silence "
    f"the neighbours (0 for v < {-bias[j] / gram[0, j]:.2f}), "
    f"and |W_0|^2 = {gram[0, 0]:.2f} > 1 makes up for feature "
    f"0's own bias ({gram[0, 0] + bias[0]:.2f} at v = 1)"
)
angles = torch.atan2(directions[1], directions[0]).rad2deg()
gaps = angles.sort().values.diff().tolist() + [
    360 - (angles.max() - angles.min()).item()
]
print(
    "angles between neighbouring features (degrees):",
    sorted(round(gap) for gap in gaps),
)
print(
    f"a regular pentagon has {360 / 5:.0f} degrees; "
    f"{cfg.n_features} features share {cfg.d_hidden} dimensions"
)
show(
    scatter(
        directions[0],
        directions[1],
        title="Feature directions of the toy model",
        x_label="hidden dimension 0",
        y_label="hidden dimension 1",
        hover=[f"feature {i}" for i in range(cfg.n_features)],
        same_scale=True,  # equal units on both axes, so that angles show true
    )
)
