"""The reader's aids: glossary tooltips, success-criteria checklists, measured badges beside snippets.

Unit tests import the site's hooks from ``site_tools/hooks``; site tests check the built pages (the shared
``site`` fixture) so that every page, snippet, term and step is covered, including ones added later.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from mkdocs.exceptions import PluginError

from mi_course.checkers import STEP_CHECKS
from site_tools import runs
from site_tools.hooks import claim_precision, glossary, progress, snippet_links
from site_tools.pages import markdown_pages

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


ENTRIES = glossary.load_glossary(DOCS / glossary.GLOSSARY_FILE)


# --- glossary -------------------------------------------------------------------------------------


def abbreviated(html: str) -> list[str]:
    return re.findall(r"<abbr [^>]*>([^<]*)</abbr>", html)


def test_glossary_terms_get_their_definition_in_text_and_nowhere_else():
    entries = [
        glossary.Entry("induction head", "Copies what came next.", ("induction heads",)),
        glossary.Entry("residual stream", "The running sum."),
    ]
    html = (
        "<p>Induction heads read the residual stream; an induction head copies.</p>"
        "<h2>Induction heads</h2><p><a href='#x'>induction head</a> <code>residual stream</code></p>"
        "<pre><span>induction head</span></pre><script>if (a<b) { x = 'residual stream'; }</script>"
        "<p>Not in words: induction headroom, pre-residual stream.</p>"
    )
    annotated = glossary.annotate(html, entries)
    assert abbreviated(annotated) == ["Induction heads", "residual stream", "induction head"]
    assert '<abbr title="Copies what came next.">Induction heads</abbr>' in annotated  # longest form, case kept
    assert "<h2>Induction heads</h2>" in annotated and "<code>residual stream</code>" in annotated
    assert "x = 'residual stream'" in annotated, "script text must stay untouched"
    assert re.sub(r"</?abbr[^>]*>", "", annotated) == html, "annotating only adds abbr elements"


def test_a_definition_cannot_break_out_of_its_attribute():
    entries = [glossary.Entry("logit lens", 'Reads "early" <predictions> & more.')]
    annotated = glossary.annotate("<p>the logit lens</p>", entries)
    assert (
        annotated
        == '<p>the <abbr title="Reads &quot;early&quot; &lt;predictions&gt; &amp; more.">logit lens</abbr></p>'
    )


def test_a_glossary_file_with_a_repeated_term_or_no_definition_is_refused(tmp_path):
    path = tmp_path / "glossary.yml"
    path.write_text("- term: SAE\n  definition: a\n- term: sparse autoencoder\n  forms: [sae]\n  definition: b\n")
    with pytest.raises(ValueError, match="'sae' is defined twice"):
        glossary.load_glossary(path)
    path.write_text("- term: SAE\n  definition: ' '\n")
    with pytest.raises(ValueError, match="'SAE' needs a term and a definition"):
        glossary.load_glossary(path)


def test_every_glossary_term_is_listed_on_the_glossary_page_and_explained_where_it_appears(site):
    page = (site / "appendix" / "glossary" / "index.html").read_text()
    for entry in ENTRIES:
        assert f'<dt id="{entry.anchor}">' in page, entry.term
    shown = set()
    for built in site.rglob("*.html"):
        shown |= {text.lower() for text in abbreviated(built.read_text())}
    unused = [entry.term for entry in ENTRIES if not shown & {form.lower() for form in (entry.term, *entry.forms)}]
    assert not unused, f"glossary terms no page uses: {unused}"


# --- progress -------------------------------------------------------------------------------------


def files_holding(pages: dict[str, str]):
    docs = [SimpleNamespace(src_uri=uri, content_string=text) for uri, text in pages.items()]
    return SimpleNamespace(documentation_pages=lambda: docs)


def test_each_step_needs_exactly_one_page_for_its_checklist():
    one_each = {f"{step}.md": f"<!-- progress: {step} -->" for step in STEP_CHECKS}
    progress.on_files(files_holding(one_each), {})
    missing = dict(list(one_each.items())[1:])
    with pytest.raises(PluginError, match=f"no page holds the checklist of {next(iter(STEP_CHECKS))}"):
        progress.on_files(files_holding(missing), {})
    with pytest.raises(PluginError, match="checklist is on both"):
        progress.on_files(files_holding({**one_each, "again.md": f"<!-- progress: {next(iter(STEP_CHECKS))} -->"}), {})
    with pytest.raises(PluginError, match="no step 'step99'"):
        progress.on_files(files_holding({**one_each, "x.md": "<!-- progress: step99 -->"}), {})


def test_the_step_pages_and_the_progress_page_show_every_criterion_with_the_same_keys(site):
    progress_page = (site / "progress" / "index.html").read_text()
    for step, check in STEP_CHECKS.items():
        keys = [f'data-progress-key="{step}:{index}"' for index in range(len(check.criteria))]
        pages = [
            built for built in site.rglob("*.html") if keys[0] in built.read_text() and built.parent.name != "progress"
        ]
        assert len(pages) == 1, f"{step}'s checklist should be on one step page, found {pages}"
        for key in keys:
            assert key in pages[0].read_text() and key in progress_page
    assert "progress.js" in progress_page


# --- badges ---------------------------------------------------------------------------------------


def demo_record(name: str, script: str, **cost) -> runs.RunRecord:
    return runs.RunRecord(name, runs.ALONE, runs.RunKey.of(script), "", **cost)


def visible(html: str) -> str:
    """What a reader sees of some HTML: its text, without tags or their attributes (titles, links)."""
    return re.sub(r"<[^>]*>", "", html)


def test_a_badge_shows_about_how_long_and_keeps_the_measurement_in_its_title():
    measured = demo_record("demo.py", "print(1)\n", cpu_s=12.34, wall_s=13.0, peak_mib=1234, device="cpu: 2 cores")
    shown = snippet_links.badge(measured, "python3 dev.py test x.md")
    assert visible(shown) == "about 13 s"
    assert "12.3 s CPU, 1,234 MiB peak, on cpu: 2 cores" in shown and "Tested by python3 dev.py test x.md" in shown
    no_wall = demo_record("demo.py", "print(1)\n", cpu_s=0.2, peak_mib=80, device="cpu: 2 cores")
    assert visible(snippet_links.badge(no_wall, "t")) == "under 1 s"
    assert snippet_links.about(125) == "about 2 min"
    missing = snippet_links.badge(None, "python3 dev.py test x.md")
    assert "not measured yet" in missing and 'title="python3 dev.py test x.md measures it"' in missing
    network = snippet_links.badge(None, "python3 dev.py test x.md", needs_network=True, twin="gpt2-twin")
    assert visible(network) == "needs the network: run it in Colab"
    assert "gpt2-twin" in network and "not measured yet" not in network


def test_a_reader_takes_only_a_run_of_the_snippet_as_it_is_now(tmp_path):
    (tmp_path / "mkdocs.yml").write_text("extra:\n  run_records: build/runs\n")
    record = demo_record("demo.py", "print(1)\n", cpu_s=1.0)
    runs.save(tmp_path, record)
    assert runs.current(tmp_path, runs.ALONE, "demo.py", "print(1)\n") == record
    assert runs.current(tmp_path, runs.ALONE, "demo.py", "print(2)\n") is None  # edited since
    other_package = runs.RunRecord(
        "demo.py", runs.ALONE, runs.RunKey(record.key.source, "0" * 16, record.key.environment), ""
    )
    runs.save(tmp_path, other_package)
    assert runs.current(tmp_path, runs.ALONE, "demo.py", "print(1)\n") is None  # made by another mi_course
    assert "python3 dev.py test x.md makes one" in runs.missing(
        "snippets/demo.py", runs.ALONE, "python3 dev.py test x.md"
    )


def test_every_included_snippet_has_a_badge_beside_it(site):
    for parsed in markdown_pages(ROOT):
        page, snippets = parsed.path, [snippet.name for snippet in parsed.snippets]
        if not snippets:
            continue
        built = (site / page.relative_to(DOCS).with_suffix("") / "index.html").read_text()
        if page.name == "index.md":
            built = (site / page.relative_to(DOCS).parent / "index.html").read_text()
        for snippet in snippets:
            after_link = built.split(f"snippets/{snippet}</code></a>", 1)
            assert len(after_link) == 2, f"{page.name}: no source link for {snippet}"
            assert after_link[1].lstrip().startswith('<span class="snippet-badge'), (
                f"{page.name}: no badge beside {snippet}"
            )


def test_the_badges_show_what_the_run_records_hold(tmp_path):
    """The hook reads the records mkdocs.yml names (written by the test run); no number is typed by hand."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "snippets" / "demo").mkdir(parents=True)
    (tmp_path / "snippets" / "demo" / "a.py").write_text("print(1)\n")
    (tmp_path / "snippets" / "demo" / "b.py").write_text("print(2)\n")
    hub = "# requires: network; offline, the tests run it on gpt2-twin\nprint(3)\n"
    (tmp_path / "snippets" / "demo" / "c.py").write_text(hub)
    (tmp_path / "mkdocs.yml").write_text("extra:\n  run_records: build/runs\n")
    runs.save(
        tmp_path,
        demo_record("demo/a.py", "print(1)\n", cpu_s=3.2, wall_s=4.0, peak_mib=512, device="cuda: NVIDIA H100"),
    )
    config = {"docs_dir": str(tmp_path / "docs"), "repo_url": "https://github.com/o/r"}
    page = SimpleNamespace(file=SimpleNamespace(src_uri="page.md"))
    markdown = "\n\n".join(f'```python\n--8<-- "demo/{name}.py"\n```' for name in "abc") + "\n"
    rendered = snippet_links.on_page_markdown(markdown, page, config, None)
    sources = [line for line in rendered.split("\n") if 'class="snippet-source"' in line]
    assert len(sources) == 3
    assert "about 4 s" in visible(sources[0]) and "3.2 s CPU, 512 MiB peak, on cuda: NVIDIA H100" in sources[0]
    assert "not measured yet" in visible(sources[1]), "demo/b.py has no measurement"
    assert "needs the network: run it in Colab" in visible(sources[2]) and "not measured yet" not in sources[2]
    for line in sources:  # the test command and the machine are in titles, out of the reading flow
        assert 'title="Tested by python3 dev.py test docs/page.md"' in line
        assert "dev.py" not in visible(line) and "MiB" not in visible(line), line


def test_a_drawn_figures_script_summary_leaves_its_output_block_and_the_rest_stays(tmp_path):
    """Under a rendered figure, 'figure "...": 1 trace' (what show() prints in a script) says nothing more."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "snippets" / "demo").mkdir(parents=True)
    (tmp_path / "mkdocs.yml").write_text("extra:\n  run_records: build/runs\n")
    scripts = {
        "mixed.py": "from mi_course.plotting import show\nshow(fig)\nprint(2)\n",
        "only.py": "from mi_course.plotting import show\nshow(fig)\n",
        "undrawn.py": "from mi_course.plotting import show\nshow(fig)\n",
    }
    for name, script in scripts.items():
        (tmp_path / "snippets" / "demo" / name).write_text(script)
        if name != "undrawn.py":  # no record: its figure is not drawn, so its summary stays
            record = runs.RunRecord(f"demo/{name}", runs.ALONE, runs.RunKey.of(script), "", ("<div>plot</div>",))
            runs.save(tmp_path, record)
    config = {"docs_dir": str(tmp_path / "docs"), "repo_url": "https://github.com/o/r"}
    page = SimpleNamespace(file=SimpleNamespace(src_uri="page.md"))
    summary = 'figure "Scores": 1 trace (scatter)'
    markdown = "\n\n".join(
        f'```python\n--8<-- "demo/{name}"\n```\n\n<!--pytest-codeblocks:expected-output-->\n```text\n{summary}\n'
        + ("2\n" if name == "mixed.py" else "")
        + "```"
        for name in scripts
    )
    rendered = snippet_links.on_page_markdown(markdown, page, config, None)
    blocks = rendered.split("--8<--")[1:]
    assert summary not in blocks[0] and '```{.text .snippet-output title="Output"}\n2\n```' in blocks[0]
    assert summary not in blocks[1] and "expected-output" not in blocks[1] and "```text" not in blocks[1]
    assert summary in blocks[2]


def test_an_output_block_is_labelled_and_tinted_and_other_text_blocks_are_not(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "mkdocs.yml").write_text("extra:\n  run_records: build/runs\n")
    config = {"docs_dir": str(tmp_path / "docs"), "repo_url": "https://github.com/o/r"}
    page = SimpleNamespace(file=SimpleNamespace(src_uri="page.md"))
    markdown = (
        "```text\npip install x\n```\n\n```python\nprint(2)\n```\n\n"
        '??? success "Solution"\n\n    ```python\n    print(3)\n    ```\n\n'
        "    <!--pytest-codeblocks:expected-output-->\n    ~~~~text\n    3\n    ~~~~\n"
    )
    markdown = markdown.replace(
        "```python\nprint(2)\n```\n",
        "```python\nprint(2)\n```\n\n<!--pytest-codeblocks:expected-output-->\n```text\n2\n```\n",
    )
    rendered = snippet_links.on_page_markdown(markdown, page, config, None).split("\n")
    assert rendered[0] == "```text", "a text block that is not output stays as it is"
    assert rendered.count('```{.text .snippet-output title="Output"}') == 1
    assert '    ~~~~{.text .snippet-output title="Output"}' in rendered, "indented, under a solution"


# --- versions -------------------------------------------------------------------------------------


def test_every_page_names_the_versions_it_was_built_with(site):
    from importlib.metadata import version

    expected = f"TransformerLens {version('transformer-lens').split('+')[0]}"
    for built in site.rglob("*.html"):
        footer = built.read_text().rsplit('<div class="md-copyright__highlight">', 1)[-1]
        assert "Verified on" in footer and expected in footer and f"torch {version('torch').split('+')[0]}" in footer, (
            built
        )


def test_no_two_figures_on_a_page_share_an_element_id(site):
    """Figures come from separate processes (each snippet's run); one id twice would draw two plots into one element."""
    for built in site.rglob("*.html"):
        ids = re.findall(r'id="(mi-course-(?:figure|attention)-[^"]+)"', built.read_text())
        assert len(ids) == len(set(ids)), f"{built}: repeated ids {sorted({i for i in ids if ids.count(i) > 1})}"


# --- how a page is verified ------------------------------------------------------------------------------


def test_the_title_gets_one_plain_sentence_and_the_spread_in_a_collapsed_box():
    summary = {
        "settings": 4,
        "numbers": 232,
        "moved": 1,
        "widest_relative_spread": 0.434783,
        "widest_in": "python -m mi_course check step2",
        "margin": 2.0,
    }
    block = claim_precision.verification(summary, "fundamentals/step2.md", change=("2.3e-05", 1e-05))
    note, box = block.split("\n\n", 1)
    assert visible(note) == (
        "Every output here is what its code prints; expect the same digits, except in 1 number that differs between CPUs."
    )
    assert box.startswith('<details class="page-verified">') and "<summary>How this page is verified</summary>" in box
    assert "<code>python3 dev.py test docs/fundamentals/step2.md</code>" in box
    assert "<code>python3 dev.py claims docs/fundamentals/step2.md</code>" in box
    assert "1 of 232 changed; the widest spread was 1e-05 on a printed 2.3e-05 (43% of that value)" in box
    assert "within 2 times its measured spread" in box and "wall time" in box
    assert claim_precision.NOTEBOOK_MARK in box, "page_notebooks.py lists the notebook's test there"
    assert "%" not in note and "moved" not in note, "the spread stays out of the reading flow"
    still = claim_precision.verification({**summary, "moved": 0}, "p.md", timed=False)
    assert "expect the same digits.</p>" in still and "none changed" in still and "wall time" not in still
    assert claim_precision.percent(0.002681) == "0.27%"


def test_every_page_with_claims_has_a_plain_sentence_and_a_how_it_is_verified_box(site):
    for claims in DOCS.rglob("*.claims.json"):
        page = claims.with_name(claims.name.removesuffix(".claims.json") + ".md").relative_to(DOCS)
        built = (site / page.with_suffix("") / "index.html").read_text()
        _, body = built.split("</h1>", 1)[1].split('class="page-verified-note">', 1)
        assert "Every output here is what its code prints" in body.split("</p>", 1)[0], page
        box = body.split('<details class="page-verified">', 1)[1].split("</details>", 1)[0]
        assert "How this page is verified" in box and "CPU kernel settings" in box, page
        assert f"<code>python3 dev.py test docs/{page.as_posix()}</code>" in box, page
        assert f"tests/test_page_notebooks.py -k {page.stem}</code>" in box, f"{page}: no notebook test in its box"
        assert claim_precision.NOTEBOOK_MARK not in built and "tested by" not in visible(built), page


# --- contracts: what a page and an exercise promise -------------------------------------------------

PAGE_CONTRACT = ('!!! abstract "This page"', "**At the end you can:**", "**It assumes:**", "**Time:**")
EXERCISE_CONTRACT = re.compile(
    r"^\*Exercise: \*\*difficulty\*\* [●○]{5} · \*\*importance\*\* [●○]{5} · about \d+ minutes\.\*$", re.M
)
UNPLANNED_PAGES = {"index.md", "progress.md", "contributing.md"}  # the home page plans the whole course


def page_contract_problems(text: str) -> list[str]:
    """What the box at the top of a page leaves out: what you can do after it, what it assumes, its time."""
    top = text[: text.find("\n## ")] if "\n## " in text else text
    return [f"no {part} before the first section" for part in PAGE_CONTRACT if part not in top]


def exercise_contract_problems(text: str) -> list[str]:
    """Each solution box must close an exercise that says its difficulty, importance and minutes, and gives
    a collapsed hint before the solution."""
    problems = []
    start = 0
    for solution in re.finditer(r'^\?\?\? success "Solution', text, re.M):
        exercise = text[start : solution.start()]
        line = text.count("\n", 0, solution.start()) + 1
        contracts = EXERCISE_CONTRACT.findall(exercise)
        if len(contracts) != 1:
            problems.append(f"line {line}: the solution's exercise has {len(contracts)} contract lines, not 1")
        elif not re.search(r'^\?\?\? tip "Hint', exercise[exercise.find(contracts[0]) :], re.M):
            problems.append(f"line {line}: no collapsed hint between the exercise's contract and its solution")
        start = solution.end()
    stubs = len(re.findall(r'^--8<-- "[^"]*_stub\.py"', text, re.M))
    if stubs > len(EXERCISE_CONTRACT.findall(text)):
        problems.append(f"{stubs} stubs, but {len(EXERCISE_CONTRACT.findall(text))} exercise contracts")
    return problems


@pytest.mark.parametrize(
    "page",
    [page for page in markdown_pages(ROOT) if page.path.name not in UNPLANNED_PAGES],
    ids=lambda page: page.path.name,
)
def test_every_page_opens_with_what_you_can_do_after_it_what_it_assumes_and_its_time(page):
    assert page_contract_problems(page.text) == []


@pytest.mark.parametrize("page", markdown_pages(ROOT), ids=lambda page: page.path.name)
def test_every_exercise_gives_difficulty_importance_minutes_and_a_hint_before_its_solution(page):
    assert exercise_contract_problems(page.text) == []


def test_the_contract_checks_name_what_a_page_or_an_exercise_leaves_out():
    contract = "*Exercise: **difficulty** ●●○○○ · **importance** ●●●○○ · about 10 minutes.*"
    stub, hint, solution = '--8<-- "a/x_stub.py"', '??? tip "Hint 1"', '??? success "Solution"'
    assert exercise_contract_problems("\n".join([contract, stub, hint, solution])) == []
    assert exercise_contract_problems("\n".join([contract, stub, solution])) == [
        "line 3: no collapsed hint between the exercise's contract and its solution"
    ]
    assert exercise_contract_problems("\n".join([hint, stub, solution])) == [
        "line 3: the solution's exercise has 0 contract lines, not 1",
        "1 stubs, but 0 exercise contracts",
    ]
    assert exercise_contract_problems(contract.replace("about 10", "about ten") + "\n" + solution) == [
        "line 2: the solution's exercise has 0 contract lines, not 1"
    ]
    page = '# T\n\n!!! abstract "This page"\n    **At the end you can:** x\n\n    **Time:** 1 h\n\n## A\n'
    assert page_contract_problems(page) == ["no **It assumes:** before the first section"]
