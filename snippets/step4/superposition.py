# Superposition: 5 sparse features through 2 dimensions. A toy model stores all 5, as a pentagon.
import math

import torch

from mi_course import seed_everything
from mi_course.plotting import scatter, show
from mi_course.toy_models import ToyConfig, train_toy_model

seed_everything(0)
cfg = ToyConfig(n_features=5, d_hidden=2, feature_probability=0.05)  # each feature active 5% of the time
model = train_toy_model(cfg)  # a few seconds on a CPU

directions = model.W.detach()  # column i: where feature i lives in the 2-D hidden space
norms = directions.norm(dim=0)
angles = torch.atan2(directions[1], directions[0]).rad2deg()
gaps = (angles.sort().values.diff().tolist() + [360 - (angles.max() - angles.min()).item()])
print("feature norms (1 = fully represented):", [round(norm, 2) for norm in norms.tolist()])
print("angles between neighbouring features (degrees):", sorted(round(gap) for gap in gaps))
print(f"a regular pentagon has {360 / 5:.0f} degrees; {cfg.n_features} features share {cfg.d_hidden} dimensions")
show(scatter(directions[0], directions[1], title="Feature directions of the toy model", x_label="hidden dimension 0",
             y_label="hidden dimension 1", hover=[f"feature {i}" for i in range(cfg.n_features)]))
