# Ablation: silence heads and compare the loss where
# there is nothing to copy with the loss on the repeat.
import torch

from mi_course import get_device, load_model, model_card, seed_everything
from mi_course.induction import repeated_random_tokens
from mi_course.interventions import mean_ablation_hook, token_losses, zero_ablation_hook
from mi_course.plotting import bars, show

seed_everything(0)
device = get_device()
SEQ_LEN = 13
# Heads to silence besides the induction heads: (label, layer, heads).
OTHER_HEADS = {
    "induction-2l": [("previous-token head 0.0", 0, [0])],
    "shakespeare-char": [
        ("previous-token head 0.3", 0, [3]),
        ("all of layer 1 (control)", 1, [0, 1, 2, 3]),
        ("all of layer 3", 3, [0, 1, 2, 3]),
    ],
}

for name, others in OTHER_HEADS.items():
    model = load_model(name, device=device)
    bos = model.cfg.d_vocab - 1  # also the number of ordinary symbols
    tokens = repeated_random_tokens(
        64, SEQ_LEN, bos, bos, generator=torch.Generator().manual_seed(2)
    ).to(device)
    # e.g. ["2.3", "2.1", ...], measured when trained
    induction_heads = model_card(name).metrics["induction_heads"]
    # in these models they all sit in one layer
    layer = int(induction_heads[0].split(".")[0])
    ablations = [
        (
            "induction heads",
            layer,
            [int(head.split(".")[1]) for head in induction_heads],
        ),
        *others,
    ]

    def losses(hooks: list) -> tuple[float, float]:
        """Mean loss predicting x_2..x_L of the first copy (nothing to copy yet), and of
        the repeat."""
        per_token = token_losses(model, tokens, hooks)  # [:, p] predicts token p + 1
        return (
            per_token[:, 1:SEQ_LEN].mean().item(),
            per_token[:, SEQ_LEN + 1 :].mean().item(),
        )

    uniform = torch.log(torch.tensor(float(bos))).item()
    print(f"{name}: loss in nats; a uniform guess scores {uniform:.3f}")
    print(f"  {'':<45} {'first copy':>10} {'repeat':>7}")
    rows = {"clean": losses([])}
    for label, hook_layer, heads in ablations:
        for kind, make_hook in (
            ("zeroed", zero_ablation_hook),
            ("mean-ablated", mean_ablation_hook),
        ):
            hook = (f"blocks.{hook_layer}.attn.hook_z", make_hook(heads))
            rows[f"{label} {kind}"] = losses([hook])
    for label, (first_copy, repeat) in rows.items():
        print(f"  {label:<45} {first_copy:10.3f} {repeat:7.3f}")
    figure = bars(
        {
            "first copy": [first for first, _ in rows.values()],
            "repeat": [repeat for _, repeat in rows.values()],
        },
        labels=list(rows),
        title=f"Loss with heads silenced, {name}",
        x_label="loss (nats)",
        y_label="",
    )
    figure.add_vline(x=uniform, line_dash="dash", annotation_text="uniform guess")
    show(figure)
    if name == "shakespeare-char":
        # Is zero far from what layer 1 writes? Zeroed, its heads write only the bias
        # b_O; mean-ablated, each position's mean.
        _, cache = model.run_with_cache(
            tokens, names_filter=lambda hook_name: hook_name == "blocks.1.hook_attn_out"
        )
        written = cache["blocks.1.hook_attn_out"]  # (batch, pos, d_model)
        mean = written.mean(dim=0, keepdim=True)
        # how far each output lies from its position's mean
        spread = (written - mean).norm(dim=-1)
        # how far the zeroed output lies from it
        zero = (model.blocks[1].attn.b_O - mean).norm(dim=-1).expand_as(spread)
        print(
            f"  layer 1's output: {spread.mean().item():.2f} "
            "from its position's mean on average; zeroed, "
            f"{zero.mean().item():.2f}; {(spread > zero).float().mean().item():.0%} "
            "of its outputs lie farther than zeroed"
        )
