"""mi_course.checkers.ioi: the checkers of the IOI chapter's exercises, the IOI metric, path patching and attribution
patching, pass the course's solutions and a learner's correct versions, and name each plausible mistake.

The functions they check are tested in tests/test_ioi.py, tests/test_path_patching.py and
tests/test_attribution_patching.py; the bad-input cases of the checkers that tests/test_bad_input.py
scans for are in tests/test_checkers.py.
"""

import functools

import pytest
import torch

from mi_course import attribution_patching, ioi, load_model, path_patching
from mi_course.checkers.ioi import check_attribution_patching, check_ioi_metric, check_path_patch

# --- the IOI metric -------------------------------------------------------------------------------------------------


def test_the_courses_ioi_metric_passes_its_checker():
    report = check_ioi_metric(ioi.ioi_metric)
    assert report.passed, str(report)


def metric_variant(
    position=lambda logits, prompts: prompts.end,
    normalise=True,
    scores=lambda last: last,
    item=False,
    clamp=False,
):
    def ioi_metric(prompts, clean_logits, corrupted_logits):
        rows = torch.arange(len(prompts))

        def difference(logits):
            last = scores(logits[rows, position(logits, prompts)])
            return (last[rows, prompts.io] - last[rows, prompts.s]).mean()

        clean, corrupted = difference(clean_logits), difference(corrupted_logits)

        def metric(logits):
            value = (difference(logits) - corrupted) / (clean - corrupted) if normalise else difference(logits)
            value = value.clamp(0, 1) if clamp else value
            return value.item() if item else value

        return metric

    return ioi_metric


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (
            metric_variant(position=lambda logits, prompts: -1),
            "you read the last position of the tensor, -1, which is padding",
        ),
        (
            metric_variant(position=lambda logits, prompts: prompts.end[0]),
            "you read every prompt at the first prompt's last position",
        ),
        (metric_variant(scores=lambda last: last.softmax(dim=-1)), "that is a difference of probabilities"),
        (metric_variant(normalise=False), "that is the mean logit difference itself: rescale it"),
        (metric_variant(item=True), "return the tensor, not .item()"),
        (metric_variant(clamp=True), "the clean logits should score 1 and the corrupted 0"),
    ],
)
def test_the_ioi_metric_checker_names_each_mistake(wrong, hint):
    report = check_ioi_metric(wrong)
    assert not report.passed and hint in str(report), str(report)


def test_a_sign_error_in_the_logit_difference_cancels_in_the_normalised_metric():
    """S - IO instead of IO - S flips clean and corrupted alike, so the normalised metric is the same: not a mistake to catch."""
    s_minus_io = metric_variant(scores=lambda last: -last)
    assert check_ioi_metric(s_minus_io).passed


# --- path patching --------------------------------------------------------------------------------------------------


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


# --- attribution patching -------------------------------------------------------------------------------------------


def test_the_courses_attribution_patching_passes_its_checker():
    report = check_attribution_patching(attribution_patching.attribution_patch_heads)
    assert report.passed, str(report)


def attribution_variant(sign=1, gradient_run="corrupted", reduce="sum"):
    def attribution_patch_heads(model, clean_tokens, corrupted_tokens, metric):
        names = [f"blocks.{layer}.attn.hook_z" for layer in range(model.cfg.n_layers)]
        _, clean = model.run_with_cache(clean_tokens)
        _, corrupted = model.run_with_cache(corrupted_tokens)
        kept = {}

        def keep(z, hook, name):
            z.retain_grad()
            kept[name] = z
            return z

        model.zero_grad()
        tokens = corrupted_tokens if gradient_run == "corrupted" else clean_tokens
        metric(
            model.run_with_hooks(tokens, fwd_hooks=[(name, functools.partial(keep, name=name)) for name in names])
        ).backward()
        out = []
        for name in names:
            product = sign * (clean[name] - corrupted[name]) * kept[name].grad
            out.append(product.sum(dim=(0, 3)) if reduce == "sum" else product.mean(dim=0).sum(dim=-1))
        model.zero_grad(set_to_none=True)
        return torch.stack(out).transpose(1, 2)

    return attribution_patch_heads


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (attribution_variant(sign=-1), "the sign is flipped"),
        (attribution_variant(gradient_run="clean"), "you took the gradient in the clean run"),
        (attribution_variant(reduce="mean"), "you averaged over the batch"),
    ],
)
def test_the_attribution_patching_checker_names_each_mistake(wrong, hint):
    report = check_attribution_patching(wrong)
    assert not report.passed and hint in str(report), str(report)


def test_the_learners_attribution_patching_with_backward_passes():
    """The usual way, .retain_grad() and .backward(), gives the course's numbers too."""
    assert check_attribution_patching(attribution_variant()).passed
