"""Path patching on gpt2-twin: what it computes, that patching all of a head's inputs equals patching its output, and the
checker of the IOI chapter's path-patching exercise, which must reject plausible mistakes."""

import functools
import re

import pytest
import torch

from mi_course import load_model, path_patching
from mi_course.checkers.ioi import check_path_patch
from mi_course.interventions import patch_heads
from tests.bad_input import Bad, assert_refused, bad_input_params, shared_kit


def test_patching_every_sender_to_the_logits_restores_the_clean_run(twin):
    model, clean, corrupted, metric = twin
    every_head = [(layer, head) for layer in range(model.cfg.n_layers) for head in range(model.cfg.n_heads)]
    # The prompts end on the same word in both runs, so with every head clean the last position is the clean run's.
    assert path_patching.path_patch(model, clean, corrupted, every_head, metric).item() == pytest.approx(1, abs=1e-4)
    assert path_patching.path_patch(model, clean, clean, [(0, 2)], metric).item() == pytest.approx(1, abs=1e-4)
    assert path_patching.path_patch(model, corrupted, corrupted, [(0, 2)], metric).item() == pytest.approx(0, abs=1e-4)


def test_a_last_layer_sender_to_the_logits_is_its_activation_patching(twin):
    """Nothing after the last layer's heads is a head, so freezing changes nothing there."""
    model, clean, corrupted, metric = twin
    last = model.cfg.n_layers - 1
    patched = patch_heads(model, clean, corrupted, metric)[last, 3]
    assert path_patching.path_patch(model, clean, corrupted, [(last, 3)], metric).item() == pytest.approx(
        patched.item(), abs=1e-5
    )


def test_the_receivers_queries_keys_and_values_together_carry_all_that_reaches_them(twin):
    """Patching q, k and v of a head is patching its output (the bridge's q, k, v hooks are live, not stale aliases: TL #1317)."""
    model, clean, corrupted, metric = twin
    layer_0 = [(0, head) for head in range(model.cfg.n_heads)]
    together = path_patching.path_patch(model, clean, corrupted, layer_0, metric, [(1, 3)], ("q", "k", "v")).item()
    assert abs(together) > 0.05
    # Layer 1's heads read only layer 0's heads and the (identical) embeddings, so q, k and v from layer 0 are all of their input.
    output_patched = patch_heads(model, clean, corrupted, metric)[1, 3].item()
    assert together == pytest.approx(output_patched, abs=1e-4)


# --- the exercises' checkers ----------------------------------------------------------------------------------------


def test_the_courses_path_patching_passes_its_checker():
    report = check_path_patch(path_patching.path_patch)
    assert report.passed, str(report)


def path_variant(freeze=True, swap=False, every_receiver_head=False, every_input=False, freeze_with_receivers=True):
    """A learner's path patching, written apart from the course's, with one mistake switched on."""

    def path_patch(model, clean_tokens, corrupted_tokens, senders, metric, receivers=None, receiver_inputs=("q",)):
        if swap:
            clean_tokens, corrupted_tokens = corrupted_tokens, clean_tokens
        _, clean = model.run_with_cache(clean_tokens)
        _, corrupted = model.run_with_cache(corrupted_tokens)
        hooks = []
        for layer in range(model.cfg.n_layers):
            name = f"blocks.{layer}.attn.hook_z"

            def hook(z, hook, name=name, layer=layer):
                z = (corrupted[name] if freeze and (receivers is None or freeze_with_receivers) else z).clone()
                for sender_layer, head in senders:
                    if sender_layer == layer:
                        z[:, :, head] = clean[name][:, :, head]
                return z

            hooks.append((name, hook))
        if receivers is None:
            return metric(model.run_with_hooks(corrupted_tokens, fwd_hooks=hooks))
        parts = "qkv" if every_input else receiver_inputs
        names = {f"blocks.{layer}.attn.hook_{part}": layer for layer, _ in receivers for part in parts}
        seen = {}

        def remember(a, hook, name):
            seen[name] = a.clone()
            return a

        hooks += [(name, functools.partial(remember, name=name)) for name in names]
        model.run_with_hooks(corrupted_tokens, fwd_hooks=hooks)
        patches = []
        for name, layer in names.items():
            heads = range(model.cfg.n_heads) if every_receiver_head else [h for l, h in receivers if l == layer]

            def patch(a, hook, name=name, heads=list(heads)):
                a = a.clone()
                a[:, :, heads] = seen[name][:, :, heads]
                return a

            patches.append((name, patch))
        return metric(model.run_with_hooks(corrupted_tokens, fwd_hooks=patches))

    return path_patch


def frozen_between(model, clean_tokens, corrupted_tokens, senders, metric, receivers=None, receiver_inputs=("q",)):
    """Another learner's correct path patching: it freezes only the layers between the first sender and the last receiver
    (the others cannot change what the receivers read), and patches the receivers with a mask in one hook per input."""
    z = lambda layer: f"blocks.{layer}.attn.hook_z"  # noqa: E731
    _, clean = model.run_with_cache(clean_tokens, names_filter=lambda name: name.endswith("hook_z"))
    _, corrupted = model.run_with_cache(corrupted_tokens, names_filter=lambda name: name.endswith("hook_z"))
    first = min(layer for layer, _ in senders)
    last = model.cfg.n_layers if receivers is None else max(layer for layer, _ in receivers)
    sending = torch.zeros(model.cfg.n_layers, model.cfg.n_heads, dtype=torch.bool)
    sending[tuple(zip(*senders, strict=True))] = True

    def freeze(activation, hook, layer):
        return torch.where(sending[layer][:, None], clean[z(layer)], corrupted[z(layer)])

    step_1 = [(z(layer), functools.partial(freeze, layer=layer)) for layer in range(first, last)]
    if receivers is None:
        return metric(model.run_with_hooks(corrupted_tokens, fwd_hooks=step_1))
    receiving = torch.zeros(model.cfg.n_layers, model.cfg.n_heads, dtype=torch.bool)
    receiving[tuple(zip(*receivers, strict=True))] = True
    names = {f"blocks.{layer}.attn.hook_{part}": layer for layer, _ in receivers for part in receiver_inputs}
    sent = {}
    model.run_with_hooks(
        corrupted_tokens,
        fwd_hooks=step_1 + [(name, lambda a, hook, name=name: sent.setdefault(name, a.clone())) for name in names],
    )
    return metric(
        model.run_with_hooks(
            corrupted_tokens,
            fwd_hooks=[
                (name, lambda a, hook, name=name, layer=layer: torch.where(receiving[layer][:, None], sent[name], a))
                for name, layer in names.items()
            ],
        )
    )


def test_freezing_the_heads_between_senders_and_receivers_changes_the_checkers_shakespeare_case():
    """On gpt2-twin every receiver is one layer above its senders, where freezing is a no-op; on shakespeare-char it is not."""
    from mi_course.checkers.ioi import _PATH_CASES, _path_variant, _repeat_case

    model = load_model("shakespeare-char", device="cpu")
    clean, corrupted, metric = _repeat_case()
    for name, senders, receivers, inputs in _PATH_CASES:
        if name == "shakespeare-char":
            frozen = path_patching.path_patch(model, clean, corrupted, senders, metric, receivers, inputs).item()
            with torch.inference_mode():
                loose = _path_variant(model, clean, corrupted, senders, metric, receivers, inputs, freeze=False).item()
            assert abs(frozen - loose) > 0.03, (senders, frozen, loose)  # the checker's tolerance is 1e-4


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (path_variant(freeze=False), "nothing was frozen"),
        (
            path_variant(freeze_with_receivers=False),
            "nothing was frozen, so the senders' effect also reached the receivers through the heads of layers 1, 2",
        ),
        (path_variant(swap=True), "you patched the corrupted run into the clean one"),
        (path_variant(every_receiver_head=True), "every head of layer 1 received"),
        (path_variant(every_input=True), "you patched all of the receivers' inputs"),
    ],
)
def test_the_path_patching_checker_names_each_mistake(wrong, hint):
    report = check_path_patch(wrong)
    assert not report.passed and hint in str(report), str(report)


@pytest.mark.parametrize("learners", [path_variant(), frozen_between])
def test_the_learners_path_patching_without_a_mistake_passes(learners):
    report = check_path_patch(learners)
    assert report.passed, str(report)


# --- bad input ------------------------------------------------------------------------------------------------------


BAD_INPUTS: dict[str, list[Bad]] = {
    "mi_course.path_patching:path_patch": [
        Bad(
            lambda k: path_patching.path_patch(*k.twin_patching_case[:3], [(2, 0)], k.twin_patching_case[3]),
            ValueError,
            re.escape("path_patch expected the layer of each of senders >= 0 and <= 1, got 2"),
        ),
        Bad(
            lambda k: path_patching.path_patch(*k.twin_patching_case[:3], (0, 1), k.twin_patching_case[3]),
            TypeError,
            re.escape("path_patch expected each of senders to be a (layer, head) pair, got 0"),
        ),
        Bad(
            lambda k: path_patching.path_patch(*k.twin_patching_case[:3], [(1, 0)], k.twin_patching_case[3], [(1, 3)]),
            ValueError,
            re.escape(
                "path_patch: receivers 1.3 are not in a layer after every sender's (the first sender is in layer 1)"
            ),
        ),
        Bad(
            lambda k: path_patching.path_patch(
                *k.twin_patching_case[:3], [(0, 0)], k.twin_patching_case[3], [(1, 3)], "query"
            ),
            ValueError,
            re.escape("path_patch expected receiver_inputs to be some of q, k, v, got 'query'"),
        ),
        Bad(
            lambda k: path_patching.path_patch(
                *k.twin_patching_case[:2], k.twin_patching_case[2][:, :-1], [(0, 0)], k.twin_patching_case[3]
            ),
            ValueError,
            re.escape("path_patch expected clean and corrupted tokens of one shape, got (2, 15) and (2, 14)"),
        ),
    ],
}
NO_BAD_INPUT: dict[str, str] = {}


@pytest.mark.parametrize("case", bad_input_params(BAD_INPUTS))
def test_bad_input_raises_a_clear_error(case, tmp_path_factory):
    assert_refused(case, shared_kit(tmp_path_factory))


def test_the_ioi_check_judges_exactly_the_code_the_pages_solutions_show():
    """`check ioi` runs no snippet: it is honest only if the page's solutions include the package's functions."""
    from mi_course.checkers import STEP_CHECKS
    from site_tools.pages import Snippet
    from tests.test_step3 import ROOT, as_shown

    solutions = {
        "ioi_metric": ("ioi_circuit/ioi_metric_solution.py", "mi_course/ioi.py:ioi-metric"),
        "path_patch": ("ioi_circuit/path_patch_solution.py", "mi_course/path_patching.py:path-patch"),
        "attribution_patch_heads": (
            "ioi_circuit/attribution_patching_solution.py",
            "mi_course/attribution_patching.py:attribution-patch-heads",
        ),
    }
    step = STEP_CHECKS["ioi"]
    assert set(step.taught_objects()) == set(solutions) and step.solution_paths() == []
    for name, taught in step.taught_objects().items():
        path, section = solutions[name]
        snippet = Snippet(path, ROOT)
        assert (
            section in snippet.includes
            and as_shown(taught) in snippet.script
            and snippet.script.count(f"def {name}(") == 1
        )
    report = step.run()
    assert report.passed and [result.name for result in report.results] == list(solutions), str(report)
