"""The peer benchmark tools/peer_nanogpt.py works, checked in seconds (its full run takes minutes and is not a test)."""

from __future__ import annotations

import math

import pytest
import torch

from tools import peer_nanogpt as peer


def test_the_schedule_is_nanogpts_warmup_then_cosine_decay_to_the_minimum():
    assert peer.lr_at(0) == pytest.approx(peer.LR / (peer.WARMUP + 1))
    assert peer.lr_at(peer.WARMUP) == pytest.approx(peer.LR)
    assert peer.lr_at(peer.ITERS) == pytest.approx(peer.MIN_LR)


def test_five_iterations_train_and_the_held_out_loss_starts_near_chance():
    torch.manual_seed(peer.SEED)
    d_vocab = 84
    ids = torch.randint(d_vocab, (2_000,), generator=torch.Generator().manual_seed(0))
    model = peer.BabyGPT(d_vocab)
    assert model(ids[: peer.BLOCK].unsqueeze(0)).shape == (1, peer.BLOCK, d_vocab)
    untrained = peer.held_out_loss(model.eval(), ids)
    assert untrained == pytest.approx(math.log(d_vocab), abs=0.05)  # small initial weights: near-uniform predictions
    before = model.embed.weight.clone()
    seconds = peer.train(model.train(), ids, 5, torch.Generator().manual_seed(peer.SEED))
    assert seconds > 0 and not torch.equal(before, model.embed.weight)
    assert math.isfinite(peer.held_out_loss(model.eval(), ids))
