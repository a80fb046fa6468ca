"""Rules that keep the site, the snippets and the package in step with each other."""

import io
import re
import subprocess
import sys
import tokenize
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml

import dev
from site_tools.pages import SECTION_MARKER, markdown_pages, notebook_pages
from site_tools.pages import snippet_files as pages_snippet_files

ROOT = Path(__file__).resolve().parents[1]
DOCS, SNIPPETS = ROOT / "docs", ROOT / "snippets"
MKDOCS = yaml.safe_load((ROOT / "mkdocs.yml").read_text())


def pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def included_files() -> set[str]:
    return {path for page in markdown_pages(ROOT) for path in page.includes}


def snippet_files() -> list[Path]:
    """Every snippet script, as the page model lists them."""
    return [snippet.path for snippet in pages_snippet_files(ROOT)]


def test_every_snippet_is_included_by_a_page():
    orphans = [
        str(p.relative_to(ROOT)) for p in snippet_files() if str(p.relative_to(SNIPPETS)) not in included_files()
    ]
    assert not orphans, f"snippet files no page includes (include them or delete them): {orphans}"


def snippet_folder(page: Path) -> str:
    """The snippet folder a page's code lives in: its name, with ``_`` for ``-`` (a step page: ``stepN``)."""
    step = re.match(r"step\d+(?=-)", page.stem)
    return step.group() if step else page.stem.replace("-", "_")


def test_each_page_includes_snippets_only_from_its_own_folder():
    """Shared files at the top of snippets/ (the Colab install cell) aside."""
    strays = [
        f"{page.path.relative_to(ROOT)} includes {path} (its folder is snippets/{snippet_folder(page.path)}/)"
        for page in markdown_pages(ROOT)
        for path in page.includes
        if len(Path(path).parts) > 1 and Path(path).parts[0] != snippet_folder(page.path)
    ]
    assert not strays, "a snippet folder mirrors its page's name: " + "; ".join(strays)


def test_no_page_names_a_test_by_its_pytest_id():
    """A learner reads "a test shows it", not a node id; the file may be named."""
    ids = [
        f"{page.relative_to(ROOT)}: {hit}" for page in pages() for hit in re.findall(r"\S*::test_\w+", page.read_text())
    ]
    assert not ids, ids


def test_every_include_names_an_existing_snippet():
    missing = sorted(path for path in included_files() if not (SNIPPETS / path).is_file())
    assert not missing, f"pages include snippets that do not exist: {missing}"


def test_snippets_take_the_device_from_get_device_and_seed_their_randomness():
    for snippet in snippet_files():
        code = snippet.read_text()
        assert not re.search(r"""\.cuda\(|["']cuda["']|["']mps["']""", code), (
            f"{snippet.name}: use mi_course.get_device()"
        )
        if re.search(r"torch\.(randn|rand|randint|randperm)\(|nn\.(Linear|Module)\b", code):
            assert re.search(r"seed_everything\(|torch\.manual_seed\(", code), (
                f"{snippet.name} draws random numbers unseeded"
            )


def nav_pages(entries) -> list[str]:
    found = []
    for entry in entries:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        found += nav_pages(value) if isinstance(value, list) else [value]
    return found


def test_nav_lists_every_page_and_only_pages_that_exist():
    listed = nav_pages(MKDOCS["nav"])
    on_disk = [str(page.relative_to(DOCS)) for page in pages() + notebook_pages(ROOT)]
    assert sorted(listed) == sorted(on_disk)


def test_site_configuration_keeps_the_traps_closed():
    extensions = {
        next(iter(e)) if isinstance(e, dict) else e: (e[next(iter(e))] if isinstance(e, dict) else {})
        for e in MKDOCS["markdown_extensions"]
    }
    assert extensions["pymdownx.snippets"] == {"base_path": ["snippets", "."], "check_paths": True}
    jupyter = next(p["mkdocs-jupyter"] for p in MKDOCS["plugins"] if isinstance(p, dict) and "mkdocs-jupyter" in p)
    # mkdocs-jupyter runs nothing: each notebook page runs once, in its test, which fails on a raising cell,
    # and the build renders that run (or runs a notebook once itself when no current run exists).
    assert jupyter["execute"] is False and "site_tools/hooks/executed_notebooks.py" in MKDOCS["hooks"]
    assert {"content.code.copy", "search.highlight"} <= set(MKDOCS["theme"]["features"])
    assert len(MKDOCS["theme"]["palette"]) == 2, "light/dark toggle"


def test_colab_install_cell_installs_this_repository():
    assert MKDOCS["repo_url"] in (SNIPPETS / "colab-install.txt").read_text()


def test_every_snippet_folder_ships_in_the_package():
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    folders = {p.parent for p in snippet_files()}
    shipped = {SNIPPETS.joinpath(*name.split(".")[2:]) for name in packages if name.startswith("mi_course.snippets")}
    assert folders <= shipped, f"add to [tool.setuptools] packages: {sorted(map(str, folders - shipped))}"


def test_the_wheel_ships_every_snippet_and_the_model_zoo(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("mi_course-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"mi_course/snippets/{p.relative_to(SNIPPETS)}" for p in snippet_files()}
    # The model zoo too: every file of mi_course/weights (weights, cards, grokking-113's history).
    zoo = ROOT / "mi_course" / "weights"
    expected |= {f"mi_course/weights/{p.relative_to(zoo)}" for p in zoo.rglob("*") if p.is_file()}
    assert expected <= shipped, sorted(expected - shipped)


def test_the_oldest_supported_python_is_the_same_everywhere():
    floor = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    version = floor.removeprefix(">=")
    assert tuple(map(int, version.split("."))) == dev.MIN_PYTHON, f"dev.MIN_PYTHON should match {floor}"
    assert f"Python {version}+" in dev.__doc__
    for said_by in (ROOT / "README.md", DOCS / "contributing.md"):
        assert f"Python {version} or newer" in said_by.read_text(), (
            f"{said_by.name} should say Python {version} or newer"
        )


def test_dev_py_stops_on_an_older_python_with_a_clear_message(monkeypatch):
    monkeypatch.setattr(sys, "version_info", (3, 10, 14, "final", 0))
    with pytest.raises(SystemExit, match=r"^dev.py needs Python 3\.11 or newer; this is Python 3\.10\.14$"):
        dev.main(["setup"])


MAX_SHARED_LINES = 5  # a snippet shows a module's code by including its section, never by repeating six lines of it


def code_lines(text: str) -> list[str]:
    """A file's statements as a copy would repeat them: each logical line (a signature wrapped over several lines
    is one) with its spacing normalised; blank lines, comments and section markers dropped."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, IndentationError):  # a stub whose include stands for its `def` line
        return [" ".join(line.split()) for line in text.split("\n") if line.strip() and not SECTION_MARKER.match(line)]
    lines, current = [], []
    for token in tokens:
        if token.type == tokenize.NEWLINE:
            lines.append(" ".join(current))
            current = []
        elif token.type not in (tokenize.COMMENT, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER):
            current.append(token.string)
    return [line for line in lines if line]


def longest_shared_run(a: list[str], b: list[str]) -> int:
    from difflib import SequenceMatcher

    return SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b)).size


def test_no_snippet_repeats_the_package_it_could_include():
    modules = {path: code_lines(path.read_text()) for path in sorted((ROOT / "mi_course").rglob("*.py"))}
    copies = []
    for snippet in pages_snippet_files(ROOT):
        ours = code_lines(snippet.source)
        for path, theirs in modules.items():
            if (shared := longest_shared_run(ours, theirs)) > MAX_SHARED_LINES:
                copies.append(f"snippets/{snippet.name} repeats {shared} lines of {path.relative_to(ROOT)}")
    assert not copies, "include the module's section instead (site_tools/pages.py): " + "; ".join(copies)


def test_the_copy_check_notices_a_copy():
    module = code_lines((ROOT / "mi_course" / "interventions.py").read_text())
    assert longest_shared_run(module[10:17], module) == 7 > MAX_SHARED_LINES


DIAGRAMS = DOCS / "assets" / "diagrams"
MARKDOWN_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?(?P<path>[^)\s>]+)")


def page_images() -> dict[str, Path]:
    """Each image a Markdown page shows, as ``page: path``, with the file it points to."""
    images = {}
    for page in pages():
        for match in MARKDOWN_IMAGE.finditer(page.read_text()):
            path = match["path"]
            if "://" not in path and not path.startswith("data:"):
                images[f"{page.relative_to(ROOT)}: {path}"] = (page.parent / path).resolve()
    return images


def test_every_diagram_is_shown_by_a_page_and_every_image_a_page_shows_exists():
    images = page_images()
    missing = sorted(shown for shown, file in images.items() if not file.is_file())
    assert not missing, f"pages show images that do not exist: {missing}"
    unused = sorted(str(p.relative_to(ROOT)) for p in DIAGRAMS.glob("*.svg") if p.resolve() not in images.values())
    assert not unused, f"diagrams no page shows (show them or delete them): {unused}"
    assert len(list(DIAGRAMS.glob("*.svg"))) >= 5


def test_a_diagram_whose_file_is_missing_fails_the_strict_build_with_its_name(tmp_path):
    """MkDocs checks a Markdown image's file like a link's, inside a md_in_html <figure> too."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text(
        '# Page\n\n<figure markdown="span">\n  ![a diagram](assets/diagrams/gone.svg)\n'
        "  <figcaption>A caption.</figcaption>\n</figure>\n"
    )
    (tmp_path / "mkdocs.yml").write_text("site_name: t\nmarkdown_extensions:\n  - attr_list\n  - md_in_html\n")
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert build.returncode != 0 and "assets/diagrams/gone.svg" in build.stderr, build.stderr
