# IOI on gpt2-twin: clean prompts, their ABC corruptions,
# and how often the model prefers the indirect object.
import torch

from mi_course import load_model, model_card, seed_everything
from mi_course.ioi import (
    HELD_OUT_NAMES,
    HELD_OUT_TEMPLATES,
    corrupted,
    ioi_prompts,
    logit_diff,
)

seed_everything(0)
# in Colab, load_model("gpt2-small") runs the same code on GPT-2 small
model = load_model("gpt2-twin")
# Templates and names the twin never saw in an IOI prompt during training.
prompts = ioi_prompts(
    200, templates=HELD_OUT_TEMPLATES, names=HELD_OUT_NAMES, seed=0
).to(model.cfg.device)
abc = corrupted(prompts)  # the same words, three different names: no name repeats
print("clean:    ", prompts.texts[0], "->", repr(model.to_string(prompts.io[0])))
print("corrupted:", abc.texts[0])

with torch.inference_mode():
    clean_diffs = logit_diff(model(prompts.tokens), prompts)
    # the clean prompt's IO and S, read in the corrupted run
    corrupted_diffs = logit_diff(model(abc.tokens), prompts)
io_first = prompts.io_position < prompts.s1_position
for name, diffs in (
    ("clean, ABBA", clean_diffs[io_first]),
    ("clean, BABA", clean_diffs[~io_first]),
    ("clean, all", clean_diffs),
    ("corrupted (ABC)", corrupted_diffs),
):
    print(
        f"{name:>16}: IO above S in {(diffs > 0).float().mean():.1%} of {len(diffs)}, "
        f"mean logit diff IO - S {diffs.mean():+.2f}"
    )
untrained = model_card("gpt2-twin").metrics["ioi_untrained"][
    "held-out templates, held-out names"
]
print(
    f"{'untrained twin':>16}: IO above S in {untrained['accuracy']:.1%} of 500, "
    f"mean logit diff IO - S {untrained['logit_diff']:+.2f}"
)
print(f"{'chance':>16}: IO above S in 50.0%, mean logit diff IO - S +0.00")
