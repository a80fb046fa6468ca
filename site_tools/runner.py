"""Run a snippet as a learner would: a copy, alone in an empty folder, in a fresh isolated Python.

A fresh Python spends seconds importing torch and TransformerLens before a snippet's first line.
So the runs go through workers (``site_tools/worker.py``) that import them once and fork a new
process per snippet: each snippet still starts from a clean interpreter state and its own folder,
and its measured time includes the worker's import time, as a fresh Python's would. torch reads
the CPU kernel settings when it is imported, so there is one worker per kernel environment.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

WORKER = Path(__file__).with_name("worker.py")
# What torch fixes at import time: a worker serves only runs that ask for the same values.
IMPORT_TIME_SETTINGS = (
    "ATEN_CPU_CAPABILITY",
    "MKL_ENABLE_INSTRUCTIONS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "MI_COURSE_SNIPPET_PRELOAD",
)
WORKER_START_TIMEOUT_S = 120


class SnippetError(RuntimeError):
    """A snippet's run could not be measured; the message says why."""


@dataclass(frozen=True)
class SnippetRun:
    returncode: int
    stdout: str
    stderr: str
    wall_s: float  # from the start of a fresh Python: the worker's imports plus the snippet's own run
    cpu_s: float  # user + system time of the snippet's process, imports included
    peak_mib: float  # its peak resident memory
    read_from_checkout: tuple[str, ...] = ()  # files it opened in the repository, outside the installed package
    network: tuple[str, ...] = ()  # hosts it tried to reach, localhost aside
    figures: tuple[str, ...] = ()  # the page HTML of each figure it showed, if its figures were asked for
    device: str = (
        ""  # the hardware it computed on (mi_course.runtime.device_description); "" if it never imported torch
    )


def installed_places() -> list[str]:
    """Where the course is installed: the folders of ``mi_course`` and its snippets (the checkout, if editable)."""
    return [place for name in ("mi_course", "mi_course.snippets") for place in package_folders(name)]


def package_folders(name: str) -> list[str]:
    """The folders the package ``name`` is imported from; ``ModuleNotFoundError`` if it is not an installed package.

    Asks the import system's finders without importing anything: ``importlib.util.find_spec`` would
    import ``mi_course`` to find ``mi_course.snippets``, and with it torch (a second or more).
    """
    parent = name.rpartition(".")[0]
    search_path = package_folders(parent) if parent else None
    spec = next(
        (
            found
            for finder in sys.meta_path
            if hasattr(finder, "find_spec") and (found := finder.find_spec(name, search_path)) is not None
        ),
        None,
    )
    if spec is None or spec.submodule_search_locations is None:
        raise ModuleNotFoundError(f"{name} is not an installed package", name=name)
    return list(spec.submodule_search_locations)


def package_root() -> str:
    """The folder holding the ``mi_course`` this process imports: snippets must run against the same one."""
    spec = importlib.util.find_spec("mi_course")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("mi_course is not installed", name="mi_course")
    return str(Path(spec.origin).parents[1])


class Worker:
    """One ``worker.py`` process, for one kernel environment."""

    def __init__(self, env: dict[str, str], repo: str):
        self.process = subprocess.Popen(
            [sys.executable, "-I", str(WORKER), repo, package_root(), *installed_places()],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tempfile.gettempdir(),
        )
        assert self.process.stdin is not None and self.process.stdout is not None, "both pipes were asked for"
        self.requests, self.replies = self.process.stdin, self.process.stdout
        self.imported = self.answer(WORKER_START_TIMEOUT_S)
        self.lock = threading.Lock()  # one request at a time

    def answer(self, timeout_s: float | None) -> dict:
        """The worker's next JSON line; ``subprocess.TimeoutExpired`` if it takes longer than ``timeout_s`` (None: no limit)."""
        ready, _, _ = select.select([self.replies], [], [], timeout_s)
        if not ready:
            raise subprocess.TimeoutExpired(WORKER.name, timeout_s or 0)
        line = self.replies.readline()
        if not line:
            raise SnippetError(f"the snippet worker exited (status {self.process.wait()}) before answering")
        return json.loads(line)

    def run(self, request: dict, timeout_s: float) -> int:
        """Run one request; return the snippet's exit status, or kill it and raise ``TimeoutExpired`` after ``timeout_s``."""
        with self.lock:
            self.requests.write(json.dumps(request) + "\n")
            self.requests.flush()
            pid = self.answer(10)["pid"]
            try:
                return self.answer(timeout_s)["status"]
            except subprocess.TimeoutExpired:
                os.kill(pid, signal.SIGKILL)
                self.answer(10)
                raise

    def start(self, request: dict) -> ForkedRun:
        """Start one request and return at once; the worker serves nothing else until that run ends."""
        self.lock.acquire()
        try:
            self.requests.write(json.dumps(request) + "\n")
            self.requests.flush()
            return ForkedRun(self, self.answer(10)["pid"])
        except BaseException:
            self.lock.release()
            raise

    def close(self) -> None:
        self.process.kill()
        self.process.wait()


class ForkedRun:
    """A run a worker forked and that goes on in the background, with the part of ``subprocess.Popen``'s
    interface that a Jupyter kernel manager uses (``pid``, ``poll``, ``wait``, ``send_signal``, ``kill``)."""

    stdin = stdout = stderr = None  # its streams are files the request named, not pipes

    def __init__(self, worker: Worker, pid: int):
        self.pid = pid
        self.returncode: int | None = None
        self.ended = threading.Event()
        threading.Thread(target=self._await_end, args=(worker,), daemon=True).start()

    def _await_end(self, worker: Worker) -> None:
        try:
            self.returncode = worker.answer(None)["status"]
        finally:
            worker.lock.release()
            self.ended.set()

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int | None:
        if not self.ended.wait(timeout):
            raise subprocess.TimeoutExpired(f"forked run {self.pid}", timeout or 0)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if not self.ended.is_set():
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


_workers: dict[tuple, Worker] = {}
_workers_lock = threading.Lock()  # guards the two dicts; a worker's start holds only its key's lock
_starting: dict[tuple, threading.Lock] = {}


def worker_for(env: dict[str, str], repo: str) -> Worker:
    key = (repo, *(env.get(name) for name in IMPORT_TIME_SETTINGS))
    with _workers_lock:
        starting = _starting.setdefault(key, threading.Lock())
    with starting:  # a worker starting for another course or kernel setting does not hold this one up
        with _workers_lock:
            worker = _workers.get(key)
        if worker is None or worker.process.poll() is not None:
            worker = Worker(env, repo)
            with _workers_lock:
                _workers[key] = worker
        return worker


@atexit.register
def close_workers(repo: Path | None = None) -> None:
    """Stop the workers that run snippets of ``repo`` (a course's engine test, in a process that goes on);
    without it, every worker."""
    with _workers_lock:
        for key in [key for key in _workers if repo is None or key[0] == os.path.realpath(repo)]:
            _workers.pop(key).close()


def run_snippet(
    snippet_file: Path,
    timeout_s: float = 300,
    repo: Path | None = None,
    env: dict[str, str] | None = None,
    script: str | None = None,
    figures: bool = False,
) -> SnippetRun:
    """Run ``snippet_file`` from a copy in an empty folder; measure its time, memory, file reads and network use.

    ``script`` is the text to run under the file's name, if not the file's own (a snippet with its
    includes expanded: ``site_tools.pages.Snippet.script``). ``env`` adds to this process's
    environment (a kernel setting, say). ``figures`` keeps the page HTML of each figure it shows. A run past ``timeout_s`` raises ``subprocess.TimeoutExpired``;
    one that ends without writing its report raises ``SnippetError``.
    """
    with tempfile.TemporaryDirectory(prefix="mi-course-snippet-") as folder:
        copy = Path(folder) / snippet_file.name
        copy.write_text(snippet_file.read_text(encoding="utf-8") if script is None else script, encoding="utf-8")
        return _run_in_worker(
            {"script": str(copy)}, folder, f"snippets/{snippet_file.name}", timeout_s, repo, env, figures
        )


def run_module(
    module: str,
    args: list[str],
    timeout_s: float = 300,
    repo: Path | None = None,
    env: dict[str, str] | None = None,
) -> SnippetRun:
    """Run ``python -m module args`` from an empty folder, measured as ``run_snippet`` measures a snippet."""
    with tempfile.TemporaryDirectory(prefix="mi-course-command-") as folder:
        return _run_in_worker({"module": module, "args": args}, folder, f"python -m {module}", timeout_s, repo, env)


def start_module(module: str, args: list[str], cwd: str, env: dict[str, str], streams: str) -> ForkedRun:
    """Start ``python -m module args`` in a process forked from the worker of this environment, in the
    background (a notebook's kernel); its stdout and stderr go to files in the folder ``streams``."""
    environment, repo_path = _worker_key_args(None, None)
    request = {"module": module, "args": args, "cwd": cwd, "env": env}
    files = {name: str(Path(streams) / name) for name in ("report", "stdout", "stderr")}
    return worker_for(environment, repo_path).start(request | files)


def start_worker(repo: Path | None = None) -> None:
    """Start this environment's worker in the background, so that its imports overlap other work."""
    threading.Thread(target=worker_for, args=_worker_key_args(repo, None), daemon=True).start()


def _worker_key_args(repo: Path | None, env: dict[str, str] | None) -> tuple[dict[str, str], str]:
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"} | (env or {})
    return environment, os.path.realpath(repo or Path(__file__).resolve().parents[1])


def _run_in_worker(
    what: dict,
    folder: str,
    name: str,
    timeout_s: float,
    repo: Path | None,
    env: dict[str, str] | None,
    figures: bool = False,
) -> SnippetRun:
    environment, repo_path = _worker_key_args(repo, env)
    worker = worker_for(environment, repo_path)
    with tempfile.TemporaryDirectory() as reports:
        files = {name: str(Path(reports) / name) for name in ("report", "stdout", "stderr", *["figures"] * figures)}
        start = time.perf_counter()
        returncode = worker.run({**what, "cwd": folder, "env": environment, **files}, timeout_s)
        own_wall_s = time.perf_counter() - start
        stdout, stderr = (Path(files[stream]).read_text(errors="replace") for stream in ("stdout", "stderr"))
        if not Path(
            files["report"]
        ).is_file():  # it left without running atexit handlers: its cost and audits are unknown
            raise SnippetError(
                f"{name} exited (status {returncode}) without writing its measurements, so its time, memory, "
                f"file reads and network use are unknown (os._exit, or a crash?):\n{stderr[-3000:]}"
            )
        measured = json.loads(Path(files["report"]).read_text())
        sink = Path(files.get("figures", ""))
        shown = sink.read_text(encoding="utf-8").splitlines() if figures and sink.is_file() else []
    return SnippetRun(
        returncode,
        stdout,
        stderr,
        wall_s=measured["import_wall_s"] + own_wall_s,
        cpu_s=measured["cpu_s"],
        peak_mib=measured["peak_mib"],
        read_from_checkout=tuple(measured["read_from_checkout"]),
        network=tuple(measured["network"]),
        figures=tuple(json.loads(line) for line in shown),
        device=measured["device"],
    )
