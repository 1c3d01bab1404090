"""Check metadata, outcomes, and the verdict a check reaches.

A check declares its metadata once with :func:`check` (a pytest mark, usable on a test function
or on one ``pytest.param`` of a family). Inside the test, the ``verdict`` fixture records the
outcome with its evidence. The classification rule (DESIGN.md): a MUST broken is fail; a SHOULD
broken, or legal behaviour that hurts interoperability or security, is warn; facts are info.

This module is the one home of the outcome vocabulary (:class:`Outcome`, :class:`Level`, what each
outcome means in :data:`OUTCOME_WORDS`, the report order :data:`OUTCOMES`, the outcomes an
expectation may name :data:`EXPECTABLE`). A result records the requirement it found broken
(:class:`Requirement`: clause and level); its outcome follows from that requirement's level
(:func:`outcome_for`), so a SHOULD check fails only when it meets a broken MUST (e.g. silence
past ARTIM: :data:`ANSWER_EVERY_PDU`), and warns otherwise.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, NoReturn

import pytest

from dcmconform.evidence.transcript import Transcript


class Outcome(enum.StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    INFO = "info"
    NA = "n.a."
    NOT_RUN = "not run"  # the check could not be judged: the node was down or busy, or refuses us a service
    ERROR = "error"


# The edition of the DICOM Standard the checks' clauses (``PS3.8 9.3.2``, ``PS3.15 B.13``) were written
# against; every report names it (JSON ``dicom_edition``, HTML header, Markdown summary).
DICOM_EDITION = "2024e"


class Level(enum.StrEnum):
    MUST = "MUST"
    SHOULD = "SHOULD"
    MAY = "MAY"
    PRACTICE = "PRACTICE"


# The order of the reports (worst first), and what each outcome means (DESIGN.md's rule).
OUTCOMES = [Outcome.FAIL, Outcome.ERROR, Outcome.WARN, Outcome.PASS, Outcome.INFO, Outcome.NA, Outcome.NOT_RUN]
OUTCOME_WORDS = {
    Outcome.FAIL: "a MUST of the standard is broken",
    Outcome.ERROR: "the test suite itself broke on this check: not a verdict on the target",
    Outcome.WARN: "a SHOULD is not met, or legal behaviour that hurts interoperability or security",
    Outcome.PASS: "behaves as the standard requires",
    Outcome.INFO: "an observed fact, no judgement",
    Outcome.NA: "does not apply to this target",
    Outcome.NOT_RUN: "could not be judged: the node was down or busy, or refuses this service to our calling AE",
}
# What an expectations row may name (``error`` means the suite broke; ``not run`` is a precondition the
# reference peer as launched lacks, e.g. a registration of our calling AE).
EXPECTABLE = (Outcome.PASS, Outcome.WARN, Outcome.FAIL, Outcome.INFO, Outcome.NA, Outcome.NOT_RUN)
# Outcomes that judge the node at fault (a defect is caught by one of them).
FINDINGS = (Outcome.FAIL, Outcome.WARN)


def outcome_for(level: Level) -> Outcome:
    """The outcome a broken requirement of ``level`` earns: MUST fail, MAY info, else warn."""
    return {Level.MUST: Outcome.FAIL, Level.MAY: Outcome.INFO}.get(level, Outcome.WARN)


@dataclass(frozen=True)
class Requirement:
    """A requirement a result found broken: its clause, how binding it is, and in words what it says."""

    clause: str
    level: Level
    text: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"clause": self.clause, "level": str(self.level), "text": self.text}


# Requirements broken whatever the check was about.
ANSWER_EVERY_PDU = Requirement(
    "PS3.8 9.2", Level.MUST,
    "an acceptor answers every A-ASSOCIATE-RQ and PDU (accept, reject or abort) before the requestor's ARTIM "
    "timer expires")
WITHIN_TIMERS = Requirement(
    "PS3.8 9.1.5, 9.2", Level.MUST,
    "a node ends or answers every exchange within its timers; it cannot keep a peer busy without end")
KEEP_SERVING = Requirement(
    "PS3.8 9.2", Level.MUST,
    "a node answers, rejects or aborts whatever it is sent, and keeps serving other associations")


AREAS = {
    "ASSOC": "association",
    "DIMSE": "dimse",
    "ROBUST": "robustness",
    "SEC": "security",
    "PERF": "performance",
    "SCU": "scu",
    "STMT": "statement",
    "QUERY": "query",  # what a query answers: matching, returned keys, character sets, worklist (PS3.4 C, K)
    "CONTENT": "content",  # what comes back is what went in: attributes, pixels, IOD validity
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
class Compared:
    """A pass's witness: one thing the check compared, what it expected (the value sent, the value the
    standard asks for) and what it saw in the node's answer. A check that compared nothing cannot pass:
    it is n.a., with the reason."""

    what: str
    expected: str
    seen: str

    def as_dict(self) -> dict[str, str]:
        return {"what": self.what, "expected": self.expected, "seen": self.seen}


def compared_list(compared: Compared | tuple[str, str, str] | list[Any] | None) -> list[Compared]:
    """``compared=`` as given to :meth:`Verdict.passed` (one, a (what, expected, seen) triple, or a list) as a list."""
    if compared is None:
        return []
    items = compared if isinstance(compared, list) else [compared]
    return [c if isinstance(c, Compared) else Compared(*(str(v) for v in c)) for c in items]


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
    stores: bool = False  # it stores objects on the node, or needs objects stored (n.a. with --no-store)

    @property
    def area(self) -> str:
        return AREAS.get(self.id.split("-")[0], "other")


MARK = "dcm_check"


def check(id: str, title: str, clause: str, level: Level | str, role: str = "scp", fix: str = "",
          needs: str = "", stores: bool = False) -> pytest.MarkDecorator:
    """Declare a check: ``@check("ASSOC-001", ...)`` or ``pytest.param(..., marks=check(...))``.

    ``fix`` is the default advice, in a PACS admin's words, shown when the check does not pass.
    ``needs``: the service (a key of :data:`SERVICES`) without which the check is n.a.
    ``stores``: the check stores objects on the node (or needs objects stored): n.a. with ``--no-store``.
    """
    if needs and needs not in SERVICES:
        raise ValueError(f"{id}: needs={needs!r} is not one of {', '.join(SERVICES)}")
    return getattr(pytest.mark, MARK)(Check(id, title, clause, Level(level), role, fix, needs, stores))


class MustWarn(RuntimeError):
    """A check tried to warn with a MUST broken: the suite's own bug (the check ends as error)."""


class MissingWitness(RuntimeError):
    """A check passed without saying what it compared: the suite's own bug (the check ends as error)."""


class VerdictReached(Exception):
    """Internal: raised by :meth:`Verdict.fail` when the requirement it found broken is no MUST (the
    check ends there with a warn or info); the plugin reports it as the verdict, not as a crash."""


@dataclass
class Verdict:
    """The outcome of one check and the evidence behind it. Exactly one outcome per check."""

    check: Check
    outcome: Outcome | None = None
    summary: str = ""
    explanation: str = ""
    evidence: list[dict[str, str]] = field(default_factory=list)
    transcript: Transcript | None = None
    broken: Requirement | None = None  # the requirement found broken (fail/warn/info); the check's own by default
    attached: list[Transcript] = field(default_factory=list)  # other transcripts in the evidence (their bytes: the capture file)
    compared: list[Compared] = field(default_factory=list)  # a pass's witness: what it compared

    def reset(self) -> None:
        """Forget an attempt (the session runs the check again from the start after the node was busy)."""
        self.outcome, self.summary, self.explanation, self.broken = None, "", "", None
        self.evidence = []
        self.attached = []
        self.compared = []

    # Evidence -----------------------------------------------------------------------------
    def attach(self, what: Transcript | str | tuple[str, str], kind: str = "text") -> Verdict:
        """Add evidence: a transcript (dump + hex), a piece of text of the given kind, or a (kind, text) pair."""
        if isinstance(what, tuple):
            kind, what = what
        if isinstance(what, Transcript):
            self.evidence.extend(what.evidence())
            self.attached.append(what)
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
        if outcome is Outcome.PASS and not self.compared:
            raise MissingWitness(f"{self.check.id}: a pass records what it compared (compared=...); "
                                 "a check that compared nothing is n.a.")
        self.outcome, self.summary = outcome, summary
        self.explanation = explanation or (self.check.fix if outcome in (Outcome.FAIL, Outcome.WARN) else "")

    def passed(self, summary: str, evidence: Any = None, explanation: str = "",
               compared: Compared | tuple[str, str, str] | list[Any] | None = None) -> None:
        """Pass, with ``compared``: what the check compared (the value sent or required, the answer seen).
        A pass without it is the suite's own bug (:class:`MissingWitness`: the check ends as error); a
        check that found nothing to compare is n.a. (:meth:`not_applicable`), never a pass."""
        self.compared = compared_list(compared)
        self._record(Outcome.PASS, summary, explanation, evidence)

    def warn(self, summary: str, evidence: Any = None, explanation: str = "",
             broken: Requirement | None = None) -> None:
        """A SHOULD or PRACTICE broken: ``broken`` (default: the check's own requirement). A MUST broken is
        a fail, never a warn: a MUST check that warns names the weaker requirement it found broken, often
        another sentence of the standard than its own (the HTML says "Why warn: <that requirement>")."""
        broken = broken or self.broken or self.own_requirement()
        if broken.level is Level.MUST:
            raise MustWarn(f"{self.check.id}: a warn with a MUST broken ({broken.clause}): a broken MUST is a fail; "
                           "a warn names the SHOULD or PRACTICE it found broken (warn(..., broken=Requirement(...)))")
        self.broken = broken
        self._record(Outcome.WARN, summary, explanation, evidence)

    def info(self, summary: str, evidence: Any = None, explanation: str = "") -> None:
        self._record(Outcome.INFO, summary, explanation, evidence)

    def own_requirement(self) -> Requirement:
        return Requirement(self.check.clause, self.check.level, self.check.title)

    def fail(self, summary: str, evidence: Any = None, explanation: str = "",
             broken: Requirement | None = None) -> NoReturn:
        """The check found ``broken`` (default: its own requirement) broken, and ends. The outcome
        follows that requirement's level: fail for a MUST, warn for a SHOULD/PRACTICE, info for a MAY."""
        self.broken = broken or self.own_requirement()
        outcome = outcome_for(self.broken.level)
        self._record(outcome, summary, explanation, evidence)
        if outcome is Outcome.FAIL:
            pytest.fail(f"{self.check.id}: {summary}", pytrace=False)
        raise VerdictReached(f"{self.check.id}: {outcome}: {summary}")

    def not_applicable(self, reason: str, evidence: Any = None) -> NoReturn:
        self._record(Outcome.NA, reason, "", evidence)
        pytest.skip(f"{self.check.id}: not applicable: {reason}")

    def judge(self, ok: bool, good: str, bad: str, evidence: Any = None, explanation: str = "",
              compared: Compared | tuple[str, str, str] | list[Any] | None = None) -> None:
        """Pass when ``ok`` (``compared``: the pass's witness); otherwise the check's own requirement is broken
        (:func:`outcome_for`)."""
        if ok:
            self.passed(good, evidence, compared=compared)
            return
        self.broken = self.own_requirement()
        self._record(outcome_for(self.check.level), bad, explanation, evidence)
        if self.outcome is Outcome.FAIL:
            pytest.fail(f"{self.check.id}: {bad}", pytrace=False)

    def as_result(self) -> dict[str, Any]:
        c = self.check
        result: dict[str, Any] = {
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
        if self.broken is not None and self.outcome in FINDINGS:
            result["broken"] = self.broken.as_dict()
        if self.compared and self.outcome is Outcome.PASS:
            result["compared"] = [c.as_dict() for c in self.compared]
        return result
