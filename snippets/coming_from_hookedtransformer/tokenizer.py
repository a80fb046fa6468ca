# to_tokens and to_str_tokens need a tokenizer. A model
# built from a config has none until you give it one.
from mi_course import get_device
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformer_lens import TransformerBridge, TransformerBridgeConfig
from transformers import PreTrainedTokenizerFast

device = get_device()
cfg = TransformerBridgeConfig(
    d_model=64,
    d_head=16,
    n_heads=4,
    n_layers=2,
    n_ctx=64,
    d_vocab=50,
    d_mlp=256,
    act_fn="gelu_new",
    normalization_type="LN",
    positional_embedding_type="standard",
    seed=0,
)
model = TransformerBridge.boot_native(cfg, device=device)
print("model.tokenizer:", model.tokenizer)
try:
    model.to_tokens("hello")
except AssertionError as error:
    print(f"to_tokens: {type(error).__name__}: {error}")

# A character-level tokenizer, built in memory:
# one token per character, "<" is BOS and ">" EOS.
chars = "<> abcdefghijklmnopqrstuvwxyz.,!?'"
vocab = {char: index for index, char in enumerate(chars)}
core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="?"))
core.pre_tokenizer = pre_tokenizers.Split("", behavior="isolated")
core.decoder = decoders.Fuse()
# name_or_path and add_bos_token=True keep
# TransformerLens from trying to reload it from the Hub.
tokenizer = PreTrainedTokenizerFast(
    tokenizer_object=core,
    bos_token="<",
    eos_token=">",
    unk_token="?",
    add_bos_token=True,
    name_or_path="chars",
)
model = TransformerBridge.boot_native(cfg, tokenizer=tokenizer, device=device)
print(model.to_tokens("hi there").tolist())
print(model.to_str_tokens("hi there"))
print(model.to_str_tokens("hi there", prepend_bos=False))
print(repr(model.to_string(model.to_tokens("hi there", prepend_bos=False)[0])))
