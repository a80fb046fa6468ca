# requires: network; offline, the tests run it on gpt2-twin
# IOI's residual-stream patching on Llama-3.1-70B through
# NDIF: this page's nnsight sweep, with remote=True.
import torch

from mi_course import seed_everything
from mi_course.ioi import patching_prompts
from mi_course.nnsight_tools import blocks, patch_residual, remote_model
from mi_course.tokenization import gpt2_tokenizer

seed_everything(0)
# needs NDIF_API_KEY and HF_TOKEN; no weights come here
model, remote = remote_model("meta-llama/Llama-3.1-70B")
print(
    f"{len(blocks(model))} blocks at {blocks(model).path.removeprefix('model.')}, "
    f"remote={remote}"
)

# The page's prompts, as text, in the model's own tokenizer: nnsight pads on the left,
# so position -1 is every prompt's last token, where it predicts the name.
prompts, abc = patching_prompts(20)
clean, corrupt = (
    model.tokenizer(list(batch.texts), return_tensors="pt", padding=True)
    for batch in (prompts, abc)
)
# the prompts hold GPT-2's ids of the names: spell them
# out, then look them up in the model's vocabulary
gpt2 = gpt2_tokenizer()


def first_tokens(name_ids):
    names = gpt2.batch_decode(name_ids[:, None])  # " Amy", " Charles", ...
    return torch.tensor(
        [ids[0] for ids in model.tokenizer(names, add_special_tokens=False).input_ids]
    )


io, s, rows = (
    first_tokens(prompts.io),
    first_tokens(prompts.s),
    torch.arange(len(prompts)),
)


# Functions defined in this script travel to NDIF with
# the request; mi_course's would not (NDIF lacks it).
# the mean logit difference IO - S at the last position: one number
def logit_diff(logits):
    return (logits[rows, -1, io] - logits[rows, -1, s]).mean()


with model.session(remote=remote):  # one request, two runs, two numbers back
    with model.trace(clean):
        clean_diff = logit_diff(model.output.logits).save()
    with model.trace(corrupt):
        corrupted_diff = logit_diff(model.output.logits).save()
print(
    f"mean logit diff IO - S: clean {clean_diff:+.2f}, corrupted {corrupted_diff:+.2f}"
)


# 1 when a patch restores the clean run's IO - S, 0 when it leaves the corrupted run's
def restored(logits):
    return (logit_diff(logits) - corrupted_diff) / (clean_diff - corrupted_diff)


# The clean residual stream at the last position, entering
# every fifth block or so: one run each, one request in all.
n_blocks = len(blocks(model))
layers = list(range(0, n_blocks, max(1, n_blocks // 16)))
shares = patch_residual(
    model, clean, corrupt, restored, layers=layers, positions=[-1], remote=remote
)
print("share restored by the clean last position, entering block:")
for layer, share in zip(layers, shares[:, 0].tolist()):
    print(f"  {layer:>2}: {round(share, 2) + 0.0:+.2f}")
