"""Benchmark, not a test: snippet timings, MNIST's time to 97%, induction's time to form, grokking, the site build,
each page's one-page test loop, IOI's patching sweeps, nnsight against TransformerLens, the zoo's training.

Run with `python3 dev.py bench` on a quiet machine (it retrains the zoo's models, a few minutes).
Each snippet runs as the tests run it: alone, in a fresh process, from an empty folder.
Prints Markdown tables.
"""

from __future__ import annotations

import contextlib
import math
import os
import platform
import runpy
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import torch
from tqdm import tqdm

from mi_course.runtime import progress
from mi_course.zoo import HUB_TWINS_SWITCH, hub_reachable
from site_tools.pages import Snippet, snippet_files
from site_tools.runner import run_snippet

ROOT = Path(__file__).resolve().parents[1]
SNIPPETS = ROOT / "snippets"
T = TypeVar("T")


def timed(run: Callable[[], T]) -> tuple[T, float]:
    """What ``run()`` returns, and the seconds it took."""
    start = time.perf_counter()
    result = run()
    return result, time.perf_counter() - start


def time_snippet(snippet: Snippet, env: dict[str, str] | None = None) -> tuple[float, float]:
    run = run_snippet(snippet.path, script=snippet.script, env=env)
    if run.returncode != 0:
        raise RuntimeError(f"snippets/{snippet.name} failed:\n{run.stderr}")
    return run.wall_s, run.peak_mib


def mnist_time_to_97() -> str:
    """Train the Step 1 solution for 1, 2, ... epochs (same seed, no schedule: a prefix of the full run)."""
    from mi_course import mnist_model_inputs, seed_everything

    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
        solution = runpy.run_path(str(SNIPPETS / "step1" / "mnist_mlp.py"), run_name="__main__")
    device = solution["device"]
    images, labels = solution["train_images"], solution["train_labels"]
    test_images = mnist_model_inputs(solution["mnist"].test_images).to(device)
    test_labels = solution["mnist"].test_labels.to(device)
    for epochs in range(1, 9):
        seed_everything(0)
        model = solution["MLP"]().to(device)
        start = time.perf_counter()
        solution["train"](model, images, labels, epochs=epochs)
        seconds = time.perf_counter() - start
        accuracy = solution["accuracy"](model, test_images, test_labels)
        if accuracy >= 0.97:
            return f"MNIST: {accuracy:.2%} test accuracy after {epochs} epochs, {seconds:.1f} s of training"
    return "MNIST: 97% not reached in 8 epochs"


PEER_NATS_PER_CHAR, PEER_SECONDS = 1.886, 112.0  # nanoGPT's baby GPT on this machine, same split


def zoo_training() -> list[str]:
    """Retrain each recipe from its seed (weights discarded) and report time and held-out metrics."""
    from mi_course.recipes.gpt2_twin import train_twin
    from mi_course.recipes.induction_2l import train_induction
    from mi_course.recipes.shakespeare_char import train_shakespeare_char
    from mi_course.recipes.shakespeare_sae import train_shakespeare_sae

    lines = ["| model | recipe | training (s) | held-out loss (nats/char) | bits/char |", "|---|---|---:|---:|---:|"]
    lines.append(
        f"| nanoGPT baby GPT (peer, measured before) | 4 layers, d 128, block 64, batch 12, 2,000 iters "
        f"| {PEER_SECONDS:.0f} | {PEER_NATS_PER_CHAR:.3f} | {PEER_NATS_PER_CHAR / math.log(2):.3f} |"
    )
    card = train_shakespeare_char().card
    recipe, phase2, metrics = card.training["recipe"], card.training["induction_phase"], card.metrics
    shape = (
        f"{recipe['n_layers']} layers, d {recipe['d_model']}, block {recipe['n_ctx'] - 1}, batch {recipe['batch_size']}"
    )
    phase1_loss = metrics["phase1_held_out_loss_nats_per_char"]
    lines.append(
        f"| shakespeare-char, phase 1 | {shape}, {recipe['steps']:,} steps | {card.training['phase1_seconds']:.1f} "
        f"| {phase1_loss:.3f} | {phase1_loss / math.log(2):.3f} |"
    )
    lines.append(
        f"| shakespeare-char, shipped | + {phase2['steps']:,} steps with {phase2['repeated_rows']} rows of repeated random "
        f"characters; induction heads {', '.join(metrics['induction_heads'])} | {card.training['seconds']:.1f} "
        f"| {metrics['held_out_loss_nats_per_char']:.3f} | {metrics['held_out_bits_per_char']:.3f} |"
    )
    card = train_induction().card
    lines.append(
        f"| induction-2l | 2 layers attention-only, {card.training['recipe']['steps']:,} steps "
        f"| {card.training['seconds']:.1f} | repeated half (length 13): {card.metrics['repeated_half_loss_len13']:.3f} | |"
    )
    card = train_twin().card
    held_out = card.metrics["ioi"]["held-out templates, held-out names"]
    lines.append(
        f"| gpt2-twin | {card.config['n_layer']} layers, d {card.config['n_embd']}, {card.training['recipe']['steps']:,} steps "
        f"| {card.training['seconds']:.1f} | Shakespeare {card.metrics['held_out_shakespeare_loss']:.3f} nats/token; "
        f"IOI held out: accuracy {held_out['accuracy']:.3f}, logit diff {held_out['logit_diff']:.2f} | |"
    )
    card = train_shakespeare_sae().card
    trained, random_at_l0 = card.metrics["trained"], card.metrics["random at the trained L0"]
    lines.append(
        f"| shakespeare-char-sae | {card.config['d_sae']} latents at {card.config['hook']}, {card.training['recipe']['steps']:,} steps "
        f"| {card.training['seconds']:.1f} | L0 {trained['l0']:.1f}, FVU {trained['fvu']:.3f}, loss recovered "
        f"{trained['loss_recovered']:.3f} (random at the same L0: {random_at_l0['loss_recovered']:.3f}) | |"
    )
    return lines


def induction_time_to_repeat_loss(target: float = 0.5) -> str:
    """Train induction-2l's recipe from its seed until its loss on the repeated half is below ``target``."""
    from mi_course.induction import repeated_half_loss_of, repeated_random_tokens
    from mi_course.recipes.induction_2l import INDUCTION_RECIPE, INDUCTION_SYMBOLS, induction_batches
    from mi_course.training import native_logits, train

    seq_len = 13
    tokens = repeated_random_tokens(
        64, seq_len, INDUCTION_SYMBOLS, INDUCTION_SYMBOLS, generator=torch.Generator().manual_seed(1)
    )
    steps: list[int] = []

    def low_enough(step: int, model) -> bool:
        steps.append(step)
        return repeated_half_loss_of(native_logits(model, tokens), tokens, seq_len) < target

    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
        _, seconds = train(INDUCTION_RECIPE, INDUCTION_SYMBOLS + 1, induction_batches(), monitor=low_enough)
    return f"induction-2l: repeated-half loss (length {seq_len}) below {target} after {steps[-1]} steps, {seconds:.1f} s of training"


# The paper's recipe (lr 1e-3, weight decay 1.0) measured earlier on this machine, through the
# TransformerBridge (150 ms/epoch); plain torch on the last position alone took 82 ms/epoch.
PAPER_GROKKING_MEASURED = {"seconds": 25 * 60, "epochs": 10_124, "test_accuracy": 0.145, "ms_per_epoch": 150}


def grokking_time_to_grok() -> list[str]:
    """Retrain grokking-113 from its seed (weights discarded): wall time and epochs to > 99% test accuracy."""
    from mi_course.recipes.grokking_113 import GROKKING_RECIPE, train_grokking

    load = os.getloadavg()[0]
    start = time.perf_counter()
    card = train_grokking().card
    wall = time.perf_counter() - start
    training, metrics, paper = card.training, card.metrics, PAPER_GROKKING_MEASURED
    recipe = f"lr {GROKKING_RECIPE.lr:g}, weight decay {GROKKING_RECIPE.weight_decay:g}"
    return [
        f"grokking-113 (load average {load:.2f} at the start, {GROKKING_RECIPE.threads} thread):",
        "| recipe | epochs to > 99% test | training to > 99% (s) | ms/epoch | epochs run | training (s) | wall time (s) | final test accuracy |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        f"| shipped: {recipe} | {training['epochs_to_test_accuracy_99']:,} | {training['seconds_to_test_accuracy_99']:.1f} "
        f"| {1000 * training['seconds'] / training['epochs']:.0f} | {training['epochs']:,} | {training['seconds']:.1f} | {wall:.1f} "
        f"| {metrics['test_accuracy']:.2%} |",
        f"| paper: lr 1e-3, weight decay 1 (measured earlier, through the bridge) | not reached | | {paper['ms_per_epoch']} "
        f"| {paper['epochs']:,} | {paper['seconds']:,.0f} | | {paper['test_accuracy']:.1%} |",
        f"key frequencies {metrics['key_frequencies']}; restricted loss {metrics['restricted_loss']:.3g}, "
        f"excluded loss {metrics['excluded_loss']:.3g} (wall time includes measuring the history)",
    ]


def one_page_loop_seconds() -> list[str]:
    """Time ``python3 dev.py test PAGE``, the contributor's loop, for each Markdown page with code."""
    lines = ["| page | `python3 dev.py test PAGE` (s) | outcome |", "|---|---:|---|"]
    for page in sorted((ROOT / "docs").rglob("*.md")):
        if "```python" not in page.read_text(encoding="utf-8"):
            continue
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, str(ROOT / "dev.py"), "test", str(page), "-q", "-p", "no:cacheprovider"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - start
        outcome = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else f"exit {done.returncode}"
        lines.append(f"| {page.relative_to(ROOT)} | {seconds:.1f} | {outcome.strip('= ')} |")
    return lines


def site_build_seconds() -> str:
    """Time ``mkdocs build --strict``, notebooks executed, into a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="mi-course-site-") as folder:
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-d", folder],
            cwd=ROOT,
            check=True,
            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
            capture_output=True,
        )
        seconds = time.perf_counter() - start
        largest = max(Path(folder).rglob("*.html"), key=lambda page: page.stat().st_size)
        size_kb = largest.stat().st_size / 1000
        return f"site build (mkdocs build --strict): {seconds:.1f} s; largest page {largest.relative_to(folder)}, {size_kb:.0f} kB"


def scratch_to_bridge_forward_ratio(repeats: int = 20) -> str:
    """Forward time of the from-scratch model over the bridge's, same weights, same batch."""
    from mi_course import load_model
    from mi_course.scratch import load_weights_from_bridge

    bridge = load_model("shakespeare-char", device="cpu")
    scratch = load_weights_from_bridge(bridge).eval()
    tokens = torch.randint(0, bridge.cfg.d_vocab, (16, bridge.cfg.n_ctx), generator=torch.Generator().manual_seed(0))
    timings = {}
    with torch.inference_mode():
        for name, model in (("scratch", scratch), ("bridge", bridge)):
            model(tokens)  # warm up
            start = time.perf_counter()
            for _ in range(repeats):
                model(tokens)
            timings[name] = (time.perf_counter() - start) / repeats
    return (
        f"forward of a (16, {bridge.cfg.n_ctx}) batch: scratch {timings['scratch'] * 1e3:.1f} ms, "
        f"bridge {timings['bridge'] * 1e3:.1f} ms, ratio scratch/bridge {timings['scratch'] / timings['bridge']:.2f}"
    )


def ioi_patching_sweeps(prompts: int = 20) -> list[str]:
    """gpt2-twin on IOI: each patching sweep's time, and attribution patching against activation patching of every head and position."""
    from mi_course import load_model
    from mi_course.attribution_patching import attribution_patch_heads
    from mi_course.interventions import patch_by_position
    from mi_course.ioi import patching_case
    from mi_course.path_patching import path_patch

    model = load_model("gpt2-twin", device="cpu")
    clean, abc, metric = patching_case(model, prompts)
    layers, heads = range(model.cfg.n_layers), range(model.cfg.n_heads)
    z_names = [f"blocks.{layer}.attn.hook_z" for layer in layers]

    def activation_sweep() -> torch.Tensor:
        with torch.inference_mode():
            return torch.stack(
                [
                    torch.stack(
                        [
                            patch_by_position(model, clean.tokens, abc.tokens, [z_names[layer]], metric, head=head)[0]
                            for head in heads
                        ]
                    )
                    for layer in layers
                ]
            )

    with torch.inference_mode():
        _, residual = timed(
            lambda: patch_by_position(
                model, clean.tokens, abc.tokens, [f"blocks.{layer}.hook_resid_pre" for layer in layers], metric
            )
        )
        _, to_logits = timed(
            lambda: [
                path_patch(model, clean.tokens, abc.tokens, [(layer, head)], metric)
                for layer in layers
                for head in heads
            ]
        )
    attribution_patch_heads(model, clean.tokens, abc.tokens, metric)  # warm up the backward pass
    estimates, attribution_s = timed(lambda: attribution_patch_heads(model, clean.tokens, abc.tokens, metric))
    measured, activation_s = timed(activation_sweep)
    correlation = torch.corrcoef(torch.stack([estimates.flatten(), measured.flatten()]))[0, 1].item()
    return [
        f"IOI on gpt2-twin, {prompts} prompts of {clean.tokens.shape[1]} tokens (the budget is 30 s per sweep):",
        f"- activation patching, residual stream by layer and position: {residual:.1f} s",
        f"- path patching, every head to the logits: {to_logits:.1f} s",
        f"- activation patching, every head at every position ({measured.numel()} runs): {activation_s:.1f} s",
        f"- attribution patching, the same estimates: {attribution_s:.2f} s, {activation_s / attribution_s:.0f}x faster; "
        f"correlation {correlation:.2f}",
    ]


def nnsight_against_transformer_lens(prompts: int = 20, repeats: int = 3) -> str:
    """The nnsight page's experiment, IOI's residual patching on gpt2-twin, timed in both libraries (best of ``repeats``)."""
    from mi_course import load_model
    from mi_course.interventions import patch_by_position
    from mi_course.ioi import patching_case
    from mi_course.nnsight_tools import blocks, local_model, patch_residual

    bridge, model = load_model("gpt2-twin", device="cpu"), local_model("gpt2-twin", device="cpu")
    clean, abc, metric = patching_case(bridge, prompts)
    layers, positions = list(range(len(blocks(model)))), list(range(clean.tokens.shape[1]))
    hook_names = [f"blocks.{layer}.hook_resid_pre" for layer in layers]
    runs = (
        lambda: patch_residual(
            model, clean.tokens, abc.tokens, metric, layers, positions
        ),  # nnsight, then TransformerLens
        lambda: patch_by_position(bridge, clean.tokens, abc.tokens, hook_names, metric),
    )
    with torch.inference_mode():
        (nnsight, nnsight_s), (reference, reference_s) = (
            min((timed(run) for _ in range(repeats)), key=lambda result: result[1]) for run in runs
        )
    return (
        f"IOI residual patching on gpt2-twin, {len(layers)} layers x {len(positions)} positions, {prompts} prompts: "
        f"nnsight {nnsight_s:.2f} s, TransformerLens {reference_s:.2f} s; largest difference {(nnsight - reference).abs().max().item():.1e}"
    )


def main() -> None:
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, CUDA: {torch.cuda.is_available()}\n"
    )
    print("| snippet | wall time (s) | peak memory (MiB) |\n|---|---:|---:|")
    snippets = snippet_files(ROOT)
    for snippet in progress(snippets, len(snippets), "snippets", unit="snippet"):
        on_twin = snippet.needs_network and not hub_reachable()
        seconds, peak = time_snippet(snippet, {HUB_TWINS_SWITCH: "1"} if on_twin else None)
        name = f"{snippet.name} (on {snippet.twin_model}: the hub is unreachable)" if on_twin else snippet.name
        with tqdm.external_write_mode():  # the row goes above the bar, not through it
            print(f"| {name} | {seconds:.1f} | {peak:.0f} |", flush=True)
    print()
    print(mnist_time_to_97())
    print()
    print(scratch_to_bridge_forward_ratio())
    print()
    print(induction_time_to_repeat_loss())
    print()
    print("\n".join(grokking_time_to_grok()))
    print()
    print(site_build_seconds())
    print()
    print("\n".join(one_page_loop_seconds()))
    print()
    print("\n".join(ioi_patching_sweeps()))
    print()
    print(nnsight_against_transformer_lens())
    print()
    print("\n".join(zoo_training()))


if __name__ == "__main__":
    main()
