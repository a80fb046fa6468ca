# Ablation: silence the induction heads and the loss on the repeated half shoots up to chance.
import torch

from mi_course import get_device, load_model, model_card, seed_everything
from mi_course.induction import repeated_half_loss, repeated_random_tokens
from mi_course.interventions import mean_ablation_hook, zero_ablation_hook

seed_everything(0)
device = get_device()
# Heads to silence besides the induction heads: the previous-token head they read from, and a control.
OTHER_ABLATIONS = {
    "induction-2l": [("all of layer 0 zeroed", 0, [0, 1, 2, 3])],
    "shakespeare-char": [("previous-token head 0.3 zeroed", 0, [3]), ("all of layer 3 zeroed (control)", 3, [0, 1, 2, 3])],
}

for name, others in OTHER_ABLATIONS.items():
    model = load_model(name, device=device)
    bos = model.cfg.d_vocab - 1  # also the number of ordinary symbols
    tokens = repeated_random_tokens(64, 13, bos, bos, generator=torch.Generator().manual_seed(2)).to(device)
    induction_heads = model_card(name).metrics["induction_heads"]  # e.g. ["2.3", "2.1", ...], measured when trained
    layer = int(induction_heads[0].split(".")[0])  # in these models they all sit in one layer
    heads = [int(head.split(".")[1]) for head in induction_heads]

    def loss(hook_layer: int | None = None, hook=None) -> float:
        hooks = [] if hook is None else [(f"blocks.{hook_layer}.attn.hook_z", hook)]
        return repeated_half_loss(model, tokens, 13, hooks)

    print(f"{name}: loss on the repeated half, in nats (guessing at random: {torch.log(torch.tensor(float(bos))).item():.3f})")
    print(f"  {'clean':<34} {loss():.3f}")
    print(f"  {'induction heads zero-ablated':<34} {loss(layer, zero_ablation_hook(heads)):.3f}")
    print(f"  {'induction heads mean-ablated':<34} {loss(layer, mean_ablation_hook(heads)):.3f}")
    for label, other_layer, other_heads in others:
        print(f"  {label:<34} {loss(other_layer, zero_ablation_hook(other_heads)):.3f}")
