"""Read stored objects back from the target with C-GET (SCP role for the storage classes).

C-GET needs nothing configured on the target (the objects come back on our association),
unlike C-MOVE, which needs the target to know our AE title, host and port. One C-GET per
instance at IMAGE level (Study Root, else Patient Root), so one missing object never hides
behind another.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pynetdicom import build_role, evt
from pynetdicom.sop_class import PatientRootQueryRetrieveInformationModelGet, StudyRootQueryRetrieveInformationModelGet

from dcmconform.net.assoc import AssociationRefused, associate, bounded
from dcmconform.dimse.datasets import decode_data_set
from dcmconform.net.target import Endpoint
from dcmconform.evidence.transcript import Transcript

STUDY_ROOT_GET = StudyRootQueryRetrieveInformationModelGet
PATIENT_ROOT_GET = PatientRootQueryRetrieveInformationModelGet
QR_SYNTAXES = [ExplicitVRLittleEndian, ImplicitVRLittleEndian]


@dataclass
class Wanted:
    sop_class_uid: str
    sop_instance_uid: str
    study_uid: str
    series_uid: str
    patient_id: str
    transfer_syntax: str


@dataclass
class Retrieved:
    """What came back: per SOP Instance UID the data set and its syntax; plus final statuses."""

    offered: bool = False
    detail: str = ""
    objects: dict[str, tuple[Dataset, str]] = field(default_factory=dict)
    statuses: dict[str, int | None] = field(default_factory=dict)
    transcript: Transcript = field(default_factory=lambda: Transcript("C-GET read-back"))


def get_contexts(wanted: list[Wanted]) -> list[tuple[str, list[str]]]:
    """Q/R GET contexts, then one storage context per (SOP class, syntax) wanted back."""
    contexts: list[tuple[str, list[str]]] = [(STUDY_ROOT_GET, QR_SYNTAXES), (PATIENT_ROOT_GET, QR_SYNTAXES)]
    seen: set[tuple[str, str]] = set()
    for w in wanted:
        pair = (w.sop_class_uid, w.transfer_syntax)
        if pair not in seen:
            seen.add(pair)
            contexts.append((w.sop_class_uid, [w.transfer_syntax]))
    # Also offer the plain syntaxes, so a target that transcodes can still send it back.
    for sop_class in sorted({w.sop_class_uid for w in wanted}):
        if (sop_class, QR_SYNTAXES[0]) not in seen:
            contexts.append((sop_class, [QR_SYNTAXES[0], QR_SYNTAXES[1]]))
    return contexts[:128]


def identifier(w: Wanted, patient_root: bool) -> Dataset:
    ds = Dataset()
    ds.QueryRetrieveLevel = "IMAGE"
    if patient_root:
        ds.PatientID = w.patient_id
    ds.StudyInstanceUID = w.study_uid
    ds.SeriesInstanceUID = w.series_uid
    ds.SOPInstanceUID = w.sop_instance_uid
    return ds


ATTEMPTS = 2  # read-back associations: a second one for what the first did not get to, when it ended early


def retrieve(target: Endpoint, calling_aet: str, timeout: float, wanted: list[Wanted], max_pdu: int = 16384,
             transcript: Transcript | None = None) -> Retrieved:
    """C-GET each object in ``wanted`` back. When the association ends before every C-GET had its final
    response (on a loaded machine our DIMSE timeout can fire on a response that was on its way), the
    objects not yet answered are asked for once more on a new association: an object is counted lost
    only on the node's final answer, never because our read-back ended."""
    result = Retrieved(transcript=transcript or Transcript("C-GET read-back"))
    remaining = list(wanted)
    for attempt in range(ATTEMPTS):
        if attempt:
            result.transcript.note(f"the read-back association ended ({result.detail}): the {len(remaining)} "
                                   "object(s) not yet answered, again on a new association")
            result.detail = ""
        remaining = _retrieve_once(result, target, calling_aet, timeout, remaining, max_pdu)
        if not remaining or not result.offered:
            break
    return result


def _retrieve_once(result: Retrieved, target: Endpoint, calling_aet: str, timeout: float, wanted: list[Wanted],
                   max_pdu: int) -> list[Wanted]:
    """One read-back association; the objects of ``wanted`` it did not get a final answer for when it
    ended early (with ``result.detail`` saying how), else ``[]``."""

    def on_store(event: Any) -> int:
        data = event.request.DataSet.getvalue()
        ts = str(event.context.transfer_syntax)
        with contextlib.suppress(Exception):
            ds = decode_data_set(data, ts)
            result.objects[str(ds.get("SOPInstanceUID", event.request.AffectedSOPInstanceUID))] = (ds, ts)
        return 0x0000

    roles = [build_role(uid, scp_role=True) for uid in sorted({w.sop_class_uid for w in wanted})]
    try:
        with associate(target, calling_aet, timeout, get_contexts(wanted), result.transcript, max_pdu=max_pdu,
                       ext_neg=roles, evt_handlers=[(evt.EVT_C_STORE, on_store)]) as assoc:
            models = {str(c.abstract_syntax) for c in assoc.accepted_contexts}
            model = STUDY_ROOT_GET if STUDY_ROOT_GET in models else PATIENT_ROOT_GET if PATIENT_ROOT_GET in models else None
            if model is None:
                result.detail = "the target accepted neither Study Root nor Patient Root C-GET"
                return []
            result.offered = True
            for n, w in enumerate(wanted):
                final = None
                for status, _ in bounded(assoc.send_c_get(identifier(w, model == PATIENT_ROOT_GET), model), assoc,
                                         "C-GET"):
                    if status:
                        final = int(status.Status)
                result.statuses[w.sop_instance_uid] = final
                if not assoc.is_established:
                    result.detail = "the association ended during the C-GETs"
                    return wanted[n if final is None else n + 1:]
    except AssociationRefused as exc:
        result.detail = f"no C-GET association: {exc}"
    return []
