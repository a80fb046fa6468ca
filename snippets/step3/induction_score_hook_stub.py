# Exercise: an induction score measured by a hook during the run, with no cache. Fill in
# the hook, run it, and read what the checker says.
from jaxtyping import Float
from torch import Tensor

from mi_course import CheckerInputError, seed_everything
from mi_course.checkers.induction import check_induction_score_hook
from mi_course.induction import induction_score

seed_everything(0)


def induction_score_hook(seq_len: int, scores: Float[Tensor, "n_layers n_heads"]):
    """A hook for blocks.L.attn.hook_pattern that writes layer L's induction scores into
    scores[L] during the run."""

    def hook(pattern: Float[Tensor, "batch head query key"], hook) -> None:
        # hook.layer() is L; induction_score(pattern,
        # seq_len) gives one score per head. Return nothing:
        # the hook only reads, so the run goes on unchanged.
        raise NotImplementedError("fill in the hook")

    return hook


try:
    print(check_induction_score_hook(induction_score_hook))
except CheckerInputError as error:
    print(error)
