"""A Python that has imported the course once and forks a fresh process for each snippet it is sent.

Started by ``site_tools/runner.py`` as ``python -I worker.py REPO PACKAGE_ROOT INSTALLED...``.
Snippets use the ``mi_course`` the test session imports, found in PACKAGE_ROOT (the tree under
test, a fault-injection copy included). It installs an audit hook, then imports what snippets import (torch, TransformerLens, the course),
and writes one JSON line with what that took. Then, per JSON request line on stdin, it forks: the
child runs the snippet (or a module, as ``python -m`` would) as ``__main__`` from its folder, with
its own stdout, stderr and environment (and, if asked, a sink for the figures it shows), and at exit writes its report (CPU time, peak memory, files it opened in the checkout outside the
installed places, hosts it tried to reach, the device it ran on). The worker answers with the child's pid, then its exit status.

The child's CPU time starts at zero at fork, so the report adds the worker's import time, as a
learner's fresh Python would spend it; its peak memory (VmHWM) starts at the worker's resident size.
"""

from __future__ import annotations

import atexit
import json
import os
import random
import re
import resource
import runpy
import sys
import time
import traceback

REPO, PACKAGE_ROOT, *INSTALLED = sys.argv[1:]
THIS_FILE = os.path.realpath(__file__)
INSTALLED_PLACES = [os.path.realpath(place) for place in (*INSTALLED, sys.prefix)]
PRELOAD_ENV = "MI_COURSE_SNIPPET_PRELOAD"  # "0": import nothing first (the plugin's own tests run tiny snippets)
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", None)
opened_in_checkout: set[str] = set()
hosts_reached: set[str] = set()


def audit(event: str, args: tuple) -> None:
    if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.path.realpath(os.fsdecode(args[0]))
        if (
            path.startswith(REPO + os.sep)
            and path != THIS_FILE  # the worker itself: traces and warnings read it
            and not any(path.startswith(place + os.sep) for place in INSTALLED_PLACES)
        ):
            opened_in_checkout.add(path)
    elif event == "socket.getaddrinfo" and args[0] not in LOCAL_HOSTS:
        hosts_reached.add(str(args[0]))
    elif event == "socket.connect" and isinstance(args[1], tuple) and args[1][0] not in LOCAL_HOSTS:
        hosts_reached.add(str(args[1][0]))


def preload() -> dict[str, float]:
    """Import what snippets import (unless ``PRELOAD_ENV`` is ``0``); return the CPU and wall seconds it took."""
    start = time.perf_counter()
    if os.environ.get(PRELOAD_ENV) == "0":
        return {"cpu_s": 0.0, "wall_s": 0.0}
    import importlib
    import pkgutil

    import torch  # noqa: F401
    import transformer_lens  # noqa: F401

    import mi_course

    for module in pkgutil.iter_modules(mi_course.__path__):
        if not module.name.startswith("_") and module.name != "__main__":
            importlib.import_module(f"mi_course.{module.name}")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"cpu_s": usage.ru_utime + usage.ru_stime, "wall_s": time.perf_counter() - start}


def run_child(request: dict, imported: dict[str, float]) -> None:
    """In the forked child: become the snippet's process and run it; never returns."""
    for fd, path, flags in (
        (0, os.devnull, os.O_RDONLY),
        (1, request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
        (2, request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
    ):
        os.dup2(os.open(path, flags, 0o644), fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    random.seed()  # a fresh Python seeds from the OS; so does each child

    def report() -> None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        with open("/proc/self/status") as status:
            peak = re.search(r"VmHWM:\s+(\d+)", status.read())
        assert peak is not None, "Linux's /proc/self/status shows the peak resident memory (VmHWM)"
        peak_kib = int(peak.group(1))
        with open(request["report"], "w") as out:
            json.dump(
                {
                    "cpu_s": imported["cpu_s"] + usage.ru_utime + usage.ru_stime,
                    "import_wall_s": imported["wall_s"],
                    "peak_mib": peak_kib / 1024,
                    "read_from_checkout": sorted(opened_in_checkout),
                    "network": sorted(hosts_reached),
                    "device": device(),
                },
                out,
            )

    atexit.register(report)
    if request.get("figures"):
        send_figures_to(request["figures"])
    sys.argv = [request.get("script") or request["module"], *request.get("args", [])]
    try:
        if "module" in request:
            runpy.run_module(request["module"], run_name="__main__", alter_sys=True)
        else:
            runpy.run_path(request["script"], run_name="__main__")
        status = 0
    except SystemExit as leaving:
        status = exit_status(leaving)
    except BaseException:  # as the interpreter would: the traceback on stderr, status 1
        traceback.print_exc()
        status = 1
    # What interpreter shutdown does that a learner could see: the atexit handlers (the report among
    # them) and flushed output; skipping the rest of it (tearing down torch's modules) saves 1.4 s a run.
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(status)


def device() -> str:
    """The hardware the run computed on, as the course names it; "" for a run that never imported torch."""
    if "torch" not in sys.modules:
        return ""
    from mi_course.runtime import device_description

    return device_description()


def send_figures_to(path: str) -> None:
    """Have ``mi_course.plotting.show`` hand each figure's page HTML to the run, one JSON line each in ``path``."""
    from mi_course import plotting

    def keep(html: str) -> None:
        with open(path, "a", encoding="utf-8") as figures:
            figures.write(json.dumps(html) + "\n")

    plotting.send_figures_to(keep)


def exit_status(leaving: SystemExit) -> int:
    """The status ``sys.exit(code)`` gives a process: an int as is, None as 0, anything else printed, as 1."""
    if leaving.code is None or isinstance(leaving.code, int):
        return leaving.code or 0
    print(leaving.code, file=sys.stderr)
    return 1


def use_package_under_test() -> None:
    """Put PACKAGE_ROOT first on the path, unless the installed ``mi_course`` is already the one there.

    Adding the checkout itself would expose what a learner's path lacks (its ``*.egg-info`` among it).
    """
    import importlib.util

    installed = importlib.util.find_spec("mi_course")
    if installed is not None:
        assert installed.origin is not None, "mi_course is a regular package, with an __init__.py"
        if os.path.dirname(os.path.dirname(installed.origin)) == os.path.realpath(PACKAGE_ROOT):
            return
    sys.path.insert(0, PACKAGE_ROOT)


def serve() -> None:
    use_package_under_test()
    sys.addaudithook(audit)
    imported = preload()
    protocol = sys.stdout
    print(json.dumps(imported), file=protocol, flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            run_child(request, imported)
        print(json.dumps({"pid": pid}), file=protocol, flush=True)
        _, status = os.waitpid(pid, 0)
        print(json.dumps({"status": os.waitstatus_to_exitcode(status)}), file=protocol, flush=True)


if __name__ == "__main__":
    serve()
