# What GPT-2 small, Pythia-1.4B and Llama-3.1-70B need in memory, by the course's
# calculator and by their weights; and what a patched run sends back.
import torch
from transformers import (
    GPT2Config,
    GPT2LMHeadModel,
    GPTNeoXConfig,
    GPTNeoXForCausalLM,
    LlamaConfig,
    LlamaForCausalLM,
)

from mi_course import seed_everything
from mi_course.memory import GIB, TransformerShape, estimate_memory

seed_everything(0)
# Each model's sizes, from its Hugging Face config. The calculator sees a GPT-2 block:
# every head with its own keys and values, an MLP of two matrices, learned positions.
# Pythia and Llama use rotary positions; Llama's 64 query heads
# share 8 key-value heads, and its MLP has three matrices.
models = {
    "GPT-2 small": (
        TransformerShape(
            n_layers=12,
            d_model=768,
            n_heads=12,
            d_vocab=50257,
            n_ctx=1024,
            d_mlp=3072,
            tied_embeddings=True,
        ),
        GPT2LMHeadModel,
        GPT2Config(),
    ),
    "Pythia-1.4B": (
        TransformerShape(
            n_layers=24, d_model=2048, n_heads=16, d_vocab=50304, n_ctx=2048, d_mlp=8192
        ),
        GPTNeoXForCausalLM,
        GPTNeoXConfig(
            hidden_size=2048,
            intermediate_size=8192,
            num_hidden_layers=24,
            num_attention_heads=16,
            vocab_size=50304,
            max_position_embeddings=2048,
        ),
    ),
    "Llama-3.1-70B": (
        TransformerShape(
            n_layers=80,
            d_model=8192,
            n_heads=64,
            d_vocab=128256,
            n_ctx=2048,
            d_mlp=28672,
        ),
        LlamaForCausalLM,
        LlamaConfig(
            hidden_size=8192,
            intermediate_size=28672,
            num_hidden_layers=80,
            num_attention_heads=64,
            num_key_value_heads=8,
            vocab_size=128256,
            tie_word_embeddings=False,
        ),
    ),
}
for name, (shape, architecture, config) in models.items():
    estimate = estimate_memory(shape, batch=1, seq_len=1024, dtype=torch.bfloat16)
    print(f"{name}, bfloat16, 1 x 1024 tokens cached:", estimate)
    # the architecture without its weights: shapes only, no memory
    with torch.device("meta"):
        parameters = sum(
            parameter.numel() for parameter in architecture(config).parameters()
        )
    print(
        f"  billions of parameters: calculator {estimate.parameters / 1e9:.3f}, "
        f"architecture {parameters / 1e9:.3f}, "
        f"whose weights in bfloat16 take {parameters * 2 / GIB:.1f} GiB"
    )

# What one patched run of Llama-3.1-70B on 20 prompts of 15
# tokens sends back from NDIF, by what it saves (bfloat16).
batch, tokens, llama = 20, 15, models["Llama-3.1-70B"][0]
saved = {
    "the logits": batch * tokens * llama.d_vocab,
    "one block's input": batch * tokens * llama.d_model,
    "the residual stream at the last position": batch * llama.d_model,
}
element = torch.empty((), dtype=torch.bfloat16).element_size()
print(
    "saved from one run of Llama-3.1-70B: "
    + ", ".join(
        f"{what} {element * count / 1024**2:.2f} MiB" for what, count in saved.items()
    )
    + f"; the metric, one number, {element} bytes"
)
