# The residual stream is a sum: embeddings plus
# every attention and MLP output, and nothing else.
import torch

from mi_course import get_device, load_model, seed_everything
from mi_course.scratch import load_weights_from_bridge

seed_everything(0)
device = get_device()

# the course's character-level model
bridge = load_model("shakespeare-char", device=device)
model = load_weights_from_bridge(bridge)
# BOS + 63 characters
tokens = bridge.to_tokens(
    "To be, or not to be, that is the question:\nWhether 'tis nobler"
).to(device)

with torch.inference_mode():
    pieces = {"embed": model.embed(tokens), "pos_embed": model.pos_embed(tokens)}
    residual = pieces["embed"] + pieces["pos_embed"]
    for layer, block in enumerate(model.blocks):
        pieces[f"attn_out {layer}"] = block.attn(block.ln1(residual))
        residual = residual + pieces[f"attn_out {layer}"]
        pieces[f"mlp_out {layer}"] = block.mlp(block.ln2(residual))
        residual = residual + pieces[f"mlp_out {layer}"]

    for name, piece in pieces.items():
        print(f"{name:>11}: mean norm {piece.norm(dim=-1).mean().item():.3f}")
    total = torch.stack(list(pieces.values())).sum(dim=0)
    print(
        "sum of the pieces equals the final residual:",
        torch.allclose(total, residual, atol=1e-5),
    )
    _, cache = bridge.run_with_cache(tokens)
    final = cache[f"blocks.{bridge.cfg.n_layers - 1}.hook_resid_post"]
    print("and the bridge's final residual:", torch.allclose(total, final, atol=1e-5))
    print(
        "logits from it match the model's:",
        torch.allclose(model.unembed(model.ln_final(total)), model(tokens), atol=1e-5),
    )
    # Off the training distribution the pieces change:
    # on random characters the last MLP writes far more.
    last = bridge.cfg.n_layers - 1
    # any id but BOS, the last
    random_characters = torch.randint(
        0, bridge.cfg.d_vocab - 1, (16, tokens.shape[1])
    ).to(device)
    _, random_cache = bridge.run_with_cache(random_characters)
    print(
        f"on random characters instead, the last MLP's output: mean norm "
        f"{random_cache[f'blocks.{last}.hook_mlp_out'].norm(dim=-1).mean().item():.3f}"
    )
