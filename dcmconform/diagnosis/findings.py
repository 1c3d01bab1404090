"""The diagnosis scale and a finding on it: what ``diagnose`` and ``explain`` say about one attempt."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Level(StrEnum):
    """How bad a finding is, mildest first. Its value is the word the reports print (upper-cased)."""

    OK = "ok"
    INFO = "info"  # worth knowing, costs nothing: counts as ok
    WARN = "warn"
    FAIL = "fail"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]

    @property
    def exit_code(self) -> int:
        """``diagnose`` and ``explain``: 0 ok or info, 1 a warning at worst, 2 a failure."""
        return self.severity


_SEVERITY = {Level.OK: 0, Level.INFO: 0, Level.WARN: 1, Level.FAIL: 2}
EXIT_OK, EXIT_WARN, EXIT_FAIL = Level.OK.exit_code, Level.WARN.exit_code, Level.FAIL.exit_code


@dataclass
class Finding:
    level: Level
    summary: str  # one line
    advice: str = ""  # what it means and what to change; empty when another finding says it

    def line(self) -> str:
        return f"{self.level.upper():<4}  {self.summary}"


def worst(findings: list[Finding]) -> Level:
    levels = [f.level for f in findings] or [Level.OK]
    return max(levels, key=lambda level: level.severity)


def exit_code(findings: list[Finding]) -> int:
    return worst(findings).exit_code
