"""Every command says its exit codes in its ``--help``, and the exit-code table of docs/cli.md lists every command."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from dcmconform.cli import build_parser

CLI_DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def _commands(parser: argparse.ArgumentParser, prefix: str = "") -> dict[str, argparse.ArgumentParser]:
    found: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found[f"{prefix}{name}"] = child
                found.update(_commands(child, f"{prefix}{name} "))
    return found


def test_every_command_help_states_its_exit_codes() -> None:
    commands = _commands(build_parser())
    assert {"run", "matrix", "diagnose", "peers list"} <= set(commands)
    missing = [name for name, parser in commands.items() if "exit codes" not in parser.format_help()]
    assert not missing, f"--help without 'exit codes': {missing}"


def test_the_exit_code_table_lists_every_command() -> None:
    text = CLI_DOC.read_text(encoding="utf-8")
    table = text[text.index("### Exit codes"):]
    table = table[:table.index("\n#")]
    listed = set(re.findall(r"^\| `(\w+)", table, flags=re.M))
    top = {name for name in _commands(build_parser()) if " " not in name}
    assert top <= listed, f"not in the exit-code table of docs/cli.md: {sorted(top - listed)}"
