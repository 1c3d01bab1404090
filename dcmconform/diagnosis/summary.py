"""What a log says, in a size that does not depend on the log's: its attempts folded into runs and groups
of identical outcomes, with the first attempts of each distinct failure or warning kept in full."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dcmconform.diagnosis import attempt as at
from dcmconform.diagnosis.advice import assess, headline
from dcmconform.diagnosis.findings import Finding, Severity, worst

MAX_RUNS = 200
MAX_EXAMPLES = 20  # distinct failures and warnings diagnosed in full


@dataclass
class Run:
    """Attempts that ended the same way: consecutive ones (a run), or all of them (a group)."""

    headline: str
    level: Severity
    count: int
    first_line: int
    last_line: int


@dataclass
class Example:
    """One attempt kept in full, with its findings: the first failure, the first warning."""

    attempt: at.Attempt
    findings: list[Finding]

    @property
    def first_line(self) -> int:
        return self.attempt.first_line

    @property
    def last_line(self) -> int:
        return self.attempt.last_line


@dataclass
class LogSummary:
    """What a log says, in a size that does not depend on the log's."""

    path: Path
    lines: int = 0
    size: int = 0
    attempts: int = 0
    runs: list[Run] = field(default_factory=list)  # consecutive repeats folded, first MAX_RUNS only
    run_count: int = 0
    groups: dict[str, Run] = field(default_factory=dict)  # every distinct outcome, first MAX_RUNS only
    ungrouped: int = 0
    formats: set[str] = field(default_factory=set)
    first_failure: Example | None = None
    first_warning: Example | None = None
    # the first attempt of every distinct failure or warning (by headline), in order of appearance
    examples: dict[str, Example] = field(default_factory=dict)
    sides: set[str] = field(default_factory=set)

    @property
    def findings(self) -> list[Finding]:
        chosen = self.first_failure or self.first_warning
        return chosen.findings if chosen else []

    def add(self, attempt: at.Attempt) -> None:
        findings = assess(attempt)
        line = headline(attempt, findings)
        level = worst(findings)
        self.attempts += 1
        if level == Severity.FAIL and self.first_failure is None:
            self.first_failure = Example(attempt, findings)
        if level == Severity.WARN and self.first_warning is None:
            self.first_warning = Example(attempt, findings)
        if level in (Severity.FAIL, Severity.WARN) and line not in self.examples and len(self.examples) < MAX_EXAMPLES:
            self.examples[line] = Example(attempt, findings)
        self.sides.add(attempt.side)
        group = self.groups.get(line)
        if group is not None:
            group.count += 1
            group.last_line = attempt.last_line
        elif len(self.groups) < MAX_RUNS:
            self.groups[line] = Run(line, level, 1, attempt.first_line, attempt.last_line)
        else:
            self.ungrouped += 1
        last = self.runs[-1] if self.runs else None
        if last is not None and last.headline == line and self.run_count == len(self.runs):
            last.count += 1
            last.last_line = attempt.last_line
            return
        self.run_count += 1
        if len(self.runs) < MAX_RUNS:
            self.runs.append(Run(line, level, 1, attempt.first_line, attempt.last_line))


