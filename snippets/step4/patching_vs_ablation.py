# Ablation asks "is this head necessary?"; patching asks "does this head carry the difference between two inputs?".
import torch

from mi_course import get_device, load_model, seed_everything
from mi_course.induction import repeated_random_tokens
from mi_course.interventions import patch_by_position, zero_ablation_hook

seed_everything(0)
device = get_device()
model = load_model("induction-2l", device=device)  # the course's 2-layer attention-only induction model
clean = repeated_random_tokens(1, 8, 50, 50, generator=torch.Generator().manual_seed(0)).to(device)
corrupted = clean.clone()
corrupted[0, 3] = (clean[0, 3] + 1) % 50  # as on the Step 3 page: the first copy of x_3 changes
query, answer = 11, clean[0, 12].item()  # at the second x_3 the model should predict x_4


def answer_logit(logits: torch.Tensor) -> float:
    return logits[0, query, answer].item()


with torch.inference_mode():
    clean_logit, corrupted_logit = answer_logit(model(clean)), answer_logit(model(corrupted))
    print(f"logit of the answer: clean {clean_logit:.2f}, corrupted {corrupted_logit:.2f}")
    print("change in the answer's logit")
    print("head  zero-ablated in the clean run  clean output patched into the corrupted run, at the query")
    for layer in range(model.cfg.n_layers):
        for head in range(model.cfg.n_heads):
            ablated = answer_logit(model.run_with_hooks(clean, fwd_hooks=[(f"blocks.{layer}.attn.hook_z", zero_ablation_hook([head]))]))
            # Patch only this head's output: its slice of hook_z, at the query position.
            patched = patch_by_position(model, clean, corrupted, [f"blocks.{layer}.attn.hook_z"], answer_logit, head=head)[0, query].item()
            ablation_effect, patching_effect = (round(change, 2) + 0.0 for change in (ablated - clean_logit, patched - corrupted_logit))
            print(f"{layer}.{head}   {ablation_effect:+6.2f}                          {patching_effect:+6.2f}")  # + 0.0: no -0.00
