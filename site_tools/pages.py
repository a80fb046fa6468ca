"""The grammar of a course page and of a snippet, parsed here and nowhere else.

Every build hook (``site_tools/hooks/``) and every test reads pages through this module.

A **page** (``docs/**/*.md``) is prose and fenced blocks. An HTML comment binds to the next fence:

- ``<!--pytest-codeblocks:expected-output-->``: that fence is the output of the code block before it;
- ``<!--pytest.mark.skip(reason="...")-->``: that code block is skipped, for the reason given.

A ``python`` fence holds either code (an *inline block*) or only include lines ``--8<-- "path"``
(an *include block*: pymdownx.snippets puts each file there). A ``console`` fence whose first line
is ``$ python -m mi_course ...`` shows a command and what it prints (a *console claim*). Any other
fence is text. ``;--8<--`` shows an include line without including.

A **snippet** (``snippets/**/*.py``) is a script a page includes. Its first line may say that it needs
the network (the Hugging Face hub's GPT-2 small), naming the shipped model the tests run the same
file on instead (``# requires: network; offline, the tests run it on gpt2-twin``). It
may include a marked section of a module of ``mi_course`` (``--8<-- "mi_course/scratch.py:attention"``,
between ``# --8<-- [start:attention]`` and ``# --8<-- [end:attention]`` there): the code the course
teaches is written once, in the package, and the expanded text (``Snippet.script``) is what the page
shows, the tests run and the notebooks hold. A snippet that calls ``show(...)`` draws a figure.

A **notebook page** (``docs/**/*.ipynb``) is cells. Its markdown cells are Markdown like a page's;
a claim there (``<!--claim: ...-->``, ``ProseClaim``) quotes a code cell of the same notebook by its
cell id (``site_tools/quotes.py``).
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

DOCS_DIR = "docs"
SNIPPETS_DIR = "snippets"
INSTALL_SNIPPET = "colab-install.txt"  # the one install line of every page (a text fence includes it)
INCLUDE_BASES = (SNIPPETS_DIR, ".")  # where an include's path is looked for, in order (mkdocs.yml's base_path)
# In a page, ``--8<-- "step2/x.py"``; in a snippet, the same as a comment, so that its file stays valid Python.
INCLUDE_LINE = re.compile(r'^(?P<indent>[ \t]*)(?:#[ \t]*)?(?P<escape>;?)-{1,3}8<-{1,3}[ \t]+"(?P<path>[^"]+)"[ \t]*$')
SECTION_MARKER = re.compile(
    r"^[ \t]*#[ \t]*-{1,3}8<-{1,3}[ \t]+\[[ \t]*(?P<kind>start|end)[ \t]*:[ \t]*(?P<name>[a-z][-_0-9a-z]*)[ \t]*\][ \t]*$"
)
SECTION_PATH = re.compile(r"^(?P<path>.+?):(?P<section>[a-z][-_0-9a-z]*)$")
FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<marker>`{3,}|~{3,})(?P<info>.*)$")
MARKER_COMMENT = re.compile(r"^\s*<!--\s*(?P<marker>pytest[-.:\w]*)(?P<args>.*?)-->\s*$")
EXPECTED_OUTPUT = "pytest-codeblocks:expected-output"
SKIP_REASON = re.compile(r"""reason\s*=\s*(["'])(?P<reason>.*?)\1""")
COURSE_COMMAND = re.compile(r"^\$ (?P<command>python -m mi_course .+)$")
NETWORK_MARKER = "# requires: network"
NEEDS_NETWORK = re.compile(r"^# requires: network; offline, the tests run it on (?P<twin>[-\w]+)$")
ZOO_DIR = Path("mi_course") / "weights"  # a twin is a shipped model: a folder here with a card.json
PROSE_CLAIM = re.compile(r"<!--\s*claim:\s*(?P<expression>.+?)\s*-->", re.DOTALL)
SHOWS_FIGURE = re.compile(r"^\s*show\(", re.MULTILINE)
CODE_LANGUAGES = {"python", "sh", "bash"}  # the fences pytest-codeblocks runs: exactly these labels
PYTHON_LABELS = {"py", "py3", "python", "python3", "pycon", "ipython", "ipython3", "pyi", "jupyter"}


class PageSyntaxError(ValueError):
    """A page or snippet breaks the grammar above; the message says where."""


# ---- snippets -----------------------------------------------------------------------------------


def resolve_include(path: str, root: Path) -> Path:
    """The file an include names, looked for as pymdownx.snippets looks (``INCLUDE_BASES``)."""
    for base in INCLUDE_BASES:
        candidate = root / base / path
        if candidate.is_file():
            return candidate
    raise PageSyntaxError(f'--8<-- "{path}": no such file under {" or ".join(INCLUDE_BASES)}')


def section_lines(text: str, name: str, where: str) -> list[str]:
    """The lines between ``[start:name]`` and ``[end:name]``, other sections' markers left out."""
    lines, inside, found = [], False, False
    for line in text.split("\n"):
        marker = SECTION_MARKER.match(line)
        if marker and marker["name"] == name:
            if marker["kind"] == "start":
                inside = found = True
            else:
                inside = False
            continue
        if inside and not marker:
            lines.append(line)
    if not found:
        raise PageSyntaxError(f"{where} has no section [start:{name}]")
    return lines


def expand(text: str, root: Path, *, within: tuple[str, ...] = ()) -> str:
    """``text`` with every include line replaced by what it includes, indented as the line is."""
    out = []
    for line in text.split("\n"):
        include = INCLUDE_LINE.match(line)
        if include is None:
            out.append(line)
            continue
        if include["escape"]:
            out.append(line.replace(";", "", 1))
            continue
        target = SECTION_PATH.match(include["path"])
        path, section = (target["path"], target["section"]) if target else (include["path"], None)
        if include["path"] in within:
            raise PageSyntaxError(f'--8<-- "{include["path"]}" includes itself')
        source = resolve_include(path, root).read_text(encoding="utf-8")
        if section:  # dedented, so that the include line's indentation alone places it (a method in a class body)
            body = textwrap.dedent("\n".join(section_lines(source, section, path))).split("\n")
        else:
            body = [part for part in source.rstrip("\n").split("\n") if not SECTION_MARKER.match(part)]
        expanded = expand("\n".join(body), root, within=(*within, include["path"]))
        out += [f"{include['indent']}{part}" if part else "" for part in expanded.split("\n")]
    return "\n".join(out)


@dataclass(frozen=True)
class Snippet:
    """A file under snippets/ that pages include, with the properties its first line and code give it."""

    name: str  # its path under snippets/
    root: Path  # the repository

    @property
    def path(self) -> Path:
        return self.root / SNIPPETS_DIR / self.name

    @cached_property
    def source(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @cached_property
    def script(self) -> str:
        """What a reader sees and runs: the source with its includes (sections of mi_course) expanded."""
        return expand(self.source, self.root, within=(self.name,))

    @property
    def includes(self) -> list[str]:
        """The files (with their sections) that the snippet includes."""
        return [
            match["path"]
            for line in self.source.split("\n")
            if (match := INCLUDE_LINE.match(line)) and not match["escape"]
        ]

    @property
    def needs_network(self) -> bool:
        return self.source.startswith(NETWORK_MARKER)

    @property
    def twin_model(self) -> str | None:
        """The shipped model this snippet runs on offline, in place of the hub model, if it needs the network and says so."""
        match = NEEDS_NETWORK.match(self.source.split("\n", 1)[0])
        return match["twin"] if match else None

    @property
    def draws_figure(self) -> bool:
        return bool(SHOWS_FIGURE.search(self.script))


def snippet_files(root: Path) -> list[Snippet]:
    """Every snippet script; the ``__init__.py`` files only make the folders ship as packages."""
    folder = root / SNIPPETS_DIR
    return [
        Snippet(path.relative_to(folder).as_posix(), root)
        for path in sorted(folder.rglob("*.py"))
        if path.name != "__init__.py"
    ]


# ---- pages --------------------------------------------------------------------------------------


@dataclass
class Fence:
    """One fenced block: where it is, its label and body, and what the page's markers say about it."""

    start: int  # index of its opening line
    end: int  # index of its closing line
    indent: str
    info: str
    body: list[str]
    expected_output: Fence | None = None  # a code block's output fence, marked on the page
    is_output: bool = False  # the output fence of the code block before it
    skip_reason: str | None = None  # a code block under a skip marker
    marks: list[str] = field(default_factory=list)  # pytest marks, as written in the markers

    @property
    def lineno(self) -> int:
        """The 1-based line of its opening, as tests report it."""
        return self.start + 1

    @property
    def text(self) -> str:
        return textwrap.dedent("\n".join(self.body)).strip("\n")

    @property
    def language(self) -> str:
        return self.info.split()[0].lstrip("{.").rstrip("}").lower() if self.info else ""

    @property
    def include_lines(self) -> list[re.Match]:
        return [match for line in self.body if (match := INCLUDE_LINE.match(line)) and not match["escape"]]

    @property
    def includes(self) -> list[str]:
        """The paths this fence includes (for a python fence of include lines only: its snippets)."""
        return [match["path"] for match in self.include_lines]

    @property
    def is_include_block(self) -> bool:
        nonblank = [line for line in self.body if line.strip()]
        return self.info == "python" and bool(nonblank) and len(self.include_lines) == len(nonblank)

    @property
    def is_inline_code(self) -> bool:
        return self.info in CODE_LANGUAGES and not self.is_include_block

    @property
    def course_command(self) -> str | None:
        """For a console claim, its ``python -m mi_course ...`` command."""
        first = COURSE_COMMAND.match(self.body[0].strip()) if self.info == "console" and self.body else None
        return first["command"] if first else None

    @property
    def shown_output(self) -> str | None:
        """What the page shows the code printing: its output fence, or a console claim's lines after the command."""
        if self.course_command is not None:
            return "\n".join(line.strip() for line in self.body[1:])
        return self.expected_output.text if self.expected_output else None

    def console_claim(self) -> tuple[str, str]:
        """A console claim's command and what the page shows it printing; ``ValueError`` for any other fence."""
        command, shown = self.course_command, self.shown_output
        if command is None or shown is None:
            raise ValueError(f"line {self.lineno}: fence '{self.info}' is not a console claim")
        return command, shown


@dataclass(frozen=True)
class ProseClaim:
    """A ``<!--claim: EXPRESSION-->`` beside a sentence: the 1-based line it starts on and its expression.

    In a notebook, ``cell`` is the 1-based number of its markdown cell (among the markdown cells)
    and ``lineno`` a line of that cell. ``site_tools/prose_claims.py`` says what an expression may
    hold and checks it.
    """

    lineno: int
    expression: str
    cell: int | None = None

    @property
    def where(self) -> str:
        """Where it stands, as the tests report it."""
        return f"line {self.lineno}" if self.cell is None else f"markdown cell {self.cell}, line {self.lineno}"


def prose_claims(text: str, cell: int | None = None) -> list[ProseClaim]:
    """Every claim in the prose of Markdown ``text``: a page, or a notebook's markdown cell ``cell``.

    A claim inside a fence is shown, not made.
    """
    claims = []
    for part in parse(text.split("\n")):
        if isinstance(part, Prose):
            prose = "\n".join(part.lines)
            claims += [
                ProseClaim(part.start + prose.count("\n", 0, match.start()) + 1, match["expression"], cell)
                for match in PROSE_CLAIM.finditer(prose)
            ]
    return claims


def notebook_claims(notebook: dict) -> list[ProseClaim]:
    """Every claim in the markdown cells of ``notebook``, as nbformat reads it (each source one string)."""
    markdown = [cell for cell in notebook["cells"] if cell["cell_type"] == "markdown"]
    return [claim for number, cell in enumerate(markdown, start=1) for claim in prose_claims(cell["source"], number)]


@dataclass
class Prose:
    """Lines between fences (marker comments left out)."""

    start: int
    lines: list[str]


def parse(lines: list[str]) -> list[Prose | Fence]:
    """Split Markdown lines into prose and fences, binding each marker to the fence it precedes."""
    parts: list[Prose | Fence] = []
    prose: list[str] = []
    prose_start = 0
    expecting_output, skip_reason, marks = False, None, []
    last_code: Fence | None = None
    index = 0
    while index < len(lines):
        line = lines[index]
        opening = FENCE_OPEN.match(line)
        if opening is None:
            if comment := MARKER_COMMENT.match(line):
                if comment["marker"] == EXPECTED_OUTPUT:
                    expecting_output = True
                elif comment["marker"].startswith("pytest.mark"):
                    marks.append(f"{comment['marker']}{comment['args']}".strip())
                    if "skip" in comment["marker"]:
                        reason = SKIP_REASON.search(comment["args"])
                        skip_reason = reason["reason"] if reason else ""
            else:
                expecting_output = expecting_output and not line.strip()
                if not prose:
                    prose_start = index
                prose.append(line)
            index += 1
            continue
        end = index + 1
        while end < len(lines) and not lines[end].strip().startswith(opening["marker"]):
            end += 1
        if prose:
            parts.append(Prose(prose_start, prose))
            prose = []
        fence = Fence(index, end, opening["indent"], opening["info"].strip(), lines[index + 1 : end])
        if expecting_output and last_code is not None:
            fence.is_output = True
            last_code.expected_output = fence
        elif fence.info in CODE_LANGUAGES:
            fence.skip_reason, fence.marks = skip_reason, marks
            last_code = fence
        expecting_output, skip_reason, marks = False, None, []
        parts.append(fence)
        index = end + 1
    if prose:
        parts.append(Prose(prose_start, prose))
    return parts


@dataclass
class Page:
    """A Markdown page of the site, parsed."""

    path: Path
    root: Path  # the repository
    text: str

    @classmethod
    def read(cls, path: Path, root: Path | None = None) -> Page:
        return cls(path, root or find_root(path), path.read_text(encoding="utf-8"))

    @cached_property
    def parts(self) -> list[Prose | Fence]:
        return parse(self.text.split("\n"))

    @property
    def fences(self) -> list[Fence]:
        return [part for part in self.parts if isinstance(part, Fence)]

    @property
    def code_blocks(self) -> list[Fence]:
        """The fences the tests run: include blocks and inline blocks."""
        return [fence for fence in self.fences if fence.info in CODE_LANGUAGES and not fence.is_output]

    @property
    def console_claims(self) -> list[Fence]:
        return [fence for fence in self.fences if fence.course_command is not None]

    def snippet(self, name: str) -> Snippet:
        return Snippet(name, self.root)

    @property
    def snippets(self) -> list[Snippet]:
        """The snippets the page's include blocks include, in order."""
        return [
            Snippet(name, self.root) for fence in self.code_blocks if fence.is_include_block for name in fence.includes
        ]

    @property
    def includes(self) -> list[str]:
        """Every path any include line of the page names, in any fence or in prose."""
        return [
            match["path"]
            for line in self.text.split("\n")
            if (match := INCLUDE_LINE.match(line)) and not match["escape"]
        ]

    @property
    def claims(self) -> list[ProseClaim]:
        """The claims of its prose."""
        return prose_claims(self.text)

    @property
    def has_python(self) -> bool:
        return any(fence.info == "python" and not fence.is_output for fence in self.fences)

    def problems(self) -> list[str]:
        """Why some code on the page would not run as the page shows it, one message per problem."""
        problems = []
        for fence in self.fences:
            if fence.language in PYTHON_LABELS and fence.info != "python":
                problems.append(
                    f"line {fence.lineno}: fence '{fence.info}' is skipped silently by pytest-codeblocks; "
                    "label Python blocks exactly 'python' (no title or options)"
                )
            if fence.info == "python" and fence.include_lines and not fence.is_include_block:
                problems.append(
                    f"line {fence.lineno}: a python block either includes snippets (only '--8<-- \"file\"' "
                    "lines) or holds code, not both"
                )
            if fence.skip_reason == "" or any("skip" in mark and "reason=" not in mark for mark in fence.marks):
                problems.append(f"line {fence.lineno}: skip marker without a reason")
        if "pytest-codeblocks:skipfile" in self.text or "pytest-codeblocks:skip-->" in self.text:
            problems.append("skipfile/skip markers hide blocks without a reason; use pytest.mark.skip(reason=...)")
        for snippet in self.snippets:
            if not snippet.path.is_file():
                problems.append(f"includes {SNIPPETS_DIR}/{snippet.name}, which does not exist")
            elif snippet.needs_network:
                if (twin := snippet.twin_model) is None:
                    problems.append(
                        f"{snippet.name}: write its first line as '{NETWORK_MARKER}; offline, the tests run it on <shipped model>'"
                    )
                elif not (self.root / ZOO_DIR / twin / "card.json").is_file():
                    problems.append(f"{snippet.name}: it names {twin} to run on offline, which is not a shipped model")
        return problems

    def replace_output(self, fence: Fence, output: str) -> str:
        """The page's text with ``fence``'s shown output replaced by ``output`` (what ``--update-outputs`` writes)."""
        lines = self.text.split("\n")
        target = fence.expected_output if fence.course_command is None else fence
        if target is None:
            raise ValueError(f"line {fence.lineno}: fence '{fence.info}' shows no output to replace")
        keep = 1 if fence.course_command is not None else 0  # a console claim keeps its command line
        indent = target.indent
        body = [f"{indent}{line}" if line else "" for line in output.rstrip("\n").split("\n")]
        return "\n".join(lines[: target.start + 1 + keep] + body + lines[target.end :])


def find_root(path: Path) -> Path:
    """The repository holding ``path``: the nearest folder above it with a mkdocs.yml."""
    for folder in path.resolve().parents:
        if (folder / "mkdocs.yml").is_file():
            return folder
    raise FileNotFoundError(f"{path} is not inside a checkout of the course (no mkdocs.yml above it)")


def markdown_pages(root: Path) -> list[Page]:
    """Every Markdown page of the site (MkDocs skips dot-folders)."""
    docs = root / DOCS_DIR
    return [
        Page(path, root, path.read_text(encoding="utf-8"))
        for path in sorted(docs.rglob("*.md"))
        if not any(part.startswith(".") for part in path.relative_to(docs).parts)
    ]


def notebook_pages(root: Path) -> list[Path]:
    """Every notebook page of the site (checkpoints and other dot-folders skipped)."""
    docs = root / DOCS_DIR
    return [
        path
        for path in sorted(docs.rglob("*.ipynb"))
        if not any(part.startswith(".") for part in path.relative_to(docs).parts)
    ]
