"""The GitHub workflows are valid, and publish only after the GPU run of every snippet passes."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

WORKFLOWS = Path(__file__).resolve().parents[1] / ".github" / "workflows"


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


def test_pull_requests_run_the_readme_test_command():
    ci = load("ci.yml")
    assert "pull_request" in ci[True]  # YAML 1.1 reads the key `on` as True
    assert any("python3 dev.py test" in step.get("run", "") for step in ci["jobs"]["cpu-suite"]["steps"])


def test_main_deploys_only_after_the_gpu_snippets_pass():
    publish = load("publish.yml")
    jobs = publish["jobs"]
    assert publish[True]["push"]["branches"] == ["main"]
    assert jobs["build"]["needs"] == "gpu-snippets" and jobs["deploy"]["needs"] == "build"
    assert any("deploy-pages" in step.get("uses", "") for step in jobs["deploy"]["steps"])
    (snippet_run,) = [step for step in jobs["gpu-snippets"]["steps"] if "dev.py test docs" in step.get("run", "")]
    assert snippet_run["env"]["MI_COURSE_DEVICE"] == "cuda"


def test_the_published_badges_show_the_gpu_runs_measurements():
    jobs = load("publish.yml")["jobs"]
    uploads = [step for step in jobs["gpu-snippets"]["steps"] if "upload-artifact" in step.get("uses", "")]
    downloads = [step for step in jobs["build"]["steps"] if "download-artifact" in step.get("uses", "")]
    measurements = yaml.safe_load((WORKFLOWS.parents[1] / "mkdocs.yml").read_text())["extra"]["snippet_measurements"]
    assert uploads and downloads and uploads[0]["with"]["name"] == downloads[0]["with"]["name"]
    assert measurements.startswith(downloads[0]["with"]["path"].rstrip("/") + "/")
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
