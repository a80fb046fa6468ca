"""Checkers for the IOI chapter's exercises: the IOI metric, path patching and attribution patching.

Introduced on the page "Build on a paper: the IOI circuit". Each runs your function and the
course's reference on gpt2-twin, with prompts of the held-out templates (which differ in length,
so the batch is padded), and when they differ compares your output with common mistakes. Path
patching also runs on the 4-layer shakespeare-char, where heads sit between the senders and the
receivers, so that freezing them changes the answer (in the 2-layer twin it cannot).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
from torch import Tensor

from mi_course import attribution_patching, ioi, path_patching
from mi_course.checkers.harness import (
    MODEL_ATOL,
    call_tensor,
    check_callable,
    diagnose,
    report,
    returned_number,
    shipped,
)
from mi_course.checkers.report import CheckerInputError, CheckReport

MODEL = "gpt2-twin"
_PROMPTS = 8  # of the held-out templates, drawn with seed 1: their lengths differ
# (model, senders, receivers, receiver_inputs) of each path-patching case: on gpt2-twin to the logits, then to layer 1's
# queries, keys and values (senders one layer below their receivers, where freezing the other heads changes nothing); on
# shakespeare-char's repeated random characters, from layer 0, then from layers 0 and 1, to layer 3's keys and values,
# where the heads between carry the senders' effect unless they are frozen
_PATH_CASES = (
    (MODEL, [(0, 3)], None, ("q",)),
    (MODEL, [(0, 0), (0, 2), (0, 3)], [(1, 0), (1, 3)], ("q",)),
    (MODEL, [(0, 0), (0, 1), (0, 2), (0, 3)], [(1, 3)], ("k", "v")),
    (
        "shakespeare-char",
        [(0, 0), (0, 1), (0, 2), (0, 3)],
        [(3, 1), (3, 3)],
        ("k", "v"),
    ),
    ("shakespeare-char", [(0, 3), (1, 1)], [(3, 1), (3, 3)], ("k", "v")),
)
_REPEAT = 12  # shakespeare-char's case: 8 rows of BOS, 12 random characters and the same 12 again; corrupted, the first 12 differ


@functools.cache
def _case() -> tuple[ioi.IOIPrompts, Tensor, Tensor, Tensor, Tensor]:
    """Prompts, their corrupted twins, and the two runs' logits on gpt2-twin (computed once per process)."""
    model = shipped(MODEL)
    prompts = ioi.ioi_prompts(
        _PROMPTS, templates=ioi.HELD_OUT_TEMPLATES, names=ioi.HELD_OUT_NAMES, seed=1
    )
    abc = ioi.corrupted(prompts)
    with torch.inference_mode():
        return (
            prompts,
            prompts.tokens,
            abc.tokens,
            model(prompts.tokens),
            model(abc.tokens),
        )


@functools.cache
def _repeat_case() -> tuple[Tensor, Tensor, Callable[[Tensor], Tensor]]:
    """shakespeare-char's clean and corrupted repeated characters, and the share of the log-probability of the repeat restored.

    The clean rows repeat their first half; the corrupted rows have another first half, so induction has nothing to copy.
    The metric is the mean log-probability of the repeat's next characters: 0 for the corrupted run and 1 for the clean.
    """
    from mi_course.induction import repeated_random_tokens

    model = shipped("shakespeare-char")
    bos = model.cfg.d_vocab - 1  # also the number of ordinary symbols
    generator = torch.Generator().manual_seed(0)
    clean = repeated_random_tokens(8, _REPEAT, bos, bos, generator=generator)
    corrupted = clean.clone()
    corrupted[:, 1 : 1 + _REPEAT] = torch.randint(
        0, bos, (8, _REPEAT), generator=generator
    )
    targets = clean[:, _REPEAT + 2 :, None]

    def log_prob(logits: Tensor) -> Tensor:
        return (
            logits[:, _REPEAT + 1 : -1].log_softmax(dim=-1).gather(-1, targets).mean()
        )

    with torch.inference_mode():
        clean_value, corrupted_value = (
            log_prob(model(clean)),
            log_prob(model(corrupted)),
        )
    return (
        clean,
        corrupted,
        lambda logits: (
            (log_prob(logits) - corrupted_value) / (clean_value - corrupted_value)
        ),
    )


def check_ioi_metric(
    ioi_metric: Callable[..., Callable[[Tensor], Tensor]],
) -> CheckReport:
    """Check ``ioi_metric(prompts, clean_logits, corrupted_logits)``: a function of the logits, 0 for corrupted and 1 for clean.

    The function it returns is judged on the clean and corrupted logits of gpt2-twin and on two
    runs of random logits and two past either end, and must return a tensor that attribution
    patching can differentiate.
    """
    check_callable(ioi_metric, "check_ioi_metric", "your ioi_metric function")
    prompts, _, _, clean, corrupted = _case()
    generator = torch.Generator().manual_seed(0)
    runs = [
        clean,
        corrupted,
        *(torch.randn(clean.shape, generator=generator) * 3 for _ in range(2)),
        # past either end, scoring 1.5 and -0.5: a patch can restore more than the gap, or
        # push the other way, and the metric must say so (a clamp to [0, 1] would hide it)
        clean + (clean - corrupted) / 2,
        corrupted - (clean - corrupted) / 2,
    ]
    reference = ioi.ioi_metric(prompts, clean, corrupted)
    expected = torch.stack([reference(logits) for logits in runs])
    try:
        metric = ioi_metric(prompts, clean.clone(), corrupted.clone())
    except Exception as error:
        raise CheckerInputError(
            f"ioi_metric raised {type(error).__name__}: {error}"
        ) from error
    if not callable(metric) or isinstance(metric, torch.nn.Module):
        raise CheckerInputError(
            f"ioi_metric should return a function of the logits, got {type(metric).__name__}"
        )
    got = torch.tensor(
        [
            returned_number(
                "the function ioi_metric returns",
                lambda logits=logits: metric(logits.clone()),
            )
            for logits in runs
        ]
    )
    failure = diagnose(
        got,
        expected,
        lambda: _metric_mistakes(prompts, runs),
        "the clean logits should score 1 and the corrupted 0; "
        "read each prompt's logits at its own last position, prompts.end",
        MODEL_ATOL,
    )
    if failure is not None:
        return _report(
            "ioi_metric",
            False,
            f"on {_PROMPTS} prompts of the held-out templates, {failure}",
        )
    logits = runs[2].clone().requires_grad_()
    value = metric(logits)
    if not isinstance(value, Tensor) or not value.requires_grad:
        return _report(
            "ioi_metric",
            False,
            f"the numbers match, but it returns {type(value).__name__}, not a tensor that depends on "
            "the logits: return the tensor, not .item(), so that attribution patching can differentiate it",
        )
    return _report(
        "ioi_metric",
        True,
        f"matches the reference on gpt2-twin's clean and corrupted runs of {_PROMPTS} prompts of "
        "the held-out templates, and on random logits, and can be differentiated",
    )


def check_path_patch(path_patch: Callable[..., Tensor | float]) -> CheckReport:
    """Check ``path_patch(model, clean_tokens, corrupted_tokens, senders, metric, receivers=None, receiver_inputs=("q",))``.

    It runs on gpt2-twin: one sender to the logits, then layer-0 senders to layer-1 receivers' queries,
    and to one receiver's keys and values. Then on shakespeare-char, senders in layer 0, and in layers
    0 and 1, to layer 3's keys and values: there the heads between must be frozen.
    """
    check_callable(path_patch, "check_path_patch", "your path_patch function")
    prompts, twin_clean, twin_corrupted, clean_logits, corrupted_logits = _case()
    runs = {
        MODEL: (
            twin_clean,
            twin_corrupted,
            ioi.ioi_metric(prompts, clean_logits, corrupted_logits),
        ),
        "shakespeare-char": _repeat_case(),
    }
    for name, senders, receivers, inputs in _PATH_CASES:
        model = shipped(name)
        clean, corrupted, metric = runs[name]
        expected = torch.tensor(
            [
                float(
                    path_patching.path_patch(
                        model, clean, corrupted, senders, metric, receivers, inputs
                    )
                )
            ]
        )
        with torch.inference_mode():
            got = torch.tensor(
                [
                    returned_number(
                        "path_patch",
                        lambda: path_patch(
                            model,
                            clean.clone(),
                            corrupted.clone(),
                            list(senders),
                            metric,
                            receivers=receivers and list(receivers),
                            receiver_inputs=inputs,
                        ),
                    )
                ]
            )
        mistakes = functools.partial(
            _path_mistakes, model, clean, corrupted, senders, metric, receivers, inputs
        )
        failure = diagnose(
            got,
            expected,
            mistakes,
            "freeze every head but the senders at its corrupted output; the MLPs recompute",
            MODEL_ATOL,
        )
        if failure is not None:
            case = f"on {name}, from {_heads(senders)} to " + (
                f"the {'/'.join(inputs)} of {_heads(receivers)}"
                if receivers
                else "the logits"
            )
            return _report(
                "path_patch",
                False,
                f"{case}, you got {got.item():.4f} and the reference {expected.item():.4f}: {failure}",
            )
    return _report(
        "path_patch",
        True,
        "matches the reference on gpt2-twin: to the logits, to queries, and to keys and values; and on "
        "shakespeare-char, through frozen heads, from layers 0 and 1 to layer 3",
    )


def check_attribution_patching(
    attribution_patch_heads: Callable[..., Tensor],
) -> CheckReport:
    """Check ``attribution_patch_heads(model, clean_tokens, corrupted_tokens, metric) -> (n_layers, n_heads, pos)`` on gpt2-twin."""
    check_callable(
        attribution_patch_heads,
        "check_attribution_patching",
        "your attribution_patch_heads function",
    )
    model = shipped(MODEL)
    prompts, clean, corrupted, clean_logits, corrupted_logits = _case()
    metric = ioi.ioi_metric(prompts, clean_logits, corrupted_logits)
    expected = attribution_patching.attribution_patch_heads(
        model, clean, corrupted, metric
    )  # the reference
    got = call_tensor(
        "attribution_patch_heads",
        lambda: attribution_patch_heads(
            model, clean.clone(), corrupted.clone(), metric
        ),
        expected.shape,
        f"gpt2-twin and {tuple(clean.shape)} tokens: (n_layers, n_heads, pos)",
    )
    if got is None:
        raise CheckerInputError(
            "attribution_patch_heads returned None: return the (n_layers, n_heads, pos) tensor of estimates"
        )
    failure = diagnose(
        got,
        expected,
        lambda: _attribution_mistakes(model, clean, corrupted, metric),
        "entry [layer, head, p] is (clean z - corrupted z) · d metric / d z at the corrupted run, summed over batch and d_head",
        MODEL_ATOL,
    )
    if failure is not None:
        return _report(
            "attribution_patch_heads", False, f"on {_PROMPTS} IOI prompts, {failure}"
        )
    return _report(
        "attribution_patch_heads",
        True,
        f"matches the reference on gpt2-twin, every head at every position of {_PROMPTS} IOI prompts",
    )


def _metric_mistakes(
    prompts: ioi.IOIPrompts, runs: list[Tensor]
) -> list[tuple[Tensor, str]]:
    rows = torch.arange(len(prompts))

    def normalised(difference: Callable[[Tensor], Tensor]) -> Tensor:
        clean, corrupted = difference(runs[0]).mean(), difference(runs[1]).mean()
        return torch.stack(
            [
                (difference(logits).mean() - corrupted) / (clean - corrupted)
                for logits in runs
            ]
        )

    def at(
        position: Callable[[Tensor], Tensor],
        scores: Callable[[Tensor], Tensor] = lambda logits: logits,
    ):
        def difference(logits: Tensor) -> Tensor:
            last = scores(logits[rows, position(logits)])
            return last[rows, prompts.io] - last[rows, prompts.s]

        return difference

    own_end = at(lambda logits: prompts.end)
    raw = torch.stack([own_end(logits).mean() for logits in runs])
    return [
        (
            normalised(
                at(lambda logits: torch.full_like(prompts.end, logits.shape[1] - 1))
            ),
            "you read the last position of the tensor, -1, which is padding for the shorter prompts: read each at prompts.end",
        ),
        (
            normalised(at(lambda logits: prompts.end[:1].expand(len(prompts)))),
            "you read every prompt at the first prompt's last position: read each at its own, prompts.end",
        ),
        (
            normalised(
                at(lambda logits: prompts.end, lambda last: last.softmax(dim=-1))
            ),
            "that is a difference of probabilities: take the logits' difference, logit(IO) - logit(S)",
        ),
        (
            raw,
            "that is the mean logit difference itself: rescale it, (value - corrupted) / (clean - corrupted)",
        ),
        (
            1 - normalised(own_end),
            "clean and corrupted are swapped: the corrupted run should score 0 and the clean run 1",
        ),
        (
            raw / raw[0],
            "subtract the corrupted run's logit difference first, so that it scores 0",
        ),
    ]


@torch.inference_mode()
def _path_mistakes(
    model,
    clean: Tensor,
    corrupted: Tensor,
    senders: list,
    metric: Callable[[Tensor], Tensor],
    receivers: list | None,
    inputs: tuple[str, ...],
) -> list[tuple[Tensor, str]]:
    as_tensor = lambda value: torch.tensor([float(value)])  # noqa: E731
    reference = functools.partial(path_patching.path_patch, model)
    last = max(layer for layer, _ in receivers) if receivers else model.cfg.n_layers
    between = range(
        min(layer for layer, _ in senders) + 1, last
    )  # the layers whose heads could carry a sender's effect onwards
    through = (
        f"through the heads of layer{'s' * (len(between) > 1)} {', '.join(map(str, between))}"
        if between
        else "through other heads"
    )
    variant = lambda **change: as_tensor(
        _path_variant(
            model, clean, corrupted, senders, metric, receivers, inputs, **change
        )
    )
    mistakes = [
        (
            variant(freeze=False),
            f"nothing was frozen, so the senders' effect also reached the {'receivers' if receivers else 'logits'} {through}: freeze every "
            "head but the senders at its corrupted output"
            + (", in step 1 with receivers too" if receivers else ""),
        ),
        (
            variant(freeze_only_sender_layers=True),
            f"you froze only the senders' own layers, so their effect also reached the {'receivers' if receivers else 'logits'} {through}: "
            "freeze the heads of every layer",
        ),
        (
            as_tensor(reference(corrupted, clean, senders, metric, receivers, inputs)),
            "you patched the corrupted run into the clean one: run the corrupted tokens, with the senders' clean outputs",
        ),
    ]
    if receivers is not None:
        receiving_layers = sorted({layer for layer, _ in receivers})
        every_head = [
            (layer, head)
            for layer in receiving_layers
            for head in range(model.cfg.n_heads)
        ]
        others = tuple(
            part for part in path_patching.RECEIVER_INPUTS if part not in inputs
        )
        mistakes += [
            (
                as_tensor(
                    reference(clean, corrupted, senders, metric, every_head, inputs)
                ),
                f"every head of layer {', '.join(map(str, receiving_layers))} received: patch only the receivers' slices, {_heads(receivers)}",
            ),
            (
                as_tensor(
                    reference(
                        clean,
                        corrupted,
                        senders,
                        metric,
                        receivers,
                        path_patching.RECEIVER_INPUTS,
                    )
                ),
                f"you patched all of the receivers' inputs: patch only their {'/'.join(inputs)}, not {'/'.join(others)}",
            ),
            (
                as_tensor(
                    _path_variant(
                        model,
                        clean,
                        corrupted,
                        senders,
                        metric,
                        receivers,
                        inputs,
                        freeze_in_step_2=True,
                    )
                ),
                "step 2 froze the other heads too: in step 2 only the receivers' inputs are patched, and the rest runs as it will",
            ),
        ]
    return mistakes


def _path_variant(
    model,
    clean: Tensor,
    corrupted: Tensor,
    senders: list,
    metric: Callable[[Tensor], Tensor],
    receivers: list | None,
    inputs: tuple[str, ...],
    *,
    freeze: bool = True,
    freeze_only_sender_layers: bool = False,
    freeze_in_step_2: bool = False,
) -> Tensor:
    """Path patching with one step changed: in step 1 no heads frozen, or only the senders' layers; or the step-1 freeze kept in step 2."""
    z_names = [f"blocks.{layer}.attn.hook_z" for layer in range(model.cfg.n_layers)]
    _, clean_cache = model.run_with_cache(
        clean, names_filter=lambda name: name in z_names
    )
    _, corrupted_cache = model.run_with_cache(
        corrupted, names_filter=lambda name: name in z_names
    )

    def step_1_z(z: Tensor, hook, layer: int) -> Tensor:
        frozen = freeze and (
            not freeze_only_sender_layers
            or any(sender_layer == layer for sender_layer, _ in senders)
        )
        z = corrupted_cache[z_names[layer]].clone() if frozen else z.clone()
        for sender_layer, head in senders:
            if sender_layer == layer:
                z[:, :, head] = clean_cache[z_names[layer]][:, :, head]
        return z

    step_1 = [
        (name, functools.partial(step_1_z, layer=layer))
        for layer, name in enumerate(z_names)
    ]
    if receivers is None:
        return metric(model.run_with_hooks(corrupted, fwd_hooks=step_1))
    names = sorted(
        {
            f"blocks.{layer}.attn.hook_{part}"
            for layer, _ in receivers
            for part in inputs
        }
    )
    recorded: dict[str, Tensor] = {}

    def record(activation: Tensor, hook, name: str) -> Tensor:
        recorded[name] = activation.clone()
        return activation

    def receive(activation: Tensor, hook, name: str) -> Tensor:
        activation = activation.clone()
        for layer, head in receivers:
            if name.startswith(f"blocks.{layer}."):
                activation[:, :, head] = recorded[name][:, :, head]
        return activation

    model.run_with_hooks(
        corrupted,
        fwd_hooks=step_1
        + [(name, functools.partial(record, name=name)) for name in names],
    )
    frozen = [
        (name, hook)
        for name, hook in step_1
        if name not in {f"blocks.{layer}.attn.hook_z" for layer, _ in receivers}
    ]
    step_2 = [(name, functools.partial(receive, name=name)) for name in names] + (
        frozen if freeze_in_step_2 else []
    )
    return metric(model.run_with_hooks(corrupted, fwd_hooks=step_2))


def _attribution_mistakes(
    model, clean: Tensor, corrupted: Tensor, metric: Callable[[Tensor], Tensor]
) -> list[tuple[Tensor, str]]:
    z_names = [f"blocks.{layer}.attn.hook_z" for layer in range(model.cfg.n_layers)]

    def gradients_at(tokens: Tensor) -> tuple[dict[str, Tensor], list[Tensor]]:
        values, offsets = {}, {}

        def track(z: Tensor, hook, name: str) -> Tensor:
            values[name], offsets[name] = (
                z.detach(),
                torch.zeros_like(z, requires_grad=True),
            )
            return z + offsets[name]

        with torch.enable_grad():
            value = metric(
                model.run_with_hooks(
                    tokens,
                    fwd_hooks=[
                        (name, functools.partial(track, name=name)) for name in z_names
                    ],
                )
            )
            return values, list(
                torch.autograd.grad(value, [offsets[name] for name in z_names])
            )

    clean_z, clean_gradients = gradients_at(clean)
    corrupted_z, gradients = gradients_at(corrupted)

    def estimate(
        delta: Callable[[str], Tensor],
        grads: list[Tensor],
        dims: tuple[int, ...] = (0, 3),
    ) -> Tensor:
        return torch.stack(
            [
                (delta(name) * grad).sum(dim=dims)
                for name, grad in zip(z_names, grads, strict=True)
            ]
        ).transpose(1, 2)

    difference = lambda name: clean_z[name] - corrupted_z[name]  # noqa: E731
    return [
        (
            estimate(lambda name: corrupted_z[name] - clean_z[name], gradients),
            "the sign is flipped: the patch moves z from corrupted to clean, so multiply by clean z - corrupted z",
        ),
        (
            estimate(difference, clean_gradients),
            "you took the gradient in the clean run: patching starts from the corrupted run, so take the gradient there",
        ),
        (
            estimate(lambda name: clean_z[name], gradients),
            "multiply the gradient by the change the patch makes, clean z - corrupted z, not by clean z",
        ),
        (
            estimate(lambda name: torch.ones_like(clean_z[name]), gradients),
            "that is the gradient alone: multiply it by clean z - corrupted z",
        ),
        (
            estimate(difference, gradients) / clean.shape[0],
            "you averaged over the batch: the metric already averages, so sum the per-prompt terms over the batch",
        ),
    ]


def _heads(heads: list | None) -> str:
    return ", ".join(f"{layer}.{head}" for layer, head in heads or [])


def _report(name: str, passed: bool, measured: str) -> CheckReport:
    return report("ioi", name, passed, measured, MODEL_ATOL)
