"""The notebook generated from each Markdown page with code (site_tools/hooks/page_notebooks.py).

For every ``docs/**/*.md`` with Python code: its notebook starts with the Colab-only install, asks
Colab for a GPU, holds the page's snippets expanded and in the page's order, and runs top to bottom
in a fresh kernel from a temporary folder, offline (cells that need the network are removed first,
and the test records which). A page without Python code gets no notebook.

Running a page's notebook re-runs all of its snippets in one kernel (about 4 minutes for all pages on
a 2-core CPU); the page tests then check that each snippet printed the same numbers alone as it did
there. One page's notebook: ``python3 dev.py test tests/test_page_notebooks.py -k step1``.
"""

from __future__ import annotations

import functools
import json
import os
import re
import time
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
import yaml

from site_tools import determinism, runs
from site_tools.claims import PageError
from site_tools.hooks import claim_precision, page_notebooks
from site_tools.notebooks import CellError, execute
from site_tools.page_checks import ANSI_ESCAPE, Limits
from site_tools.pages import INCLUDE_LINE, Page, Prose, Snippet, markdown_pages, parse
from site_tools.pytest_plugin import reused_run
from site_tools.quotes import cell_printed

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SNIPPETS = ROOT / "snippets"
MKDOCS = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
HOOK = ROOT / "site_tools" / "hooks" / "page_notebooks.py"
PAGES = [page.path for page in markdown_pages(ROOT)]
# Which pages have Python code, as the page tests see it: a fence labelled python, inline or include.
PAGES_WITH_CODE = [page for page in PAGES if Page.read(page, ROOT).has_python]
PAGES_WITHOUT_CODE = [page for page in PAGES if page not in PAGES_WITH_CODE]


def src(page: Path) -> str:
    return page.relative_to(DOCS).as_posix()


def page_id(page: Path) -> str:
    return src(page).removesuffix(".md")


def notebook_of(page: Path) -> dict | None:
    return page_notebooks.page_notebook(page.read_text(encoding="utf-8"), ROOT, src(page), MKDOCS["site_url"])


def code_cells(notebook: dict) -> list[dict]:
    return [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]


@functools.cache
def hub_reachable() -> bool:
    from mi_course.zoo import (
        hub_reachable as probe,  # imports TransformerLens: only asked when a page needs it
    )

    return probe()


def runnable(notebook: dict) -> tuple[dict, list[str]]:
    """A copy of ``notebook`` without the cells the page skips, and why each was removed."""
    kept, removed = [], []
    for cell in notebook["cells"]:
        if page_notebooks.SKIP_TAG in cell["metadata"].get("tags", []):
            removed.append(f"an inline block the page skips: {cell['metadata']['mi_course']['skip_reason']}")
        else:
            kept.append(cell)
    return {**notebook, "cells": kept}, removed


def has_network_cells(notebook: dict) -> bool:
    return any(page_notebooks.NETWORK_TAG in cell["metadata"].get("tags", []) for cell in notebook["cells"])


def run_notebook(notebook: dict, name: str, online: bool | None = None) -> nbformat.NotebookNode:
    """Run every cell in a fresh kernel from an empty temporary folder; a raising cell fails with its traceback.

    Offline, the kernel runs with ``MI_COURSE_HUB_TWINS=1``: cells tagged ``requires-network`` load
    each hub model's shipped twin, as in the page's snippet tests.
    """
    from mi_course.zoo import HUB_TWINS_SWITCH

    offline = not (hub_reachable() if online is None else online) and has_network_cells(notebook)
    try:
        with pytest.MonkeyPatch.context() as patch:
            if offline:
                patch.setenv(HUB_TWINS_SWITCH, "1")  # the kernel inherits it
            return execute(notebook, Limits.from_environment().timeout_s)
    except CellError as error:
        snippet = error.cell.metadata.get("mi_course", {}).get("snippet") if error.cell is not None else None
        where = f"snippets/{snippet}" if snippet else "a cell"
        raise PageError(f"{name}: {where} raised in the notebook:\n{ANSI_ESCAPE.sub('', str(error))[-3000:]}") from None


def snippet_runs(notebook: nbformat.NotebookNode, offline: bool) -> list[runs.RunRecord]:
    """A run record of each snippet cell of a run notebook: what it printed, keyed by the script it ran
    (and, for a cell that needs the network, run ``offline``, by its twin, as its page test keys its run)."""
    cells = [
        cell for cell in notebook.cells if cell.cell_type == "code" and "snippet" in cell.metadata.get("mi_course", {})
    ]
    on_twin = {**os.environ, runs.TWINS_VARIABLE: "1"}
    return [
        runs.RunRecord(name, runs.NOTEBOOK, runs.RunKey.of(Snippet(name, ROOT).script, env), cell_printed(cell))
        for cell in cells
        for name in [cell.metadata["mi_course"]["snippet"]]
        for env in [on_twin if offline and page_notebooks.NETWORK_TAG in cell.metadata.get("tags", []) else None]
    ]


def headings(text: str) -> list[str]:
    """The Markdown headings of ``text``, outside code fences."""
    return [
        line.strip()
        for part in parse(text.split("\n"))
        if isinstance(part, Prose)
        for line in part.lines
        if re.match(r"#{1,6} ", line)
    ]


# ---- every page ----------------------------------------------------------------------------------


def test_the_pages_with_code_are_found():
    assert len(PAGES_WITH_CODE) >= 8 and PAGES_WITHOUT_CODE, (PAGES_WITH_CODE, PAGES_WITHOUT_CODE)


@pytest.mark.parametrize("page", PAGES_WITHOUT_CODE, ids=page_id)
def test_a_page_without_python_code_gets_no_notebook(page):
    assert notebook_of(page) is None


@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=page_id)
def test_the_notebook_is_valid_and_asks_colab_for_a_gpu(page):
    notebook = notebook_of(page)
    nbformat.validate(nbformat.from_dict(notebook))
    assert notebook["metadata"]["accelerator"] == "GPU"
    assert notebook["metadata"]["colab"] == {"gpuType": "T4", "provenance": []}
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"
    assert page_notebooks.notebook_json(notebook) == page_notebooks.notebook_json(notebook_of(page)), (
        "not deterministic"
    )


@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=page_id)
def test_the_first_cell_installs_the_course_in_colab_only(page):
    """The convention of the notebook pages (tests/test_site.py), for the generated notebooks."""
    spec = (SNIPPETS / "colab-install.txt").read_text().strip().removeprefix("pip ")
    first = notebook_of(page)["cells"][0]
    assert first["cell_type"] == "code"
    assert 'if "google.colab" in sys.modules:' in first["source"]
    assert f"""get_ipython().run_line_magic("pip", '{spec}')""" in first["source"]


@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=page_id)
def test_the_cells_follow_the_page_with_every_snippet_expanded(page):
    expected = []  # ("snippet", path) or ("inline", code), in the page's order
    for fence in Page.read(page, ROOT).code_blocks:
        if fence.info == "python":
            expected += (
                [("snippet", path) for path in fence.includes] if fence.is_include_block else [("inline", fence.text)]
            )
    notebook = notebook_of(page)
    cells = code_cells(notebook)[1:]
    actual = [
        ("snippet", cell["metadata"]["mi_course"]["snippet"])
        if "snippet" in cell["metadata"].get("mi_course", {})
        else ("inline", cell["source"])
        for cell in cells
    ]
    assert [kind for kind, _ in actual] == [kind for kind, _ in expected]
    assert [name for kind, name in actual if kind == "snippet"] == [
        name for kind, name in expected if kind == "snippet"
    ]
    for cell, (kind, name) in zip(cells, expected):
        source = cell["source"].removeprefix(page_notebooks.SOLUTION_TITLE + "\n")  # a solution's title aside
        if kind == "snippet":
            assert source == Snippet(name, ROOT).script.rstrip("\n")
        else:
            assert source.split() == name.split()  # the same code, dedented
    for cell in notebook["cells"]:
        assert not any(map(INCLUDE_LINE.match, cell["source"].split("\n"))), "an include line was left"
        assert "pytest-codeblocks" not in cell["source"]
        assert cell["cell_type"] == "markdown" or "--8<--" not in cell["source"]
    markdown = "\n".join(cell["source"] for cell in notebook["cells"] if cell["cell_type"] == "markdown")
    assert headings(markdown) == headings(page.read_text(encoding="utf-8"))


@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=page_id)
def test_expected_outputs_and_the_install_line_are_not_code(page):
    notebook = notebook_of(page)
    sources = [cell["source"] for cell in code_cells(notebook)]
    for fence in Page.read(page, ROOT).code_blocks:
        if fence.shown_output and fence.shown_output.strip():
            assert not any(fence.shown_output.strip() in source for source in sources), fence.shown_output
    install = (SNIPPETS / "colab-install.txt").read_text().strip()
    assert not any(install in cell["source"] for cell in notebook["cells"][1:])


def exercise_cells(notebook: dict, kind: str) -> list[dict]:
    """The code cells of a notebook that run an exercise's stub (``kind="stub"``) or its solution."""
    return [
        cell
        for cell in code_cells(notebook)
        if cell["metadata"].get("mi_course", {}).get("snippet", "").endswith(f"_{kind}.py")
    ]


@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=page_id)
def test_solutions_are_hidden_hints_folded_and_each_cell_shows_the_output_the_page_shows(page):
    """In Colab a learner sees each stub and what it prints, not the solution's code; hints stay folded."""
    notebook = notebook_of(page)
    shown = {
        fence.includes[-1]: fence.shown_output.strip()
        for fence in Page.read(page, ROOT).code_blocks
        if fence.is_include_block and fence.shown_output
    }
    for cell in code_cells(notebook)[1:]:
        name = cell["metadata"].get("mi_course", {}).get("snippet")
        printed = "".join(output["text"] for output in cell["outputs"]).strip()
        assert printed == shown.get(name, printed), name  # a snippet shows what the page shows under it
        hidden = cell["metadata"].get("cellView") == "form"
        assert hidden == cell["metadata"].get("jupyter", {}).get("source_hidden", False), name
        assert hidden == cell["source"].startswith(page_notebooks.SOLUTION_TITLE), name
        assert not (hidden and name and name.endswith("_stub.py")), f"{name}: a stub is hidden"
    assert all(cell["metadata"].get("cellView") == "form" for cell in exercise_cells(notebook, "solution"))
    assert all(cell["outputs"] for cell in exercise_cells(notebook, "stub")), "a stub without its expected output"
    markdown = "\n".join(cell["source"] for cell in notebook["cells"] if cell["cell_type"] == "markdown")
    hints = page.read_text(encoding="utf-8").count('??? tip "Hint')
    assert markdown.count("<details><summary>Hint") == hints
    assert markdown.count("<details>") == markdown.count("</details>")


@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=page_id)
def test_snippets_that_need_the_network_are_tagged(page):
    for cell in code_cells(notebook_of(page))[1:]:
        snippet = cell["metadata"].get("mi_course", {}).get("snippet")
        needs_network = snippet is not None and Snippet(snippet, ROOT).needs_network
        assert (page_notebooks.NETWORK_TAG in cell["metadata"].get("tags", [])) == needs_network, snippet


@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=page_id)
def test_the_notebook_runs_top_to_bottom_offline(page, record_property, request):
    notebook, removed = runnable(notebook_of(page))
    if len(code_cells(notebook)) <= 1:  # the install cell alone
        pytest.skip(f"every code cell of {src(page)} was removed: " + "; ".join(removed))
    for reason in removed:
        print(f"{src(page)}: removed before the run: {reason}")
    record_property("cells_removed", removed)
    online = has_network_cells(notebook) and hub_reachable()
    # The run's key is what it runs: the code cells in order (prose edits do not run it again), and the network.
    source = json.dumps({"code": [cell["source"] for cell in code_cells(notebook)], "online": online}, sort_keys=True)
    if reused_run(request.config, runs.COLAB, src(page), source) is not None:
        return  # this very notebook passed on this package, kernels and libraries; the summary says so
    start = time.perf_counter()
    done = run_notebook(notebook, src(page), online)
    record_property("run_seconds", round(time.perf_counter() - start, 1))
    # Each snippet's run here is compared with its run alone under the same key, whichever came first.
    offline = has_network_cells(notebook) and not online
    problems = [problem for record in snippet_runs(done, offline) if (problem := determinism.keep(ROOT, record))]
    assert not problems, "\n".join(problems)
    # The exercise loop as a learner meets it: each untouched stub says what to fill in, each solution passes.
    for cell in exercise_cells(done, "stub"):
        assert "raised NotImplementedError: fill in" in cell_printed(cell), cell["metadata"]["mi_course"]["snippet"]
    for cell in exercise_cells(done, "solution"):
        verdicts = [line for line in cell_printed(cell).splitlines() if re.match(r"\[\w+\] (PASS|FAIL) ", line)]
        assert verdicts and all(" PASS " in line for line in verdicts), cell["metadata"]["mi_course"]["snippet"]
    runs.save(ROOT, runs.RunRecord(src(page), runs.COLAB, runs.RunKey.of(source), ""))


# ---- synthetic pages: each check can fail --------------------------------------------------------

SYNTHETIC = """# A page

Intro with a [link](other.md#part) and one to [the home page](../index.md).

<figure markdown="span">
  ![A diagram](../assets/diagrams/circuit.svg)
  <figcaption>What the diagram shows.</figcaption>
</figure>

!!! note "Set up"
    Run this first:

    ```text
    --8<-- "colab-install.txt"
    ```

## Code

```python
--8<-- "hello.py"
```

<!--pytest-codeblocks:expected-output-->
```text
hello
```

??? success "Solution"

    ```python
    answer = 41 + 1
    print(answer)
    ```

```python
--8<-- "{last}"
```
"""


@pytest.fixture
def snippets(tmp_path) -> Path:
    folder = tmp_path / "snippets"
    folder.mkdir()
    (folder / "colab-install.txt").write_text((SNIPPETS / "colab-install.txt").read_text())
    (folder / "hello.py").write_text('print("hello")\n')
    (folder / "boom.py").write_text('raise RuntimeError("this snippet is broken")\n')
    (folder / "net.py").write_text(
        '# requires: network; offline, the tests run it on gpt2-twin\nimport os\nprint(os.environ.get("MI_COURSE_HUB_TWINS"))\n'
    )
    return folder


def synthetic(snippets: Path, last: str) -> dict:
    return page_notebooks.page_notebook(
        SYNTHETIC.replace("{last}", last), snippets.parent, "sub/page.md", "https://example.org/site/"
    )


def test_a_synthetic_page_becomes_install_then_the_page_in_order(snippets):
    notebook = synthetic(snippets, "net.py")
    kinds = [cell["cell_type"] for cell in notebook["cells"]]
    assert kinds == ["code", "markdown", "code", "markdown", "code", "code"]
    install, intro, hello, solution, inline, net = notebook["cells"]
    assert "google.colab" in install["source"]
    assert (
        intro["source"].startswith("# A page") and "**Set up**" in intro["source"] and "--8<--" not in intro["source"]
    )
    assert "[link](https://example.org/site/sub/other/#part)" in intro["source"]
    assert "[the home page](https://example.org/site/)" in intro["source"]
    assert "![A diagram](https://example.org/site/assets/diagrams/circuit.svg)" in intro["source"]
    assert "*What the diagram shows.*" in intro["source"] and "<figure" not in intro["source"]  # Jupyter shows it
    assert hello["source"] == 'print("hello")' and hello["metadata"]["mi_course"]["snippet"] == "hello.py"
    assert "hello" not in solution["source"] and "**Solution**" in solution["source"]
    assert inline["source"] == f"{page_notebooks.SOLUTION_TITLE}\nanswer = 41 + 1\nprint(answer)"
    assert inline["metadata"] == {"cellView": "form", "jupyter": {"source_hidden": True}}
    assert net["metadata"]["tags"] == [page_notebooks.NETWORK_TAG]
    assert net["metadata"]["mi_course"]["twin_model"] == "gpt2-twin"


@pytest.mark.parametrize(("online", "switch"), [(False, "1"), (True, "None")])
def test_a_network_cell_runs_on_its_twin_offline_and_as_it_is_online(snippets, online, switch):
    notebook, removed = runnable(synthetic(snippets, "net.py"))
    assert removed == []
    done = run_notebook(notebook, "page.md", online=online)
    assert [cell_printed(cell) for cell in done.cells if cell.cell_type == "code"] == [
        "",
        "hello\n",
        "42\n",
        f"{switch}\n",
    ]


def test_a_raising_snippet_fails_the_run(snippets):
    with pytest.raises(PageError, match="(?s)snippets/boom.py raised.*this snippet is broken"):
        run_notebook(runnable(synthetic(snippets, "boom.py"))[0], "page.md")


def test_a_page_whose_only_python_is_an_example_in_a_markdown_fence_gets_no_notebook(snippets):
    page = '# Contributing\n\n````markdown\n```python\n;--8<-- "hello.py"\n```\n````\n\n```text\n--8<-- "colab-install.txt"\n```\n'
    assert page_notebooks.page_notebook(page, snippets.parent) is None


def test_the_notebook_leaves_the_pages_claims_out(snippets):
    page = '# P\n\nHead 1 wins.\n<!--claim: printed("hello.py", "x") > 1-->\nOn we go.\n\n```python\n--8<-- "hello.py"\n```\n'
    prose = page_notebooks.page_notebook(page, snippets.parent)["cells"][1]["source"]
    assert prose == "# P\n\nHead 1 wins.\nOn we go."


def test_a_skipped_inline_block_is_tagged_with_its_reason(snippets):
    page = '# P\n\n<!--pytest.mark.skip(reason="needs a GPU")-->\n```python\nimport cuda_only\n```\n'
    cell = page_notebooks.page_notebook(page, snippets.parent)["cells"][-1]
    assert cell["metadata"]["tags"] == [page_notebooks.SKIP_TAG]
    notebook, removed = runnable(page_notebooks.page_notebook(page, snippets.parent))
    assert removed == ["an inline block the page skips: needs a GPU"] and len(notebook["cells"]) == 2


# ---- the build: notebooks beside their pages, links under the titles ------------------------------


def test_colab_opens_notebook_pages_from_main_and_generated_ones_from_the_colab_branch():
    repo = MKDOCS["repo_url"]
    assert page_notebooks.colab_url(repo, "docs/a/b.ipynb") == (
        "https://colab.research.google.com/github/mi-course/mi-course/blob/main/docs/a/b.ipynb"
    )
    assert page_notebooks.colab_url(repo, page_notebooks.branch_path("a/b.md"), page_notebooks.COLAB_BRANCH) == (
        "https://colab.research.google.com/github/mi-course/mi-course/blob/colab/a/b.ipynb"
    )


def test_the_hook_publishes_each_notebook_beside_its_page_and_links_it():
    from mkdocs.config import load_config
    from mkdocs.structure.files import get_files

    assert str(HOOK.relative_to(ROOT)) in MKDOCS["hooks"]
    config = load_config(str(ROOT / "mkdocs.yml"), hooks=[str(HOOK)])  # the other hooks play no part here
    files = config.plugins.on_files(get_files(config), config=config)
    for page in PAGES:
        path = page_notebooks.site_path(src(page), files.get_file_from_path(src(page)).dest_uri)
        generated = files.get_file_from_path(path)
        if page in PAGES_WITHOUT_CODE:
            assert generated is None, path
            continue
        assert path == f"{page_id(page)}/{page.stem}.ipynb" or page.stem == "index"
        assert json.loads(generated.content_string) == notebook_of(page)
    step1 = SimpleNamespace(file=SimpleNamespace(src_uri="fundamentals/step1-ml-prerequisites.md"))
    html = config.plugins.on_page_content("<h1>Step 1</h1><p>text</p>", page=step1, config=config, files=files)
    colab = "https://colab.research.google.com/github/mi-course/mi-course/blob/colab/fundamentals/step1-ml-prerequisites.ipynb"
    assert html.startswith('<h1>Step 1</h1><p class="notebook-links">')
    test = "<code>python3 dev.py test tests/test_page_notebooks.py -k step1-ml-prerequisites</code>"
    assert "tested by" not in html.split("</p>", 1)[0], "the notebook's test is out of the reading flow"
    assert '<details class="page-verified"><summary>How this page is verified</summary><ul><li>Notebook:' in html
    assert test in html
    boxed = f"<h1>Step 1</h1><details>{claim_precision.NOTEBOOK_MARK}</details>"  # the box claim_precision.py made
    html = config.plugins.on_page_content(boxed, page=step1, config=config, files=files)
    assert html.count("How this page is verified") == 0 and test in html.split("<details>", 1)[1]
    assert 'href="step1-ml-prerequisites.ipynb" download>Download the notebook</a>' in html
    assert f'href="{colab}">Open in Colab</a>' in html
    index = SimpleNamespace(file=SimpleNamespace(src_uri="index.md"))
    assert config.plugins.on_page_content("<h1>Home</h1>", page=index, config=config, files=files) == "<h1>Home</h1>"


def test_the_command_line_writes_what_the_workflow_pushes_to_the_colab_branch(tmp_path):
    written = page_notebooks.write_all(tmp_path, ROOT)
    assert sorted(path.relative_to(tmp_path).as_posix() for path in written) == sorted(
        page_notebooks.branch_path(src(page)) for page in PAGES_WITH_CODE
    )
    for page in PAGES_WITH_CODE:
        assert (tmp_path / page_notebooks.branch_path(src(page))).read_text() == page_notebooks.notebook_json(
            notebook_of(page)
        )


def test_the_publish_workflow_pushes_the_notebooks_to_the_colab_branch():
    build = yaml.safe_load((ROOT / ".github" / "workflows" / "publish.yml").read_text())["jobs"]["build"]
    assert build["permissions"] == {"contents": "write"}
    runs = "\n".join(step.get("run", "") for step in build["steps"])
    assert "site_tools/hooks/page_notebooks.py" in runs
    assert f"HEAD:refs/heads/{page_notebooks.COLAB_BRANCH}" in runs
