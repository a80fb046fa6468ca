# The logit lens: unembed the residual stream
# after each layer and watch the prediction form.
import torch

from mi_course import get_device, load_model, seed_everything
from mi_course.plotting import line, show

seed_everything(0)
device = get_device()
# the course's character-level model
model = load_model("shakespeare-char", device=device)
# folds each LayerNorm's weights into the next layer, as TL 3 did
model.enable_compatibility_mode()
# a made-up name: only its first occurrence says what comes next
prompt = "Thy name is Vexmorn, thou knave.\nVexm"
answer = model.to_single_token("o")

with torch.inference_mode():
    logits, cache = model.run_with_cache(model.to_tokens(prompt))
    # The residual stream at the last position after
    # each layer, with the final LayerNorm applied.
    residuals, labels = cache.accumulated_resid(
        apply_ln=True, pos_slice=-1, return_labels=True
    )
    lens_logits = residuals[:, 0] @ model.W_U + model.b_U  # (n_layers + 1, d_vocab)

for label, layer_logits in zip(labels, lens_logits):
    probabilities = layer_logits.softmax(-1)
    top = model.to_string(layer_logits.argmax())
    print(
        f"{label:>12}: P('o') = {probabilities[answer].item():.3f}; top guess {top!r}"
    )
print(
    f"the model's own output: P('o') = {logits[0, -1].softmax(-1)[answer].item():.3f}"
)
print(
    f"baseline, a uniform guess over the {model.cfg.d_vocab} tokens: "
    f"P('o') = {1 / model.cfg.d_vocab:.3f}"
)
show(
    line(
        {"P('o'), read by the lens": lens_logits.softmax(-1)[:, answer]},
        x_ticks=labels,
        title="The logit lens on 'Vexm': when the answer appears",
        x_label="residual stream read (N_pre: entering layer N)",
        y_label="probability of 'o'",
    )
)
