# generate() takes token ids (or a string, given a tokenizer) and returns the prompt plus new tokens.
import torch
from mi_course import get_device, seed_everything
from transformer_lens import TransformerBridge, TransformerBridgeConfig

seed_everything(0)
device = get_device()
cfg = TransformerBridgeConfig(
    d_model=64, d_head=16, n_heads=4, n_layers=2, n_ctx=64, d_vocab=50, d_mlp=256,
    act_fn="gelu_new", normalization_type="LN", positional_embedding_type="standard", seed=0,
)
model = TransformerBridge.boot_native(cfg, device=device)
prompt = torch.randint(0, cfg.d_vocab, (1, 6)).to(device)

# Without a tokenizer there is no end-of-text token to stop at: say so, or generate() refuses.
try:
    model.generate(prompt, max_new_tokens=4, verbose=False)
except AssertionError as error:
    print(f"{type(error).__name__}: {error}")

greedy = model.generate(prompt, max_new_tokens=8, do_sample=False, stop_at_eos=False, verbose=False)
no_kv_cache = model.generate(
    prompt, max_new_tokens=8, do_sample=False, stop_at_eos=False, use_past_kv_cache=False, verbose=False
)
print("prompt:", prompt[0].tolist())
print("greedy:", greedy[0].tolist())
print("same without the KV cache:", torch.equal(greedy, no_kv_cache))
seed_everything(1)
sampled = model.generate(prompt, max_new_tokens=8, temperature=1.0, stop_at_eos=False, verbose=False)
print("sampled tokens after the prompt:", len(sampled[0]) - prompt.shape[1])
