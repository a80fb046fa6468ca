# Testing the twin's rule on prompts it was not built from:
# templates whose last name is IO, where heads 1.0 and 1.3 look, and longer prompts.
import torch

from mi_course import load_model, seed_everything
from mi_course.interventions import zero_ablation_hook
from mi_course.ioi import (
    HELD_OUT_NAMES,
    HELD_OUT_TEMPLATES,
    TRAINING_NAMES,
    TRAINING_TEMPLATES,
    ioi_prompts,
    logit_diff,
)

seed_everything(0)
# in Colab, load_model("gpt2-small") runs the same code on GPT-2 small
model = load_model("gpt2-twin")
# head 0.2's output set to zero
without_head_0_2 = [("blocks.0.attn.hook_z", zero_ablation_hook([2]))]


def run(prompts):
    """The logit difference IO - S of each prompt, with and without head 0.2, and where
    each head looks from its last position."""
    prompts = prompts.to(model.cfg.device)
    with torch.inference_mode():
        logits, cache = model.run_with_cache(prompts.tokens)
        ablated = model.run_with_hooks(prompts.tokens, fwd_hooks=without_head_0_2)
    rows = torch.arange(len(prompts))
    looks = lambda layer, head, where: (  # noqa: E731
        cache["pattern", layer][rows, head, prompts.end, where].mean().item()
    )
    return logit_diff(logits, prompts), logit_diff(ablated, prompts), looks


# 1. Templates whose last name before the end is
# IO, and one in new words whose last name is S.
# order="as written" keeps each slot where the template puts it.
written = [
    "After {S} left the {PLACE}, {S} met {IO} and gave a {OBJECT} to",
    "While {S} was at the {PLACE}, {S} called {IO} and brought a {OBJECT} to",
    "Yesterday {S} was happy. {S} found {IO} at the {PLACE} and gave a {OBJECT} to",
    "Then {S} went to the {PLACE} with {IO}, and {S} gave a {OBJECT} to",
]
for template in [HELD_OUT_TEMPLATES[0], *written]:
    order = "mixed" if template in HELD_OUT_TEMPLATES else "as written"
    prompts = ioi_prompts(
        100, templates=[template], names=HELD_OUT_NAMES, order=order, seed=0
    )
    diffs, ablated, looks = run(prompts)
    print(template)
    print(
        f"  IO above S in {(diffs > 0).float().mean().item():.1%}; "
        f"mean IO - S {diffs.mean():+.2f}, without 0.2 {ablated.mean():+.2f}"
    )
    print(
        f"  head 0.2 looks at IO {looks(0, 2, prompts.io_position):.2f}, "
        f"S2 {looks(0, 2, prompts.s2_position):.2f}"
    )

# 2. From the end, heads 1.0 and 1.3 look at the word after the first name: is it the
# same when that name is IO (ABBA) or S (BABA)?
print(
    "attention from the end to the word after "
    "the first name (100 prompts, 4 templates):"
)
for order in ("ABBA", "BABA"):
    prompts = ioi_prompts(
        100, templates=HELD_OUT_TEMPLATES, names=HELD_OUT_NAMES, order=order, seed=0
    )
    *_, looks = run(prompts)
    after_first = torch.minimum(prompts.io_position, prompts.s1_position) + 1
    print(
        f"  {order} (first name {'IO' if order == 'ABBA' else 'S'}): "
        + "  ".join(
            f"head 1.{head} {looks(1, head, after_first):.2f}" for head in (0, 3)
        )
    )

# 3. Longer than any training prompt: the first template again, S still the last
# name, after a sentence or two. Rule (b) predicts IO, as without them.
longest = ioi_prompts(
    500, templates=TRAINING_TEMPLATES, names=TRAINING_NAMES, seed=0
).tokens.shape[1]
print(
    f"the first template after more words (training prompts: at most {longest} tokens)"
)
for before in ("It rained all day. ", "It rained all day. It was cold. "):
    prompts = ioi_prompts(
        100,
        templates=[before + HELD_OUT_TEMPLATES[0]],
        names=HELD_OUT_NAMES,
        order="mixed",
        seed=0,
    )
    diffs, _, looks = run(prompts)
    print(f"  {before.strip()!r}, {prompts.tokens.shape[1]} tokens:")
    print(
        f"    IO above S in {(diffs > 0).float().mean().item():.1%}; "
        f"head 0.2 looks at IO {looks(0, 2, prompts.io_position):.2f}, "
        f"S2 {looks(0, 2, prompts.s2_position):.2f}"
    )
