"""gpt2-twin: a 2-layer model of GPT-2's exact architecture and tokenizer, trained here to do IOI.

It is a ``transformers`` ``GPT2LMHeadModel`` (GPT-2's config class, tied embeddings, GPT-2's
50,257-token BPE), saved as a Hugging Face model folder, so ``load_model`` boots it with the call
that boots GPT-2 small. Its data mixes three sources in every step:

- IOI prompts (``mi_course.ioi``) from the training templates and training names, with the loss on
  the next token only: the indirect object;
- short sentences that name one person twice ("Mary liked the park, and Mary stayed there"), over
  the training names and the held-out names, with the loss on the two names. They give every name
  an embedding that a copying head can read, as GPT-2's pretraining text does; without them the
  held-out names kept their random initial embeddings and IOI on them stayed at chance (0.48);
- windows of Shakespeare (the ``shakespeare`` package), BPE-tokenised, with the loss on 8 random
  positions of each window.

The unembedding (50,257 x 128) is most of the cost of a step, so the loss is taken where it
teaches: one position per IOI prompt, a sample of positions per Shakespeare window. Its metrics
are IOI on held-out templates and names, against chance and against the untrained model.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import Tensor
from tqdm import tqdm
from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

from mi_course import _checks, ioi
from mi_course.datasets import SHAKESPEARE_PIN, load_shakespeare
from mi_course.runtime import progress, seed_everything
from mi_course.tokenization import GPT2_VOCAB_SIZE, gpt2_tokenizer
from mi_course.training import TrainedModel
from mi_course.zoo import ModelCard

NAME_SENTENCES = (
    " {N} was at the {PLACE}, and then {N} had a {OBJECT}.",
    " Everyone at the {PLACE} knew {N}, because {N} had a {OBJECT}.",
    " {N} walked to the {PLACE}. Later {N} found a {OBJECT}.",
    " The {OBJECT} belonged to {N}, so {N} took it to the {PLACE}.",
    " {N} liked the {PLACE}, and {N} stayed there.",
)


@dataclass(frozen=True)
class TwinRecipe:
    """gpt2-twin's architecture, data mix and optimiser settings."""

    n_layers: int = 2
    d_model: int = 128
    n_heads: int = 4
    n_ctx: int = 64
    steps: int = 800
    lr: float = 3e-3
    warmup_steps: int = 50
    weight_decay: float = 0.01
    ioi_rows: int = 64
    name_rows: int = 32
    shakespeare_rows: int = 16
    shakespeare_positions: int = 8
    seed: int = 0

    def config(self) -> GPT2Config:
        return GPT2Config(
            n_layer=self.n_layers,
            n_embd=self.d_model,
            n_head=self.n_heads,
            n_positions=self.n_ctx,
            n_inner=4 * self.d_model,
            vocab_size=GPT2_VOCAB_SIZE,
            resid_pdrop=0.0,
            embd_pdrop=0.0,
            attn_pdrop=0.0,
            bos_token_id=GPT2_VOCAB_SIZE - 1,
            eos_token_id=GPT2_VOCAB_SIZE - 1,
            tie_word_embeddings=True,
        )

    def lr_at(self, step: int) -> float:
        """Linear warmup, then cosine decay to zero."""
        return (
            self.lr
            * min(1.0, (step + 1) / self.warmup_steps)
            * 0.5
            * (1 + math.cos(math.pi * step / self.steps))
        )


TWIN_RECIPE = TwinRecipe()


def train_twin(recipe: TwinRecipe = TWIN_RECIPE) -> TrainedModel:
    """Train gpt2-twin from its seed; its card reports IOI on held-out templates and names."""
    _checks.instance(recipe, TwinRecipe, "train_twin", "recipe")
    seed_everything(recipe.seed)
    model = GPT2LMHeadModel(recipe.config())
    untrained = ioi_metrics(model)
    text = load_shakespeare()
    cut = int(0.9 * len(text))
    tokenizer = gpt2_tokenizer()
    shakespeare = torch.tensor(tokenizer(text[:cut]).input_ids)
    draw = random.Random(recipe.seed)
    optimizer = torch.optim.AdamW(
        model.parameters(),
        lr=recipe.lr,
        betas=(0.9, 0.99),
        weight_decay=recipe.weight_decay,
    )
    model.train()
    start = time.perf_counter()
    for step in progress(range(recipe.steps), recipe.steps, "gpt2-twin"):
        for group in optimizer.param_groups:
            group["lr"] = recipe.lr_at(step)
        loss = (
            _ioi_loss(model, recipe, step)
            + _name_loss(model, recipe, tokenizer, draw)
            + _shakespeare_loss(model, recipe, shakespeare, draw)
        )
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if (step + 1) % 100 == 0:
            with (
                tqdm.external_write_mode()
            ):  # the line goes above the bar, not through it
                print(
                    f"step {step + 1}/{recipe.steps}: loss {loss.item():.3f} ({time.perf_counter() - start:.0f} s)",
                    flush=True,
                )
    seconds = time.perf_counter() - start
    model.eval()
    card = ModelCard(
        name="gpt2-twin",
        description="A 2-layer GPT-2 (transformers' GPT2LMHeadModel, GPT-2's tokenizer) trained on IOI prompts, "
        "name sentences and Shakespeare; a stand-in for GPT-2 small that runs offline.",
        config=model.config.to_diff_dict() | {"model_type": "gpt2"},
        tokenizer={"kind": "gpt2"},
        sha256="",
        data=f"IOI prompts ({len(ioi.TRAINING_TEMPLATES)} templates, {len(ioi.TRAINING_NAMES)} names), name sentences, "
        f"and the first 90% of {SHAKESPEARE_PIN} in GPT-2 BPE",
        training={
            "command": "python -m mi_course train gpt2-twin",
            "recipe": asdict(recipe),
            "seconds": round(seconds, 1),
            "threads": torch.get_num_threads(),
            "loss_positions": "IOI prompts: the answer; name sentences: the two names; Shakespeare: 8 sampled per window",
        },
        metrics={
            "ioi": ioi_metrics(model),
            "ioi_untrained": untrained,
            "held_out_shakespeare_loss": _held_out_loss(model, text[cut:]),
            "uniform_loss": round(math.log(GPT2_VOCAB_SIZE), 4),
        },
    )
    state = {
        name: tensor
        for name, tensor in model.state_dict().items()
        if name != "lm_head.weight"
    }  # tied to wte
    return TrainedModel(state, card, {"config.json": model.config.to_json_string()})


@torch.inference_mode()
def ioi_metrics(model: GPT2LMHeadModel, n: int = 500) -> dict[str, dict[str, float]]:
    """IOI accuracy (IO above S) and mean logit difference, on each split of templates and names; chance is 0.5 and 0."""
    _checks.instance(model, GPT2LMHeadModel, "ioi_metrics", "model")
    _checks.integer(n, "ioi_metrics", "n", minimum=1)
    splits = {
        "training templates, training names": (
            ioi.TRAINING_TEMPLATES,
            ioi.TRAINING_NAMES,
        ),
        "held-out templates, held-out names": (
            ioi.HELD_OUT_TEMPLATES,
            ioi.HELD_OUT_NAMES,
        ),
        "held-out templates, unseen names": (ioi.HELD_OUT_TEMPLATES, ioi.UNSEEN_NAMES),
    }
    metrics = {}
    for split, (templates, names) in splits.items():
        prompts = ioi.ioi_prompts(n, templates=templates, names=names, seed=123)
        rows = torch.arange(n)
        # Only each prompt's last position is scored, so only it goes through the unembedding
        # (50,257 logits at every position of 500 prompts would be 1.5 GB).
        last = model.transformer(prompts.tokens).last_hidden_state[rows, prompts.end]
        logits = model.lm_head(last)
        diffs = logits[rows, prompts.io] - logits[rows, prompts.s]
        metrics[split] = {
            "accuracy": round((diffs > 0).float().mean().item(), 3),
            "logit_diff": round(diffs.mean().item(), 3),
        }
    return metrics


def _ioi_loss(model: GPT2LMHeadModel, recipe: TwinRecipe, step: int) -> Tensor:
    prompts = ioi.ioi_prompts(
        recipe.ioi_rows,
        templates=ioi.TRAINING_TEMPLATES,
        names=ioi.TRAINING_NAMES,
        seed=recipe.seed * 100_003 + step,
    )
    hidden = model.transformer(prompts.tokens).last_hidden_state[
        torch.arange(len(prompts)), prompts.end
    ]
    return F.cross_entropy(model.lm_head(hidden), prompts.io)


def _name_loss(
    model: GPT2LMHeadModel,
    recipe: TwinRecipe,
    tokenizer: PreTrainedTokenizerFast,
    draw: random.Random,
) -> Tensor:
    names = ioi.TRAINING_NAMES + ioi.HELD_OUT_NAMES
    rows = [
        [
            tokenizer.bos_token_id,
            *tokenizer(
                draw.choice(NAME_SENTENCES).format(
                    N=draw.choice(names),
                    PLACE=draw.choice(ioi.PLACES),
                    OBJECT=draw.choice(ioi.OBJECTS),
                )
            ).input_ids,
        ]
        for _ in range(recipe.name_rows)
    ]
    width = max(map(len, rows))
    tokens = torch.tensor(
        [row + [tokenizer.bos_token_id] * (width - len(row)) for row in rows]
    )
    targets = tokens[:, 1:]
    is_name = torch.isin(
        targets, torch.tensor([ioi.name_token(name) for name in names])
    )  # both mentions
    hidden = model.transformer(tokens[:, :-1]).last_hidden_state[is_name]
    return F.cross_entropy(model.lm_head(hidden), targets[is_name])


def _shakespeare_loss(
    model: GPT2LMHeadModel, recipe: TwinRecipe, shakespeare: Tensor, draw: random.Random
) -> Tensor:
    starts = [
        draw.randrange(len(shakespeare) - recipe.n_ctx - 1)
        for _ in range(recipe.shakespeare_rows)
    ]
    windows = torch.stack(
        [shakespeare[start : start + recipe.n_ctx + 1] for start in starts]
    )
    positions = torch.tensor(
        [draw.sample(range(recipe.n_ctx), recipe.shakespeare_positions) for _ in starts]
    )
    hidden = model.transformer(windows[:, :-1]).last_hidden_state
    picked = hidden.gather(
        1, positions[..., None].expand(-1, -1, recipe.d_model)
    ).flatten(0, 1)
    return F.cross_entropy(
        model.lm_head(picked), windows[:, 1:].gather(1, positions).flatten()
    )


@torch.inference_mode()
def _held_out_loss(model: GPT2LMHeadModel, text: str, windows: int = 64) -> float:
    """Mean loss in nats per token on the first ``windows`` windows of held-out Shakespeare."""
    ids = torch.tensor(
        gpt2_tokenizer()(text).input_ids[: windows * model.config.n_positions]
    ).view(windows, -1)
    return round(model(ids, labels=ids).loss.item(), 4)
