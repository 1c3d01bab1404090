"""The diagnosis scale and a finding on it: what ``diagnose`` and ``explain`` say about one attempt."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """The diagnosis scale: how bad a finding is, mildest first. Its value is the word ``diagnose`` and
    ``explain`` print (upper-cased). Not a check's outcome (:mod:`dcmconform.evidence.verdict`): a diagnosis
    judges one association attempt, not a requirement of the standard."""

    OK = "ok"
    INFO = "info"  # worth knowing, costs nothing: counts as ok
    WARN = "warn"
    FAIL = "fail"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def exit_code(self) -> int:
        """``diagnose`` and ``explain``: 0 ok or info, 1 a warning at worst, 2 a failure."""
        return self.rank


_RANK = {Severity.OK: 0, Severity.INFO: 0, Severity.WARN: 1, Severity.FAIL: 2}
EXIT_OK, EXIT_WARN, EXIT_FAIL = Severity.OK.exit_code, Severity.WARN.exit_code, Severity.FAIL.exit_code


@dataclass
class Finding:
    level: Severity
    summary: str  # one line
    advice: str = ""  # what it means and what to change; empty when another finding says it

    def line(self) -> str:
        return f"{self.level.upper():<4}  {self.summary}"


def worst(findings: list[Finding]) -> Severity:
    levels = [f.level for f in findings] or [Severity.OK]
    return max(levels, key=lambda level: level.rank)


def exit_code(findings: list[Finding]) -> int:
    return worst(findings).exit_code
