# Estimate a model's memory from its config, then
# check the estimate against the shipped models.
import torch

from mi_course import load_model, model_card, seed_everything
from mi_course.memory import TransformerShape, estimate_memory

seed_everything(0)
gpt2_small = TransformerShape(
    n_layers=12,
    d_model=768,
    n_heads=12,
    d_vocab=50257,
    n_ctx=1024,
    d_mlp=3072,
    tied_embeddings=True,
)
for dtype in (torch.float32, torch.bfloat16):
    print(
        f"GPT-2 small, {dtype}, batch 8 x 1024 tokens:",
        estimate_memory(gpt2_small, batch=8, seq_len=1024, dtype=dtype),
    )

# The same arithmetic against what PyTorch really
# allocates, on the course's models (batch 4 x 32 tokens).
for name in ["induction-2l", "shakespeare-char"]:
    model = load_model(name, device="cpu")
    estimate = estimate_memory(
        TransformerShape.from_config(model_card(name).config), batch=4, seq_len=32
    )
    weights = sum(
        parameter.numel() * parameter.element_size() for parameter in model.parameters()
    )
    with torch.inference_mode():
        _, cache = model.run_with_cache(torch.zeros(4, 32, dtype=torch.long))
    # Many hook names are aliases of one tensor: count each storage once.
    storages = {
        tensor.untyped_storage().data_ptr(): tensor.untyped_storage().nbytes()
        for tensor in cache.values()
    }
    activations = sum(storages.values())
    # One AdamW step creates a gradient and two moment tensors per parameter.
    optimizer = torch.optim.AdamW(model.parameters())
    model(torch.zeros(1, 8, dtype=torch.long), return_type="loss").backward()
    optimizer.step()
    state = [
        tensor
        for moments in optimizer.state.values()
        for tensor in moments.values()
        if tensor.ndim > 0
    ]
    training_state = sum(
        tensor.numel() * tensor.element_size()
        for tensor in state + [p.grad for p in model.parameters()]
    )
    print(f"{name}:")
    print(
        f"  weights         {estimate.weights_bytes:>9,} B estimated, "
        f"{weights:>9,} B measured"
    )
    print(
        f"  training state  {estimate.training_state_bytes:>9,} B estimated, "
        f"{training_state:>9,} B measured"
    )
    print(
        f"  activations     {estimate.activations_bytes:>9,} B estimated, "
        f"{activations:>9,} B measured "
        f"({(estimate.activations_bytes - activations) / activations:+.1%})"
    )

try:
    TransformerShape(n_layers=2, d_model=100, n_heads=3, d_vocab=50, n_ctx=64)
except ValueError as error:
    print(error)
