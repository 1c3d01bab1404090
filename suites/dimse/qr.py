"""Query/retrieve helpers: seed the target with a small study of our own, query it, judge the responses.

Every query names our own study (fresh UIDs per check), so an archive full of other data never
changes the answer. Responses are judged from the bytes in the transcript, like every DIMSE check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pynetdicom.sop_class import (
    ModalityWorklistInformationFind,
    PatientRootQueryRetrieveInformationModelFind,
    PatientRootQueryRetrieveInformationModelMove,
    StorageCommitmentPushModel,
    StorageCommitmentPushModelInstance,
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelGet,
    StudyRootQueryRetrieveInformationModelMove,
)

from dcmconform.dimse.commands import C_FIND_RQ, C_FIND_RSP
from dcmconform.dimse.datasets import decode_data_set
from dcmconform.dimse.pdv import Message
from dcmconform.dimse.status import CANCEL, PENDING, SUCCESS, classify
from dcmconform.evidence.messages import messages, response_problems
from dcmconform.evidence.transcript import RECEIVED, SENT, Transcript
from dcmconform.fixtures.catalogue import Catalogue
from dcmconform.net.assoc import AssociationRefused, bounded
from dcmconform.suites.dimse.storing import Stored

PATIENT_ROOT_FIND = PatientRootQueryRetrieveInformationModelFind
STUDY_ROOT_FIND = StudyRootQueryRetrieveInformationModelFind
PATIENT_ROOT_MOVE = PatientRootQueryRetrieveInformationModelMove
STUDY_ROOT_MOVE = StudyRootQueryRetrieveInformationModelMove
STUDY_ROOT_GET = StudyRootQueryRetrieveInformationModelGet
WORKLIST_FIND = ModalityWorklistInformationFind
STORAGE_COMMITMENT = StorageCommitmentPushModel
STORAGE_COMMITMENT_INSTANCE = StorageCommitmentPushModelInstance
QR_SYNTAXES = [ExplicitVRLittleEndian, ImplicitVRLittleEndian]
SEED = ["ct/explicit-le", "mr/explicit-le", "sc/explicit-le"]


@dataclass
class Seeded:
    """The study we stored for a query check."""

    stored: list[Stored]
    patient_id: str = ""
    patient_name: str = ""
    study_uid: str = ""
    study_date: str = ""
    series: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.stored) and all(s.status is not None and s.status.category in (SUCCESS, "warning")
                                         for s in self.stored)

    def problem(self) -> str:
        return "; ".join(s.line(0) for s in self.stored if s.status is None or s.status.category not in (SUCCESS, "warning"))


def seed(store_objects: Callable[..., list[Stored]], catalogue: Catalogue, names: list[str] | None = None) -> Seeded:
    variants = [catalogue.variant(n) for n in names or SEED]
    result = Seeded(store_objects(variants))
    first = catalogue.dataset(variants[0])
    result.patient_id, result.patient_name = str(first.PatientID), str(first.PatientName)
    result.study_uid, result.study_date = str(first.StudyInstanceUID), str(first.StudyDate)
    result.series = [str(catalogue.dataset(v).SeriesInstanceUID) for v in variants]
    return result


@dataclass
class FindResult:
    """A C-FIND as it went: the pending identifiers, the final status, what was wrong with the responses."""

    accepted: bool = True
    detail: str = ""
    matches: list[Dataset] = field(default_factory=list)
    final: int | None = None
    problems: list[str] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)  # each pending identifier as received (the bytes of ``matches``)

    def describe(self) -> str:
        final = "no final response" if self.final is None else f"final {classify(self.final, 'C-FIND')}"
        return f"{len(self.matches)} match(es), {final}"


def judge_find_responses(transcript: Transcript, syntaxes: dict[int, str], start: int = 0) -> FindResult:
    """Pending and final C-FIND responses after the ``start``-th C-FIND-RQ we sent, judged from the
    bytes; ``syntaxes`` maps the association's accepted context IDs to their transfer syntaxes."""
    result = FindResult()
    all_messages = messages(transcript)
    requests = [m for m in all_messages if m.direction == SENT and m.field == C_FIND_RQ]
    if len(requests) <= start:
        result.detail = "no C-FIND-RQ was sent"
        return result
    request = requests[start]
    assert request.command is not None
    after = all_messages[all_messages.index(request) + 1:]
    for rsp in after:
        if rsp.direction == SENT and rsp.field == C_FIND_RQ:
            break
        if rsp.direction != RECEIVED:
            continue
        status = rsp.status
        category = classify(int(status), "C-FIND").category if status is not None else None
        pending = category == PENDING
        result.problems += response_problems(rsp, request.command, C_FIND_RSP, data_set=pending)
        if status is not None:
            result.statuses.append(int(status))
        if pending:
            if rsp.dataset is None:
                result.problems.append(f"pending response 0x{status:04X} without an identifier")
            else:
                try:
                    result.matches.append(_identifier(rsp, syntaxes))
                    result.raw.append(rsp.dataset)
                except Exception as exc:  # noqa: BLE001 - the bytes are the finding
                    result.problems.append(f"a pending identifier does not decode: {exc}")
            continue
        result.final = None if status is None else int(status)
        if category not in (SUCCESS, CANCEL) and status is not None and category is not None:
            result.problems.append(f"final status {classify(int(status), 'C-FIND')}")
        break
    if result.final is None:
        result.problems.append("no final C-FIND response")
    return result


def _identifier(rsp: Message, syntaxes: dict[int, str]) -> Dataset:
    return decode_data_set(rsp.dataset or b"", syntaxes.get(rsp.context_id, QR_SYNTAXES[0]))


def find(association: Callable[..., Any], model: str, identifier: Dataset, transcript: Transcript) -> FindResult:
    """One C-FIND through pynetdicom; the verdict comes from the bytes in ``transcript``."""
    start = sum(1 for m in messages(transcript) if m.direction == SENT and m.field == C_FIND_RQ)
    syntaxes: dict[int, str] = {}
    try:
        with association([(model, QR_SYNTAXES)]) as assoc:
            if not assoc.accepted_contexts:
                return FindResult(accepted=False, detail="the target did not accept this query model")
            syntaxes = {int(c.context_id): str(c.transfer_syntax[0]) for c in assoc.accepted_contexts}
            for _status, _ in bounded(assoc.send_c_find(identifier, model), assoc, "pending C-FIND"):
                pass
    except AssociationRefused as exc:
        return FindResult(accepted=False, detail=f"the target accepted no context for this query model ({exc})")
    return judge_find_responses(transcript, syntaxes, start)


def keys(level: str, **values: str) -> Dataset:
    ds = Dataset()
    ds.QueryRetrieveLevel = level
    for keyword, value in values.items():
        setattr(ds, keyword, value)
    return ds
