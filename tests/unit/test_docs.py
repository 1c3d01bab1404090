"""What README.md and docs/ tell a user stays true: the test command CI runs is the README's, every
``dcmconform`` command line shown parses, every path named exists, and no count of checks is typed in
prose (in seconds: no run).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest

from dcmconform.cli import build_parser

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


def test_every_command_line_in_the_docs_parses(monkeypatch: pytest.MonkeyPatch) -> None:
    # `--image PEER=IMAGE` applies its override to this process's environment as it is parsed; the whole-suite
    # runs the session makes in the background inherit it, so parsing the docs' examples must not set it.
    monkeypatch.setattr("dcmconform.peers.images.override_images", lambda pairs: None)
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
    """A file or folder of the checkout named in the docs (`dcmconform/harness/session.py`) is there: a module
    moved or renamed takes its docs with it. A placeholder in capitals (`peers/expectations/NAME.yaml`)
    is a pattern, not a path."""
    named, missing = 0, []
    for page in PAGES:
        text = _text(page)
        for match in PATH.finditer(text):
            path = match[1].rstrip(".,:;")
            named += 1
            if not (ROOT / path).exists() and not re.search(r"[A-Z]{3,}|[<*:]", path):  # ':' an image tag
                missing.append(f"{_where(page, text, match.start())}: {path}")
    assert named > 50, named  # the docs name dozens: the search found them
    assert not missing, "paths the docs name that are not in the checkout:\n" + "\n".join(missing)


# -- counts of checks ---------------------------------------------------------------------------
# A count of checks typed into prose goes stale with the next check, and holding it to the catalogue would
# make every new check edit the docs too (a check costs two files: its suite module and its zoo defect).
# So prose names no size of the catalogue (`dcmconform list` prints it); a count may appear only in an
# example of output (a fenced block or an inline code span), measured on some day, where it must agree with the rest of its
# example: the progress lines' totals, the banners, the JSON's "of" and the run's last line add up alike.

TOTALS = [  # (pattern, the example's total it states)
    (r"\[\s*\d+/(\d+)\]", lambda m: int(m[1])),  # progress lines: "[12/114] ASSOC-012 pass 0.3 s"
    (r"\b\d+ of (\d+) checks\b", lambda m: int(m[1])),  # banners: "subset: 1 of 114 checks"
    (r'"of": (\d+)', lambda m: int(m[1])),  # the JSON's subset
    # the run's last line: its counts add up to the checks of the run
    (r"dcmconform: (\d+) fail, (\d+) warn, (\d+) pass, (\d+) info, (\d+) n\.a\.",
     lambda m: sum(int(n) for n in m.groups())),
]
# any count of checks at all
ANY_COUNT = re.compile(r"\b\d[\d,]* (?:[A-Za-z.-]+ )?checks\b|\[\s*\d+/\d+\]")
EXAMPLE = re.compile(r"^```[^\n]*\n(.*?)^```|`([^`\n]+)`", flags=re.M | re.S)  # a fenced block, an inline span


def test_no_count_of_checks_in_prose_and_examples_agree_with_themselves() -> None:
    wrong, examples = [], 0
    for page in PAGES:
        text = _text(page)
        blocks = [(b.start(b.lastindex or 0), b.end(b.lastindex or 0)) for b in EXAMPLE.finditer(text)]
        for match in ANY_COUNT.finditer(text):
            if not any(start <= match.start() < end for start, end in blocks):
                wrong.append(f"{_where(page, text, match.start())}: {match[0]!r} is a count of checks in prose: it "
                             "goes stale with the next check; say what is counted, and that `dcmconform list` "
                             "counts it")
        for start, end in blocks:
            block = text[start:end]
            stated = {(_where(page, text, start + m.start()), m[0], total(m))
                      for pattern, total in TOTALS for m in re.finditer(pattern, block)}
            examples += bool(stated)
            if len({n for _, _, n in stated}) > 1:
                wrong.append("one example states different totals: "
                             + "; ".join(f"{where}: {said!r} ({n})" for where, said, n in sorted(stated)))
    assert examples, "no example of a run's output found: the patterns no longer match the docs"
    assert not wrong, "\n".join(wrong)
