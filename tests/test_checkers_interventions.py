"""mi_course.checkers.interventions: the checkers of the mean-ablation hook, the ablation sweep, patching
by position and the normalised metric pass the reference and name each plausible mistake.

The bad-input cases that tests/test_bad_input.py scans for are in tests/test_checkers.py.
"""

from pathlib import Path

import pytest
import torch

from mi_course import CheckerInputError
from mi_course.checkers import (
    check_ablation_sweep,
    check_mean_ablation_hook,
    check_normalised_metric,
    check_patch_by_position,
)
from mi_course.interventions import mean_ablation_hook, zero_ablation_hook

ROOT = Path(__file__).resolve().parents[1]


def mean_hook_variant(edit):
    def make(heads):
        def hook(z, hook):
            z = z.clone()
            edit(z, heads)
            return z

        return hook

    return make


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (lambda heads: lambda z, hook: None, "z came back unchanged"),
        (lambda heads: zero_ablation_hook(heads), "that is zero ablation"),
        (lambda heads: mean_ablation_hook([h for h in range(4) if h not in heads]), "you ablated the other heads"),
        (
            mean_hook_variant(
                lambda z, h: z.__setitem__((slice(None), slice(None), h), z[:, :, h].mean(dim=(0, 1), keepdim=True))
            ),
            "take the mean over the batch only",
        ),
        (
            mean_hook_variant(
                lambda z, h: z.__setitem__((slice(None), slice(None), h), z[:, :, h].mean(dim=2, keepdim=True))
            ),
            "not the listed heads together",
        ),
        (
            mean_hook_variant(lambda z, h: z.__setitem__((slice(None), h), z[:, h].mean(dim=0, keepdim=True))),
            "you indexed positions",
        ),
        (
            lambda heads: mean_ablation_hook([0, 2]),
            "with heads [1], differs from the reference by 2.5; you ablated heads [0, 2]",
        ),
        (
            mean_hook_variant(lambda z, h: z.__setitem__((slice(None), slice(None), 3), z[:, :, 3].mean(dim=0))),
            "with heads [0, 2], differs from the reference by 2.7; you ablated heads [3]",
        ),  # hard-codes another head set
    ],
)
def test_the_mean_ablation_checker_names_each_mistake(wrong, hint):
    report = check_mean_ablation_hook(wrong)
    assert not report.passed and hint in str(report)


def test_the_mean_ablation_checker_passes_the_reference_and_rejects_bad_input():
    report = check_mean_ablation_hook(mean_ablation_hook)
    assert report.passed and "heads [0, 2], [1], [3] and [1, 2, 3]" in str(report)
    with pytest.raises(CheckerInputError, match=r"the hook: expected shape \(5, 6, 4, 3\) .* got \(6, 4, 3\)"):
        check_mean_ablation_hook(lambda heads: lambda z, hook: z.mean(0))
    with pytest.raises(CheckerInputError, match="should return a hook function, got int"):
        check_mean_ablation_hook(lambda heads: 3)


# --- the ablation sweep ---------------------------------------------------------------------------------------------


def sweep_variant(
    heads_of=lambda head, n_heads: [head],
    mean_dims=(0,),
    kind_of=lambda kind: kind,
    result=lambda ablated, clean: ablated - clean,
):
    def sweep(model, tokens, metric, kind):
        kind = kind_of(kind)

        def make_hook(heads):
            def hook(z, hook):
                z = z.clone()
                z[:, :, heads] = 0.0 if kind == "zero" else z[:, :, heads].mean(dim=mean_dims, keepdim=True)
                return z

            return hook

        clean = metric(model(tokens))
        changes = torch.zeros(model.cfg.n_layers, model.cfg.n_heads)
        for layer in range(model.cfg.n_layers):
            for head in range(model.cfg.n_heads):
                hooks = [(f"blocks.{layer}.attn.hook_z", make_hook(heads_of(head, model.cfg.n_heads)))]
                changes[layer, head] = result(metric(model.run_with_hooks(tokens, fwd_hooks=hooks)), clean)
        return changes

    return sweep


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (
            sweep_variant(heads_of=lambda head, n_heads: list(range(n_heads))),
            "you ablated all the heads of the layer at once",
        ),
        (
            sweep_variant(mean_dims=(1,)),
            "take the mean over the batch (dim 0), position by position, not over the positions (dim 1)",
        ),
        (sweep_variant(mean_dims=(0, 1)), "not over positions too"),
        (sweep_variant(result=lambda ablated, clean: ablated), "that is the ablated run's metric: return its change"),
        (sweep_variant(result=lambda ablated, clean: clean - ablated), "the sign is flipped"),
        (sweep_variant(kind_of=lambda kind: "zero"), "that is zero ablation: kind='mean' asks for mean ablation"),
        (sweep_variant(kind_of=lambda kind: "mean"), "with kind='zero' and 4 sequences, differs from the reference"),
    ],
)
def test_the_ablation_sweep_checker_names_each_mistake(wrong, hint):
    report = check_ablation_sweep(wrong)
    assert not report.passed and hint in str(report), str(report)


# --- activation patching and the normalised metric ------------------------------------------------------------------


def patching_variant(positions_of=lambda position: position, heads_of=lambda head: head, swap=False, in_place=False):
    def patch_by_position(model, clean_tokens, corrupted_tokens, hook_names, metric, head=None):
        if swap:
            clean_tokens, corrupted_tokens = corrupted_tokens, clean_tokens
        _, clean_cache = model.run_with_cache(clean_tokens)
        _, corrupted_cache = model.run_with_cache(corrupted_tokens)
        results = torch.zeros(len(hook_names), clean_tokens.shape[1])
        for row, name in enumerate(hook_names):
            for position in range(clean_tokens.shape[1]):
                chosen = heads_of(head)
                where = (
                    (slice(None), positions_of(position))
                    if chosen is None
                    else (slice(None), positions_of(position), chosen)
                )
                if in_place:
                    patched = corrupted_cache[name]  # forgot .clone(): edits the cached tensor itself
                    patched[where] = clean_cache[name][where]
                    hook = lambda activation, hook, patched=patched: patched  # noqa: E731
                else:

                    def hook(activation, hook, where=where, name=name):
                        activation = activation.clone()
                        activation[where] = clean_cache[name][where]
                        return activation

                results[row, position] = metric(model.run_with_hooks(corrupted_tokens, fwd_hooks=[(name, hook)]))
        return results

    return patch_by_position


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (patching_variant(swap=True), "you patched the corrupted activation into the clean run"),
        (patching_variant(positions_of=lambda position: slice(None)), "you patched every position at once"),
        (patching_variant(in_place=True), "your patches add up: position p's run also had positions 0..p-1 patched"),
        (
            patching_variant(heads_of=lambda head: None),
            "with hooks blocks.0.attn.hook_z, blocks.1.attn.hook_z, head 2, ",
        ),
        (patching_variant(heads_of=lambda head: None), "you patched every head at that position"),
        (
            patching_variant(positions_of=lambda position: max(position - 1, 0)),
            "entry [i, p] is metric(the corrupted run with the clean",
        ),
    ],
)
def test_the_patching_checker_names_each_mistake(wrong, hint):
    report = check_patch_by_position(wrong)
    assert not report.passed and hint in str(report), str(report)


def normalised_variant(rescale):
    def normalised_metric(metric, clean_logits, corrupted_logits):
        clean, corrupted = metric(clean_logits), metric(corrupted_logits)
        return lambda logits: rescale(metric(logits), clean, corrupted)

    return normalised_metric


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (normalised_variant(lambda value, clean, corrupted: value), "that is the metric itself: rescale it"),
        (
            normalised_variant(lambda value, clean, corrupted: (value - clean) / (corrupted - clean)),
            "clean and corrupted are swapped",
        ),
        (normalised_variant(lambda value, clean, corrupted: value - corrupted), "divide by the gap, clean - corrupted"),
        (normalised_variant(lambda value, clean, corrupted: value / clean), "subtract the corrupted run's score first"),
        (
            normalised_variant(lambda value, clean, corrupted: (value - clean) / (clean - corrupted)),
            "not the clean one's",
        ),
    ],
)
def test_the_normalised_metric_checker_names_each_mistake(wrong, hint):
    report = check_normalised_metric(wrong)
    assert not report.passed and hint in str(report), str(report)
