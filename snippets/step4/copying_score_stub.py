# Exercise: a head's full OV circuit and its copying score.
# Fill in both, run it, and read what the checkers say.
from jaxtyping import Float
from torch import Tensor

from mi_course import CheckerInputError, seed_everything
from mi_course.checkers import check_copying_score, check_full_ov_circuit

seed_everything(0)


def full_ov_circuit(
    W_E: Float[Tensor, "d_vocab d_model"],
    W_V: Float[Tensor, "d_model d_head"],
    W_O: Float[Tensor, "d_head d_model"],
    W_U: Float[Tensor, "d_model d_vocab"],
) -> Float[Tensor, "d_vocab d_vocab"]:
    """One head's full OV circuit: row s is the logits the head adds when it attends to
    token s."""
    # TransformerLens' weights act on row vectors, left
    # to right: embed, read (W_V), write (W_O), unembed.
    raise NotImplementedError("fill in full_ov_circuit")


def copying_score(full_ov: Float[Tensor, "d_vocab d_vocab"]) -> float:
    """The fraction of tokens (rows) whose own logit (the diagonal entry) is the largest
    of their row."""
    # 1 means the head copies every token it attends to; chance is 1 / d_vocab.
    raise NotImplementedError("fill in copying_score")


for check, function in (
    (check_full_ov_circuit, full_ov_circuit),
    (check_copying_score, copying_score),
):
    try:
        print(check(function))
    except CheckerInputError as error:
        print(error)
