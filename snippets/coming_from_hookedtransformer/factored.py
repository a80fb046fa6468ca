# model.OV and model.QK are FactoredMatrix
# objects over every layer and head, as in TL 3.
import torch
from mi_course import get_device, load_model, seed_everything
from transformer_lens import FactoredMatrix

seed_everything(0)
device = get_device()
# the course's 2-layer attention-only induction model
model = load_model("induction-2l", device=device)

with torch.no_grad():
    OV, QK = model.OV, model.QK
    print(type(OV).__name__, tuple(OV.shape), "| QK:", tuple(QK.shape))
    # layer 1, head 2: a (d_model, d_model) matrix of rank at most d_head
    head = OV[1, 2]
    print(
        "OV[1, 2]:", tuple(head.shape), "rank", torch.linalg.matrix_rank(head.AB).item()
    )
    print(
        "OV[1, 2].AB == W_V[1, 2] @ W_O[1, 2]:",
        torch.allclose(head.AB, model.W_V[1, 2] @ model.W_O[1, 2]),
    )
    print(
        "QK[0, 1].AB == W_Q[0, 1] @ W_K[0, 1].T:",
        torch.allclose(QK[0, 1].AB, model.W_Q[0, 1] @ model.W_K[0, 1].T),
    )
    # The full OV circuit, token to logit, stays factored until you ask for it.
    full_OV = model.W_E @ head @ model.W_U
    print(
        type(full_OV).__name__,
        tuple(full_OV.shape),
        "top singular values:",
        [round(s, 3) for s in full_OV.S[:3].tolist()],
    )
    print(
        "a FactoredMatrix by hand:",
        isinstance(FactoredMatrix(model.W_Q[0, 0], model.W_K[0, 0].T), FactoredMatrix),
    )
