"""Benchmark, not a test: each snippet's wall time and peak memory, and MNIST's time to 97%.

Run with `python3 dev.py bench`. Each snippet runs as the tests run it: alone, in a fresh process,
from an empty folder. Prints a Markdown table.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import runpy
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
SNIPPETS = ROOT / "snippets"
# Runs a script and reports its own peak resident memory (ru_maxrss is in KiB on Linux).
MEASURE = (
    "import json, resource, runpy, sys; runpy.run_path(sys.argv[1], run_name='__main__'); "
    "print(json.dumps({'peak_mib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), file=sys.stderr)"
)


def time_snippet(snippet: Path) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(prefix="mi-course-bench-") as folder:
        script = Path(folder) / snippet.name
        script.write_bytes(snippet.read_bytes())
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-I", "-c", MEASURE, script.name], cwd=folder, capture_output=True, text=True)
        seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{snippet} failed:\n{done.stderr}")
    return seconds, json.loads(done.stderr.strip().splitlines()[-1])["peak_mib"]


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


def main() -> None:
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, CUDA: {torch.cuda.is_available()}\n")
    print("| snippet | wall time (s) | peak memory (MiB) |\n|---|---:|---:|")
    for snippet in sorted(p for p in SNIPPETS.rglob("*.py") if p.name != "__init__.py"):
        seconds, peak = time_snippet(snippet)
        print(f"| {snippet.relative_to(SNIPPETS)} | {seconds:.1f} | {peak:.0f} |", flush=True)
    print()
    print(mnist_time_to_97())


if __name__ == "__main__":
    main()
