"""What README.md and docs/ tell a user stays true: the test command CI runs is the README's, every
``dcmconform`` command line shown parses, every path named exists, and every count of checks is the
catalogue's (in seconds: collection only, no run).

A count of checks typed into the docs goes stale with the next check. Each one must be in a form this
test knows, so that it is held to the catalogue; a new form is added to FORMS below, with what it counts.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import shlex
from collections.abc import Callable
from pathlib import Path

import pytest

from dcmconform.catalogue import checks
from dcmconform.cli import build_parser
from dcmconform.fuzzing import opted_in

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def _text(page: Path) -> str:
    return page.read_text(encoding="utf-8")


def _where(page: Path, text: str, offset: int) -> str:
    return f"{page.relative_to(ROOT)}:{text.count(chr(10), 0, offset) + 1}"


def test_the_test_command_ci_runs_is_the_readmes() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    command = ci[ci.index("# The test command of README.md, word for word:") + 1]
    readme = _text(ROOT / "README.md")
    assert command in readme.splitlines(), f".ci/run runs {command!r}, which is not a line of README.md"
    assert readme.index(command) < readme.index("\n## "), "the test command must stay on the README's first screen"


# -- command lines ------------------------------------------------------------------------------

def _without_types(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The parser, with its value validators switched off: the files the docs name (ca.pem, a profile)
    do not exist here; option names, subcommands, choices and arity are still checked."""
    for action in parser._actions:
        if action.type not in (int, float, str):
            action.type = None
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _without_types(child)
    return parser


def _command_lines() -> list[tuple[str, str]]:
    """``(where, command line)`` of every ``dcmconform ...`` line in a fenced block."""
    found = []
    for page in PAGES:
        text = _text(page)
        for block in re.finditer(r"^```[^\n]*\n(.*?)^```", text, flags=re.M | re.S):
            for line in re.finditer(r"^.*$", block[1], flags=re.M):
                match = re.search(r"(?:^|&& |^\$ )((?:\.venv/bin/)?dcmconform(?: .*)?)$", line[0].strip())
                if match:
                    command = re.sub(r"\s+#.*$", "", match[1])
                    command = command.split(" > ")[0]  # a shell redirection
                    found.append((_where(page, text, block.start(1) + line.start()), command))
    return found


def test_every_command_line_in_the_docs_parses() -> None:
    lines = _command_lines()
    assert len(lines) > 30, lines  # the docs show dozens: the search found them
    wrong = []
    parser = _without_types(build_parser())
    for where, command in lines:
        err = io.StringIO()
        try:
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                parser.parse_args(shlex.split(command)[1:])
        except SystemExit as exit:
            if exit.code:
                wrong.append(f"{where}: {command}\n    {err.getvalue().strip().splitlines()[-1]}")
    assert not wrong, "command lines in the docs that dcmconform refuses:\n" + "\n".join(wrong)


# -- paths ----------------------------------------------------------------------------------------

PATH = re.compile(r"`((?:dcmconform|suites|peers|reports|tests|fixtures|scripts|benchmarks|docs|\.ci)/[^`\s]*)`")


def test_every_path_the_docs_name_exists() -> None:
    """A file or folder of the checkout named in the docs (`dcmconform/session.py`) is there: a module
    moved or renamed takes its docs with it. A placeholder in capitals (`peers/expectations/NAME.yaml`)
    is a pattern, not a path."""
    named, missing = 0, []
    for page in PAGES:
        text = _text(page)
        for match in PATH.finditer(text):
            path = match[1].rstrip(".,:;")
            named += 1
            if not (ROOT / path).exists() and not re.search(r"[A-Z]{3,}|[<*]", path):
                missing.append(f"{_where(page, text, match.start())}: {path}")
    assert named > 50, named  # the docs name dozens: the search found them
    assert not missing, "paths the docs name that are not in the checkout:\n" + "\n".join(missing)


# -- counts of checks ---------------------------------------------------------------------------

class Catalogue:
    def __init__(self) -> None:
        every = list(checks().values())
        self.scp = [c for c in every if c.role == "scp"]
        self.scu = [c for c in every if c.role == "scu"]
        self.default_run = [c for c in self.scp if opted_in(c.id, None, (), ())]  # `dcmconform run`, no options


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue()


def _sum(match: re.Match[str]) -> int:
    return sum(int(n) for n in match.groups())


# (pattern, what its number must equal, the number in the match); every pattern's first group is the count
FORMS: list[tuple[str, Callable[[Catalogue], int], Callable[[re.Match[str]], int]], ...] = [
    # progress lines: "[12/114] ASSOC-012 pass 0.3 s" (a default run)
    (r"\[\s*\d+/(\d+)\]", lambda c: len(c.default_run), lambda m: int(m[1])),
    # banners: "subset: 1 of 114 checks", "interrupted after 6 of 114 checks"; the JSON's "of": 114
    (r"\b\d+ of (\d+) checks\b", lambda c: len(c.default_run), lambda m: int(m[1])),
    (r'"of": (\d+)', lambda c: len(c.default_run), lambda m: int(m[1])),
    (r"\b(\d+) checks in a default run\b", lambda c: len(c.default_run), lambda m: int(m[1])),
    (r"\b(\d+) checks of a default run store\b", lambda c: sum(1 for x in c.default_run if x.stores),
     lambda m: int(m[1])),
    (r"\b(\d+) SCP checks\b", lambda c: len(c.scp), lambda m: int(m[1])),
    (r"\b(\d+) SCU checks\b", lambda c: len(c.scu), lambda m: int(m[1])),
    (r"\bSCU-001\.\.(\d+)\b", lambda c: len(c.scu), lambda m: int(m[1])),
    # the run's last line: its counts add up to the checks of a default run
    (r"dcmconform: (\d+) fail, (\d+) warn, (\d+) pass, (\d+) info, (\d+) n\.a\.", lambda c: len(c.default_run), _sum),
]
# any count of checks at all, held or not
ANY_COUNT = re.compile(r"\b\d[\d,]* (?:[A-Za-z.-]+ )?checks\b|\[\s*\d+/\d+\]")


def test_every_count_of_checks_in_the_docs_is_the_catalogues(catalogue: Catalogue) -> None:
    wrong, held = [], 0
    for page in PAGES:
        text = _text(page)
        covered: set[int] = set()
        for pattern, truth, number in FORMS:
            for match in re.finditer(pattern, text):
                covered.update(range(match.start(), match.end()))
                held += 1
                if number(match) != truth(catalogue):
                    wrong.append(f"{_where(page, text, match.start())}: {match[0]!r} says {number(match)}, "
                                 f"the catalogue {truth(catalogue)}")
        for match in ANY_COUNT.finditer(text):
            if not covered & set(range(match.start(), match.end())):
                wrong.append(f"{_where(page, text, match.start())}: {match[0]!r} is a count of checks no test "
                             "holds: say it in a form of FORMS (tests/unit/test_docs.py) or add one")
    assert held, "no count found: the forms no longer match the docs"
    assert not wrong, "\n".join(wrong)
