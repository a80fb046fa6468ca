"""The GitHub workflows are valid, and publish only after the GPU run of every snippet passes; pull
requests run .ci/run, which runs the README's commands, whose setup finds or installs a browser."""

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

import dev

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"


def validate(*files: Path) -> subprocess.CompletedProcess:
    checker = Path(sys.executable).with_name("check-jsonschema")
    return subprocess.run(
        [str(checker), "--builtin-schema", "vendor.github-workflows", *map(str, files)], capture_output=True, text=True
    )


def load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def test_workflows_match_github_schema():
    done = validate(*sorted(WORKFLOWS.glob("*.yml")))
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_validator_rejects_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text((WORKFLOWS / "ci.yml").read_text().replace("runs-on: ubuntu-latest", "runs_on: ubuntu-latest"))
    assert validate(broken).returncode != 0


def test_pull_requests_run_ci_run_which_runs_the_readme_commands_and_nothing_else():
    ci = load("ci.yml")
    assert "pull_request" in ci[True]  # YAML 1.1 reads the key `on` as True
    runs = [step["run"] for step in ci["jobs"]["cpu-suite"]["steps"] if "run" in step]
    assert runs[0] == ".ci/run" and not any(re.search(r"apt-get|pip |dev\.py", run) for run in runs[1:])
    script = "\n".join(line.split("#")[0] for line in (ROOT / ".ci" / "run").read_text().splitlines())
    assert re.findall(r"python3 dev\.py \w+", script) == [
        "python3 dev.py setup",
        "python3 dev.py lint",
        "python3 dev.py test",
        "python3 dev.py test",
    ]
    assert not re.search(r"apt-get|\bpip\b|playwright", script), (
        "setup belongs in dev.py, where the README's command runs it"
    )
    quick_start = (ROOT / "README.md").read_text().split("## Quick start")[1].split("\n## ")[0]
    assert all(f"python3 dev.py {command}" in quick_start for command in ("setup", "lint", "test"))


def test_main_deploys_only_after_the_gpu_snippets_pass():
    publish = load("publish.yml")
    jobs = publish["jobs"]
    assert publish[True]["push"]["branches"] == ["main"]
    assert jobs["build"]["needs"] == "gpu-snippets" and jobs["deploy"]["needs"] == "build"
    assert any("deploy-pages" in step.get("uses", "") for step in jobs["deploy"]["steps"])
    (snippet_run,) = [step for step in jobs["gpu-snippets"]["steps"] if "dev.py test docs" in step.get("run", "")]
    assert snippet_run["env"]["MI_COURSE_DEVICE"] == "cuda"


def test_no_workflow_loosens_the_page_claims():
    """Claims are held to their recorded spreads everywhere (site_tools/claims.py): no workflow sets a tolerance."""
    for workflow in sorted(WORKFLOWS.glob("*.yml")):
        assert "RTOL" not in workflow.read_text() and "TOLERANCE" not in workflow.read_text().upper(), workflow.name


def test_the_published_badges_show_the_gpu_runs_measurements():
    jobs = load("publish.yml")["jobs"]
    uploads = [step for step in jobs["gpu-snippets"]["steps"] if "upload-artifact" in step.get("uses", "")]
    downloads = [step for step in jobs["build"]["steps"] if "download-artifact" in step.get("uses", "")]
    records = yaml.safe_load((WORKFLOWS.parents[1] / "mkdocs.yml").read_text())["extra"]["run_records"]
    assert uploads and downloads and uploads[0]["with"]["name"] == downloads[0]["with"]["name"]
    assert records.rstrip("/") == downloads[0]["with"]["path"].rstrip("/") == uploads[0]["with"]["path"].rstrip("/")
    build_steps = [step.get("name", "") for step in jobs["build"]["steps"]]
    assert build_steps.index(downloads[0]["name"]) < build_steps.index("Build the site")


@pytest.mark.parametrize("workflow", ["ci.yml", "publish.yml"])
def test_the_gpu_runner_label_is_set_in_one_place(workflow):
    gpu_jobs = [name for name, job in load(workflow)["jobs"].items() if "gpu" in str(job["runs-on"])]
    assert gpu_jobs == (["gpu-snippets"] if workflow == "publish.yml" else [])


def test_a_weekly_canary_tests_the_newest_releases_and_a_job_tests_the_lowest_bounds():
    drift = load("drift.yml")
    assert drift[True]["schedule"] and "workflow_dispatch" in drift[True]
    newest = " ".join(step.get("run", "") for step in drift["jobs"]["newest"]["steps"])
    assert "--upgrade transformer-lens torch plotly mkdocs-material" in newest
    lowest = " ".join(step.get("run", "") for step in drift["jobs"]["lowest"]["steps"])
    assert "--resolution lowest-direct" in lowest and "pip install -r build/resolved-lowest.txt" in lowest
    for job in ("newest", "lowest"):
        assert any("-m pytest" in step.get("run", "") for step in drift["jobs"][job]["steps"]), f"{job} runs no tests"


def test_every_direct_dependency_declares_a_lower_and_an_upper_bound():
    import tomllib

    project = tomllib.loads((WORKFLOWS.parents[1] / "pyproject.toml").read_text())["project"]
    for requirement in project["dependencies"]:
        spec = requirement.split(";")[0]
        assert ">=" in spec and "<" in spec.replace("<=", ""), f"{requirement}: declare a tested lower and upper bound"


# --- dev.py's setup finds a browser, or installs Debian's with apt, or says how to get one ----------


@pytest.fixture
def machine(tmp_path, monkeypatch):
    """A PATH holding only fakes (and the few tools they use): add executables with ``machine(name, script)``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("env", "sleep", "readlink", "chmod", "dirname"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    monkeypatch.setenv("PATH", str(bin_dir))

    def add(name: str, script: str = "exit 0") -> Path:
        path = bin_dir / name
        path.write_text(f"#!/bin/sh\n{script}\n")
        path.chmod(0o755)
        return path

    return add


# Logs each call with its stdin and DEBIAN_FRONTEND; `install` puts a chromium on PATH, as apt does.
FAKE_APT_GET = """echo "$* < $(readlink /proc/$$/fd/0) $DEBIAN_FRONTEND" >> "$(dirname "$0")/apt.log"
if [ "$2" = install ]; then printf '#!/bin/sh\\n' > "$(dirname "$0")/chromium"; chmod +x "$(dirname "$0")/chromium"; fi"""
REFUSING_SUDO = 'echo "sudo: a password is required" >&2; exit 1'


def apt_log(apt_get: Path) -> list[str]:
    log = apt_get.with_name("apt.log")
    return log.read_text().splitlines() if log.exists() else []


@pytest.mark.parametrize("root", [True, False], ids=["as root", "through passwordless sudo"])
def test_setup_installs_debians_chromium_with_apt_non_interactively(machine, monkeypatch, root):
    apt_get = machine("apt-get", FAKE_APT_GET)
    machine("sudo", '[ "$1" = -n ] && shift; "$@"')  # passwordless
    monkeypatch.setattr(dev.os, "geteuid", lambda: 0 if root else 1000)
    assert dev.ensure_browser(install=True) == str(apt_get.with_name("chromium"))
    assert apt_log(apt_get) == [
        "-q update < /dev/null noninteractive",
        "-q install -y chromium < /dev/null noninteractive",
    ]


@pytest.mark.parametrize("browser, root", [("chromium", True), ("google-chrome", False)])
def test_setup_takes_a_browser_already_on_path_and_leaves_apt_alone(machine, monkeypatch, browser, root):
    apt_get = machine("apt-get", FAKE_APT_GET)
    machine("sudo", REFUSING_SUDO)
    monkeypatch.setattr(dev.os, "geteuid", lambda: 0 if root else 1000)
    found = machine(browser)
    assert dev.ensure_browser(install=True) == str(found)
    assert apt_log(apt_get) == []


def test_without_a_browser_or_root_setup_says_in_one_line_how_to_install_one(machine, monkeypatch, capsys):
    apt_get = machine("apt-get", "exec sleep 60")  # would hang, were it run
    machine("sudo", REFUSING_SUDO)
    monkeypatch.setattr(dev.os, "geteuid", lambda: 1000)
    start = time.perf_counter()
    assert dev.ensure_browser(install=True) is None
    assert time.perf_counter() - start < 5 and apt_log(apt_get) == []
    (line,) = capsys.readouterr().err.splitlines()
    assert "sudo apt-get install chromium" in line


def test_a_stalled_apt_get_is_stopped_and_setup_says_how_to_install_a_browser(machine, monkeypatch, capsys):
    machine("apt-get", "exec sleep 60")
    monkeypatch.setattr(dev.os, "geteuid", lambda: 0)
    monkeypatch.setattr(dev, "APT_TIMEOUT_S", 1)
    start = time.perf_counter()
    assert dev.ensure_browser(install=True) is None
    assert time.perf_counter() - start < 10
    assert "sudo apt-get install chromium" in capsys.readouterr().err.splitlines()[-1]


def test_a_current_install_still_looks_for_a_browser_each_run_but_installs_none(machine, monkeypatch, tmp_path, capsys):
    apt_get = machine("apt-get", FAKE_APT_GET)
    monkeypatch.setattr(dev.os, "geteuid", lambda: 0)
    monkeypatch.setattr(dev, "STAMP", tmp_path / "stamp")
    dev.STAMP.write_text(dev.fingerprint())
    dev.ensure_environment()
    assert "sudo apt-get install chromium" in capsys.readouterr().err and apt_log(apt_get) == []
    machine("chromium")  # installed since
    dev.ensure_environment()
    assert capsys.readouterr().err == ""
