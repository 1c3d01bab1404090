"""Check metadata, outcomes, and the verdict a check reaches.

A check declares its metadata once with :func:`check` (a pytest mark, usable on a test function
or on one ``pytest.param`` of a family). Inside the test, the ``verdict`` fixture records the
outcome with its evidence. The classification rule (DESIGN.md): a MUST broken is fail; a SHOULD
broken, or legal behaviour that hurts interoperability or security, is warn; facts are info.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, NoReturn

import pytest

from dcmconform.transcript import Transcript


class Outcome(enum.StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    INFO = "info"
    NA = "n.a."
    ERROR = "error"


class Level(enum.StrEnum):
    MUST = "MUST"
    SHOULD = "SHOULD"
    MAY = "MAY"
    PRACTICE = "PRACTICE"


AREAS = {
    "ASSOC": "association",
    "DIMSE": "dimse",
    "ROBUST": "robustness",
    "SEC": "security",
    "PERF": "performance",
}

# Services a check can need the target to offer (``check(..., needs=...)``); a peer's expectations
# file says which it lacks (``lacks:``), and those checks are expected n.a. there.
SERVICES = {
    "c-find": "Query (C-FIND)",
    "c-get": "Retrieve by C-GET",
    "c-move": "Retrieve by C-MOVE",
    "worklist": "Modality Worklist",
    "storage-commitment": "Storage Commitment",
}


@dataclass(frozen=True)
class Check:
    """What a check is: stable ID, title, the clause behind it, and how binding it is."""

    id: str
    title: str
    clause: str
    level: Level
    role: str = "scp"
    fix: str = ""
    needs: str = ""  # a service of SERVICES the check needs the target to offer, or ""

    @property
    def area(self) -> str:
        return AREAS.get(self.id.split("-")[0], "other")


MARK = "dcm_check"


def check(id: str, title: str, clause: str, level: Level | str, role: str = "scp", fix: str = "",
          needs: str = "") -> pytest.MarkDecorator:
    """Declare a check: ``@check("ASSOC-001", ...)`` or ``pytest.param(..., marks=check(...))``.

    ``fix`` is the default advice, in a PACS admin's words, shown when the check does not pass.
    ``needs``: the service (a key of :data:`SERVICES`) without which the check is n.a.
    """
    if needs and needs not in SERVICES:
        raise ValueError(f"{id}: needs={needs!r} is not one of {', '.join(SERVICES)}")
    return getattr(pytest.mark, MARK)(Check(id, title, clause, Level(level), role, fix, needs))


class VerdictReached(Exception):
    """Internal: raised by :meth:`Verdict.fail` so that pytest records the failure."""


@dataclass
class Verdict:
    """The outcome of one check and the evidence behind it. Exactly one outcome per check."""

    check: Check
    outcome: Outcome | None = None
    summary: str = ""
    explanation: str = ""
    evidence: list[dict[str, str]] = field(default_factory=list)
    transcript: Transcript | None = None

    # Evidence -----------------------------------------------------------------------------
    def attach(self, what: Transcript | str, kind: str = "text") -> Verdict:
        """Add evidence: a transcript (dump + hex), or a piece of text of the given kind."""
        if isinstance(what, Transcript):
            self.evidence.extend(what.evidence())
        elif what:
            self.evidence.append({"kind": kind, "text": what})
        return self

    # Outcomes -----------------------------------------------------------------------------
    def _record(self, outcome: Outcome, summary: str, explanation: str, evidence: Any) -> None:
        if self.outcome is not None:
            raise RuntimeError(f"{self.check.id} already reached {self.outcome}; a check has one verdict")
        for item in evidence if isinstance(evidence, list | tuple) else [evidence]:
            if item is not None and item is not self.transcript:
                self.attach(item)
        if self.transcript is not None and self.transcript.events:
            self.evidence[:0] = self.transcript.evidence()  # the check's own exchange comes first
        if outcome is not Outcome.NA and not self.evidence:
            raise RuntimeError(f"{self.check.id}: a {outcome} verdict needs evidence (never a verdict without it)")
        self.outcome, self.summary = outcome, summary
        self.explanation = explanation or (self.check.fix if outcome in (Outcome.FAIL, Outcome.WARN) else "")

    def passed(self, summary: str, evidence: Any = None, explanation: str = "") -> None:
        self._record(Outcome.PASS, summary, explanation, evidence)

    def warn(self, summary: str, evidence: Any = None, explanation: str = "") -> None:
        self._record(Outcome.WARN, summary, explanation, evidence)

    def info(self, summary: str, evidence: Any = None, explanation: str = "") -> None:
        self._record(Outcome.INFO, summary, explanation, evidence)

    def fail(self, summary: str, evidence: Any = None, explanation: str = "") -> NoReturn:
        self._record(Outcome.FAIL, summary, explanation, evidence)
        pytest.fail(f"{self.check.id}: {summary}", pytrace=False)

    def not_applicable(self, reason: str, evidence: Any = None) -> NoReturn:
        self._record(Outcome.NA, reason, "", evidence)
        pytest.skip(f"{self.check.id}: not applicable: {reason}")

    def judge(self, ok: bool, good: str, bad: str, evidence: Any = None, explanation: str = "") -> None:
        """Pass when ``ok``; otherwise fail for a MUST, warn for SHOULD/PRACTICE, info for MAY."""
        if ok:
            self.passed(good, evidence)
        elif self.check.level is Level.MUST:
            self.fail(bad, evidence, explanation)
        elif self.check.level is Level.MAY:
            self.info(bad, evidence, explanation)
        else:
            self.warn(bad, evidence, explanation)

    def as_result(self) -> dict[str, Any]:
        c = self.check
        return {
            "id": c.id,
            "title": c.title,
            "area": c.area,
            "clause": c.clause,
            "level": str(c.level),
            "role": c.role,
            "outcome": str(self.outcome) if self.outcome else str(Outcome.ERROR),
            "summary": self.summary,
            "explanation": self.explanation,
            "evidence": self.evidence,
        }
