# A mean-ablation hook, checked against the course's reference.
from collections.abc import Callable

from jaxtyping import Float
from torch import Tensor
from transformer_lens.hook_points import HookPoint

from mi_course import seed_everything
from mi_course.checkers import check_mean_ablation_hook

seed_everything(0)


# --8<-- "mi_course/interventions.py:mean-ablation-hook"


print(check_mean_ablation_hook(mean_ablation_hook))
