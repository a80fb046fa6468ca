# Direct logit attribution: split the answer's logit into what each head, MLP and embedding wrote.
import torch

from mi_course import get_device, load_model, seed_everything

seed_everything(0)
device = get_device()
model = load_model("shakespeare-char", device=device)  # the course's character-level model
model.enable_compatibility_mode()  # fold the LayerNorms, so each part's contribution is linear
prompt = "Thy name is Vexmorn, thou knave.\nVexm"  # the answer, "o", appears only in the first "Vexmorn"
answer, rival = model.to_single_token("o"), model.to_single_token("i")  # "i" is the best guess without induction
direction = model.W_U[:, answer] - model.W_U[:, rival]  # reading this direction gives logit(o) - logit(i)

with torch.inference_mode():
    logits, cache = model.run_with_cache(model.to_tokens(prompt))
    # Every head's output, the MLPs and the embeddings, at the last position; together they are the residual stream.
    heads, head_labels = cache.stack_head_results(layer=-1, pos_slice=-1, return_labels=True)
    parts, part_labels = cache.decompose_resid(mode="mlp", pos_slice=-1, return_labels=True)
    stack = torch.cat([heads, parts])[:, 0]  # (part, d_model)
    # The final LayerNorm divides by one scale for the whole residual stream; apply it to each part.
    contributions = cache.apply_ln_to_stack(stack, layer=-1, pos_slice=-1) @ direction
    # What no part owns: the attention output biases, and the unembedding's bias.
    biases = (cache.apply_ln_to_stack(model.b_O.sum(0)[None], layer=-1, pos_slice=-1)[0] @ direction).item()
    biases += (model.b_U[answer] - model.b_U[rival]).item()

labels = head_labels + part_labels
logit_difference = (logits[0, -1, answer] - logits[0, -1, rival]).item()
print(f"logit(o) - logit(i) = {logit_difference:.2f}")
print(f"sum of the {len(labels)} parts + the biases = {contributions.sum().item() + biases:.2f}; the largest parts:")
for index in contributions.abs().argsort(descending=True)[:6].tolist():
    print(f"{labels[index]:>8}: {contributions[index].item():+.2f}")
