# generate() takes token ids or a string and returns the prompt plus new tokens.
import torch
from mi_course import get_device, load_model, seed_everything
from mi_course.induction import repeated_random_tokens

seed_everything(0)
device = get_device()
# comes with a tokenizer: symbols "t0".."t49", BOS "<|endoftext|>"
model = load_model("induction-2l", device=device)

# A string in, a string out. The model continues
# the repeated sequence: that is induction.
print(
    model.generate(
        "t3 t14 t15 t9 t26 t5 t35 t8 t9 t7 t3 t14 t15",
        max_new_tokens=4,
        do_sample=False,
        verbose=False,
    )
)

# Token ids in, token ids out: BOS, 10 random symbols, then the first 4 of them again.
prompt = repeated_random_tokens(
    1, 10, 50, 50, generator=torch.Generator().manual_seed(0)
)[:, :15].to(device)
greedy = model.generate(prompt, max_new_tokens=6, do_sample=False, verbose=False)
no_kv_cache = model.generate(
    prompt, max_new_tokens=6, do_sample=False, use_past_kv_cache=False, verbose=False
)
print("prompt:", prompt[0].tolist())
print("greedy:", greedy[0].tolist())
print("same without the KV cache:", torch.equal(greedy, no_kv_cache))
seed_everything(1)
# stop_at_eos=False: never stop early at "<|endoftext|>" (a
# model without a tokenizer needs it, or an eos_token_id).
sampled = model.generate(
    prompt, max_new_tokens=8, temperature=1.0, stop_at_eos=False, verbose=False
)
print("sampled tokens after the prompt:", len(sampled[0]) - prompt.shape[1])
