# requires: network; offline, the tests run it on gpt2-twin
# GPT-2 small in Colab: run it on repeated random tokens,
# find its induction heads, look at its activations.
import torch

from mi_course import get_device, load_model, seed_everything
from mi_course.induction import head_scores, name_heads, repeated_random_tokens
from mi_course.plotting import attention_patterns, show

seed_everything(0)
# downloads GPT-2 small from the Hugging Face Hub the first time
model = load_model("gpt2-small", device=get_device())
bos = model.tokenizer.bos_token_id  # 50256, GPT-2's <|endoftext|>
# Random ids below 20,000 are ordinary tokens (no
# byte-fallback fragments); 20 of them, twice.
tokens = repeated_random_tokens(
    8, 20, 20_000, bos, generator=torch.Generator().manual_seed(1)
).to(model.cfg.device)

with torch.inference_mode():
    logits, cache = model.run_with_cache(tokens)
last = model.cfg.n_layers - 1
print(
    "activations cached:",
    len(cache),
    f"| residual stream after layer {last}:",
    tuple(cache["resid_post", last].shape),
)
scores = head_scores(model, tokens, seq_len=20)
for kind, kind_scores in scores.items():
    print(f"{kind} heads (score >= 0.4): {name_heads(kind_scores, 0.4)}")

# The strongest induction head's pattern on the
# first sequence: in Colab an interactive view.
layer, head = divmod(scores["induction"].argmax().item(), model.cfg.n_heads)
show(
    attention_patterns(
        model.to_str_tokens(tokens[0]),
        cache["pattern", layer][0, head : head + 1],
        [f"{layer}.{head}"],
    )
)
