"""What the returned-keys, character set and worklist checks share: several C-FINDs on one association
proposing Explicit VR Little Endian first (so each returned element's VR is in the bytes; a node that
accepts only Implicit VR is asked in that), and objects stored once per run and node.

Storing costs: every whole-suite run repeats these checks against each reference peer. The objects are
stored once per node (the session's; a node restarted on a new port gets them again) and every check
reads them; their UIDs are fresh per run, so an archive holding earlier runs never changes an answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from dcmconform.evidence.transcript import Transcript
from dcmconform.evidence.verdict import Verdict
from dcmconform.net.assoc import AssociationRefused, bounded
from dcmconform.net.target import Endpoint
from dcmconform.suites.dimse.qr import (
    PATIENT_ROOT_FIND,
    STUDY_ROOT_FIND,
    WORKLIST_FIND,
    FindResult,
    judge_find_responses,
)
from dcmconform.suites.dimse.storing import Stored

MODELS = {PATIENT_ROOT_FIND: "Patient Root", STUDY_ROOT_FIND: "Study Root", WORKLIST_FIND: "Modality Worklist"}


@dataclass
class Query:
    """One C-FIND a check sends and what came back."""

    model: str
    level: str
    identifier: Dataset
    result: FindResult = field(default_factory=FindResult)
    syntax: str = ""  # the transfer syntax the node accepted for it

    @property
    def explicit(self) -> bool:
        return self.syntax != ImplicitVRLittleEndian

    @property
    def label(self) -> str:
        return f"{MODELS.get(self.model, self.model)} {self.level}".strip()

    def sent(self) -> str:
        keys = ", ".join(f"{e.keyword}={_text(e.value)!r}" if e.value not in (None, "") else f"{e.keyword} (empty)"
                         for e in self.identifier if e.keyword != "QueryRetrieveLevel")
        return f"{self.label} C-FIND: {keys}"


def _text(value: object) -> str:
    if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
        return "\\".join(str(v) for v in value)  # type: ignore[union-attr]
    if type(value).__name__ == "Sequence":
        return "; ".join("[" + ", ".join(f"{e.keyword}={_text(e.value)}" if e.value not in (None, "") else
                                         f"{e.keyword} (empty)" for e in item) + "]" for item in value)  # type: ignore[union-attr]
    return str(value)


def find_each(association: Callable[..., Any], transcript: Transcript, queries: list[Query]) -> str:
    """Send each query's C-FIND, those of one model on one association (Explicit VR Little Endian first); fill
    each ``query.result``. Returns why nothing could be asked ("" when the node answered)."""
    asked = 0
    why = ""
    for model in dict.fromkeys(q.model for q in queries):
        mine = [q for q in queries if q.model == model]
        try:
            # Two contexts: pynetdicom sends on the first accepted, so Explicit VR whenever the node takes it
            # (a node picking from one context's list may prefer Implicit: pynetdicom's archive does).
            with association([(model, [ExplicitVRLittleEndian]), (model, [ImplicitVRLittleEndian])]) as assoc:
                if not assoc.accepted_contexts:
                    why = f"the node did not accept {MODELS.get(model, model)} C-FIND"
                    for q in mine:
                        q.result = FindResult(accepted=False, detail=why)
                    continue
                syntaxes = {int(c.context_id): str(c.transfer_syntax[0]) for c in assoc.accepted_contexts}
                for q in mine:
                    if not assoc.is_established:  # the node ended it during an earlier query: a finding of its own
                        q.result = FindResult(problems=["the node ended the association before this query was sent"])
                        continue
                    start = _requests_sent(transcript)
                    try:
                        for _status, _ in bounded(assoc.send_c_find(q.identifier, model), assoc, "pending C-FIND"):
                            pass
                    except RuntimeError as exc:  # pynetdicom: the node ended the association as we sent
                        q.result = FindResult(problems=[f"the node ended the association as this query was sent ({exc})"])
                        continue
                    q.result = judge_find_responses(transcript, syntaxes, start)
                    q.syntax = ExplicitVRLittleEndian if ExplicitVRLittleEndian in syntaxes.values() \
                        else ImplicitVRLittleEndian
                    asked += 1
        except AssociationRefused as exc:
            why = f"the node refused the association for {MODELS.get(model, model)} C-FIND ({exc})"
            for q in mine:
                q.result = FindResult(accepted=False, detail=why)
    return "" if asked else why or "no query was sent"


def _requests_sent(transcript: Transcript) -> int:
    from dcmconform.dimse.commands import C_FIND_RQ
    from dcmconform.evidence.messages import messages
    from dcmconform.evidence.transcript import SENT

    return sum(1 for m in messages(transcript) if m.direction == SENT and m.field == C_FIND_RQ)


def node_key(target: Endpoint) -> tuple[str, int, str]:
    return (target.host, target.port, target.ae_title)


def stored_once(cache: dict[Any, Any], target: Endpoint, what: str, make: Callable[[], Any]) -> Any:
    """``make()`` once per node and ``what`` (the session's ``cache``), then the same result for every check."""
    key = (*node_key(target), what)
    if key not in cache:
        cache[key] = make()
    return cache[key]


def store_problem(stored: list[Stored]) -> str:
    return "; ".join(s.line(0) for s in stored if s.status is None or s.status.category not in ("success", "warning"))


def not_stored(verdict: Verdict, stored: list[Stored]) -> None:
    """n.a. when nothing we needed was stored (the check has nothing to query)."""
    if not stored or all(s.status is None or s.status.category not in ("success", "warning") for s in stored):
        verdict.not_applicable(f"could not store the objects to query: {store_problem(stored) or 'nothing sent'}",
                               [s.transcript for s in stored[:1]])
