# Find previous-token, duplicate-token and induction
# heads by where they attend on repeated random tokens.
import torch

from mi_course import get_device, load_model, seed_everything
from mi_course.induction import head_scores, name_heads, repeated_random_tokens

seed_everything(0)
device = get_device()
THRESHOLD = 0.4  # a head that puts at least 40% of its attention on the stripe is named

for name in ["induction-2l", "shakespeare-char"]:
    model = load_model(name, device=device)
    bos = model.cfg.d_vocab - 1  # both models keep BOS as their last token id
    # 64 sequences of BOS, 13 random tokens, the same 13 again.
    tokens = repeated_random_tokens(
        64, 13, bos, bos, generator=torch.Generator().manual_seed(1)
    ).to(device)
    print(f"{name}:")
    for kind, scores in head_scores(model, tokens, seq_len=13).items():
        best = scores.argmax().item()
        top = f"{best // model.cfg.n_heads}.{best % model.cfg.n_heads}"
        print(
            f"  {kind:>15}: top score {scores.max().item():.2f} (head {top}); "
            f"heads above {THRESHOLD}: "
            f"{name_heads(scores, THRESHOLD) or 'none'}"
        )
