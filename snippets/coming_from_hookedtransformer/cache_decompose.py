# The ActivationCache helpers of TL 3 (accumulated_resid,
# decompose_resid, stack_head_results, ...) are all there.
import torch
from mi_course import get_device, load_model, seed_everything
from mi_course.induction import repeated_random_tokens

seed_everything(0)
device = get_device()
# the course's 2-layer attention-only induction model
model = load_model("induction-2l", device=device)
bos = model.cfg.d_vocab - 1  # BOS is the last id; every id before it is a symbol
# BOS, then 10 random symbols twice: the repeated sequences the model was trained on.
tokens = repeated_random_tokens(
    2, 10, bos, bos, generator=torch.Generator().manual_seed(0)
).to(device)
with torch.no_grad():
    logits, cache = model.run_with_cache(tokens)
    final = cache["resid_post", -1]

    accumulated, labels = cache.accumulated_resid(return_labels=True)
    print("accumulated_resid:", tuple(accumulated.shape), labels)
    print(
        "  its last entry is resid_post of the last layer:",
        torch.allclose(accumulated[-1], final),
    )

    parts, labels = cache.decompose_resid(return_labels=True)
    print("decompose_resid:", tuple(parts.shape), labels)
    print(
        "  the parts add up to the final residual stream:",
        torch.allclose(parts.sum(0), final, atol=1e-5),
    )

    # layer=2 means "heads of layers before 2", as in TL 3.
    # Computed from hook_z and W_O: no hook_result needed.
    heads, labels = cache.stack_head_results(layer=2, return_labels=True)
    print("stack_head_results:", tuple(heads.shape), labels[:3], "...")
    layer_1 = heads[model.cfg.n_heads :].sum(0) + model.b_O[1]
    print(
        "  layer 1's heads plus b_O give its attn_out:",
        torch.allclose(layer_1, cache["attn_out", 1], atol=1e-5),
    )

    # Direct logit attribution reads the LayerNorm as folded
    # into the weights: turn on compatibility mode first.
    model.enable_compatibility_mode()
    logits, cache = model.run_with_cache(tokens)
    parts = cache.decompose_resid()
    # (part, batch, d_model)
    scaled = cache.apply_ln_to_stack(parts[:, :, -1], layer=-1, pos_slice=-1)
    token = tokens[0, -1].item()
    attribution = scaled[:, 0] @ model.W_U[:, token]
    print(
        "logit attribution per part:",
        [round(value, 2) for value in attribution.tolist()],
    )
    print(
        "  adds up to the logit:",
        torch.allclose(
            attribution.sum() + model.b_U[token], logits[0, -1, token], atol=1e-4
        ),
    )
