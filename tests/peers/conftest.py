"""Fixtures for the peer tests: finding processes by a string in their command line (a unique temp folder)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


def processes_mentioning(marker: str) -> list[tuple[int, str]]:
    """``(pid, command line)`` of every live (not zombie) process whose command line contains ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in cmdline and state != "Z":
            found.append((int(entry.name), cmdline.strip()))
    return found


@pytest.fixture
def processes() -> Callable[[str], list[tuple[int, str]]]:
    """``processes(marker)``: the live processes whose command line contains ``marker``."""
    return processes_mentioning
