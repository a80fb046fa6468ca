# The causal check: push shakespeare-char's residual stream along the speaker-name
# probe's direction, at capitals outside names, beside 20 random directions.
import torch
from torch import Tensor

from mi_course import load_model, seed_everything
from mi_course.baselines import Distribution, random_directions
from mi_course.probes import balanced_positions, train_probe
from mi_course.residual_sae import residual_activations
from mi_course.steering import addition_hook
from mi_course.text_labels import speaker_name, text_windows, uppercase

seed_everything(0)
model = load_model("shakespeare-char", device="cpu")
hook = "blocks.2.hook_resid_pre"  # where the probe above first reads the property well
tokens, text = text_windows("training", 800)
positions, labels = balanced_positions(
    uppercase(text) & speaker_name(text), uppercase(text) & ~speaker_name(text), seed=0
)
probe = train_probe(residual_activations(model, tokens, hook)[positions], labels)
# the unit vector the probe reads
direction = probe.weight.detach()[0] / probe.weight.detach()[0].norm()
# unit length, like the probe's
controls = random_directions(
    20, model.cfg.d_model, generator=torch.Generator().manual_seed(0)
)

# Capitals outside speakers' names in held-out text;
# in a name, the next character is a capital too.
test_tokens, test_text = text_windows("held-out", 100)
outside = torch.cat(
    [
        torch.zeros(len(test_tokens), 1, dtype=torch.bool),
        (uppercase(test_text) & ~speaker_name(test_text)).view(len(test_tokens), -1),
    ],
    dim=1,
)
capitals = torch.tensor(
    [
        character.isupper()
        for character in model.tokenizer.convert_ids_to_tokens(
            list(range(model.cfg.d_vocab))
        )
    ]
)


def next_capital(vector: Tensor, where: Tensor | None) -> float:
    """Mean probability that the next character is a capital, at those positions, with
    ``vector`` added at ``where`` (None: everywhere)."""
    with torch.inference_mode():
        logits = model.run_with_hooks(
            test_tokens, fwd_hooks=[addition_hook(model, hook, vector, positions=where)]
        )
    return logits.softmax(dim=-1)[..., capitals].sum(dim=-1)[outside].mean().item()


typical = residual_activations(model, test_tokens, hook).norm(dim=-1).mean().item()
print(
    f"{outside.sum().item()} capitals outside names; "
    f"the residual stream's mean norm at {hook} is {typical:.1f}"
)
print(
    "P(next is a capital), unchanged: "
    f"{next_capital(torch.zeros(model.cfg.d_model), None):.3f}"
)
for where, size in ((None, 8), (None, 16), (outside, 16)):
    random = Distribution(
        tuple(next_capital(size * control, where) for control in controls)
    )
    print(
        f"adding {size} x "
        f"{'at every position' if where is None else 'at those capitals only'}: "
        f"probe direction {next_capital(size * direction, where):.3f}, "
        f"minus it {next_capital(-size * direction, where):.3f}"
    )
    print(f"  random directions: {random.describe(3)}")
