"""The zoo's archive services, just enough to prove the DIMSE checks can fail.

Over what the zoo stored (its storage folder): C-FIND (Patient and Study Root, PS3.4 C.4.1)
with single value, universal, wildcard, range and UID list matching and C-CANCEL; C-GET (C.4.3)
with the C-STORE sub-operations sent back on the same association; C-MOVE (C.4.2) to the
destinations it was given (``--move-destination AET=HOST:PORT``; the sub-operations go on an
association of their own, opened with pynetdicom), 0xA801 for any other; Modality Worklist C-FIND (K) over two fixed synthetic
items; Storage Commitment Push (J) with the N-EVENT-REPORT on the same association. Plus the
checks the zoo makes on each C-STORE (SOP class of the context, data set against command).

Each defect switch named here breaks one rule; :mod:`dcmconform.peers.zoo.defects` says which
checks catch it.
"""

from __future__ import annotations

import fnmatch
import re
import select
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pynetdicom import sop_class as sc

from dcmconform.dimse.commands import (
    C_CANCEL_RQ,
    C_FIND_RQ,
    C_FIND_RSP,
    C_GET_RQ,
    C_GET_RSP,
    C_MOVE_RQ,
    C_MOVE_RSP,
    C_STORE_RQ,
    DATA_SET_PRESENT,
    N_ACTION_RQ,
    N_ACTION_RSP,
    N_EVENT_REPORT_RQ,
    decode_command,
    encode_command,
    response,
    response_field,
)
from dcmconform.dimse.datasets import HEAD, decode_data_set, encode_data_set
from dcmconform.dimse.pdv import Assembler
from dcmconform.uids import OUR_ROOT
from dcmconform.wire import pdus as pd

if TYPE_CHECKING:
    from dcmconform.peers.zoo.scp import ZooConnection

PATIENT_ROOT_FIND = sc.PatientRootQueryRetrieveInformationModelFind
PATIENT_ROOT_MOVE = sc.PatientRootQueryRetrieveInformationModelMove
PATIENT_ROOT_GET = sc.PatientRootQueryRetrieveInformationModelGet
STUDY_ROOT_FIND = sc.StudyRootQueryRetrieveInformationModelFind
STUDY_ROOT_MOVE = sc.StudyRootQueryRetrieveInformationModelMove
STUDY_ROOT_GET = sc.StudyRootQueryRetrieveInformationModelGet
WORKLIST_FIND = sc.ModalityWorklistInformationFind
STORAGE_COMMITMENT = sc.StorageCommitmentPushModel
STORAGE_COMMITMENT_INSTANCE = sc.StorageCommitmentPushModelInstance
SERVICE_CLASSES = (PATIENT_ROOT_FIND, PATIENT_ROOT_MOVE, PATIENT_ROOT_GET, STUDY_ROOT_FIND, STUDY_ROOT_MOVE,
                   STUDY_ROOT_GET, WORKLIST_FIND, STORAGE_COMMITMENT)

HANDLED = (C_GET_RQ, C_FIND_RQ, C_MOVE_RQ, C_CANCEL_RQ, N_ACTION_RQ)
SUB_OPERATION_TIMEOUT = 10.0  # seconds per network wait of the C-MOVE sub-operations' association

LEVELS = ("PATIENT", "STUDY", "SERIES", "IMAGE")
KEYS = {
    "PATIENT": ("PatientID", "PatientName", "PatientBirthDate", "PatientSex"),
    "STUDY": ("StudyInstanceUID", "StudyDate", "StudyTime", "AccessionNumber", "StudyID", "StudyDescription",
              "ReferringPhysicianName"),
    "SERIES": ("SeriesInstanceUID", "Modality", "SeriesNumber"),
    "IMAGE": ("SOPInstanceUID", "SOPClassUID", "InstanceNumber"),
}
UNIQUE = {"PATIENT": "PatientID", "STUDY": "StudyInstanceUID", "SERIES": "SeriesInstanceUID", "IMAGE": "SOPInstanceUID"}
RANGE_KEYS = {"StudyDate", "StudyTime", "PatientBirthDate", "ScheduledProcedureStepStartDate",
              "ScheduledProcedureStepStartTime"}
UID_KEYS = {"StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "SOPClassUID"}


# Data sets on the wire -------------------------------------------------------------------
def data_set_uids(data: bytes, ts: str) -> tuple[str, str]:
    """(SOP Class UID, SOP Instance UID) from the head of a data set in ``ts`` (pixel data never read)."""
    ds = decode_data_set(data, ts, stop_when=lambda tag, vr, length: tag > 0x00080018, head=HEAD)
    return str(ds.get("SOPClassUID", "")), str(ds.get("SOPInstanceUID", ""))


def store_refusal(conn: ZooConnection, context_id: int, command: Dataset, dataset: bytes) -> int | None:
    """A status to answer a C-STORE with instead of storing it, or ``None`` to store it.

    Clean: 0x0122 when the command's SOP class is not the context's; 0xA900 when the data set's
    SOP Class/Instance UIDs are not the command's. A second copy of an instance replaces the first.
    """
    d = conn.d
    abstract, ts = conn.accepted[context_id]
    if str(command.get("AffectedSOPClassUID", "")) != abstract and "ignore-context-sop-class" not in d:
        return 0x0122
    try:
        uids = data_set_uids(dataset, ts)
    except Exception:  # noqa: BLE001 - a data set we cannot read is one we cannot understand
        return 0xC000
    wanted = (str(command.get("AffectedSOPClassUID", "")), str(command.get("AffectedSOPInstanceUID", "")))
    if uids != wanted and "store-mismatched-data-set" not in d:
        return 0xA900
    if "abort-on-duplicate-uid" in d and stored_path(conn, wanted[1]).exists():
        conn.abort(2, 0)
    return None


def stored_path(conn: ZooConnection, instance_uid: str) -> Path:
    name = "".join(c for c in instance_uid if c.isdigit() or c == ".") or "unnamed"
    return conn.cfg.storage / f"{name}.dcm"


# The archive's index -----------------------------------------------------------------------
def records(storage: Path) -> list[dict[str, object]]:
    """One record per stored file: the query keys plus the file and its transfer syntax."""
    out = []
    for path in sorted(storage.glob("*.dcm")) if storage.exists() else []:
        try:
            ds = dcmread(path, stop_before_pixels=True)
        except Exception:  # noqa: BLE001 - a file we cannot index is not in the archive
            continue
        record: dict[str, object] = {k: str(ds.get(k, "") or "") for level in LEVELS for k in KEYS[level]}
        record["_path"] = path
        record["_ts"] = str(ds.file_meta.TransferSyntaxUID)
        out.append(record)
    return out


def matches(value: str, wanted: str, keyword: str, exact_only: bool) -> bool:
    """PS3.4 C.2.2.2: universal, UID list, range, wildcard and single value matching."""
    if wanted in ("", "*"):
        return True if not exact_only or wanted == "" else value == wanted
    if exact_only:
        return value == wanted
    if keyword in UID_KEYS:
        return value in wanted.split("\\")
    if keyword in RANGE_KEYS and "-" in wanted:
        low, _, high = wanted.partition("-")
        return (not low or value >= low) and (not high or value <= high) and bool(value)
    if "*" in wanted or "?" in wanted:
        return re.fullmatch(fnmatch.translate(wanted).replace("(?s:", "(?:"), value) is not None
    return value == wanted


def select_records(conn: ZooConnection, identifier: Dataset, level: str) -> list[dict[str, object]]:
    exact = "find-exact-match-only" in conn.d
    found, seen = [], set()
    for record in records(conn.cfg.storage):
        ok = True
        for elem in identifier:
            keyword = elem.keyword
            if (keyword in record and not isinstance(elem.value, Sequence)
                    and not matches(str(record[keyword]), str(elem.value or ""), keyword, exact)):
                ok = False
                break
        key = str(record[UNIQUE[level]])
        if ok and key not in seen:
            seen.add(key)
            found.append(record)
    return found


# Talking while serving one request --------------------------------------------------------
def send_message(conn: ZooConnection, context_id: int, command: Dataset, data: bytes | None) -> None:
    if data is not None:
        command.CommandDataSetType = DATA_SET_PRESENT
    conn.respond(context_id, command)
    if data is not None:
        for pdu in conn.cut(data, context_id, command=False):
            conn.send(pdu)


def next_command(conn: ZooConnection, deadline: float, wait: bool = True) -> Dataset | None:
    """The next whole command set from the requestor (data sets skipped); ``None`` if none waits.

    With ``wait`` False, returns ``None`` at once unless bytes are already there (C-CANCEL poll).
    """
    assembler = Assembler()
    while True:
        if not wait and not assembler.partial:
            readable, _, _ = select.select([conn.sock], [], [], 0)
            if not readable:
                return None
        code, data = conn.read_pdu(deadline, conn.cfg.max_length + 6)
        if code != 0x04 or len(data) == pd.PDU_HEADER:
            conn.abort(2, 2)
        pdu = pd.decode_pdu(data)
        assert isinstance(pdu, pd.PDataTF)
        for pdv in pdu.pdvs:
            message = assembler.feed_pdv(pdv) if pdv.is_command else None
            if message is not None:
                return decode_command(message.command_bytes)


def handle(conn: ZooConnection, context_id: int, command: Dataset, dataset: bytes | None) -> None:
    field_ = command.get("CommandField")
    abstract, ts = conn.accepted[context_id]
    if field_ == C_CANCEL_RQ:
        return  # for an operation already finished: nothing to answer (C-CANCEL has no response)
    identifier = decode_data_set(dataset, ts) if dataset is not None else Dataset()
    if field_ == C_FIND_RQ and abstract == WORKLIST_FIND:
        worklist(conn, context_id, command, identifier, ts)
    elif field_ == C_FIND_RQ and abstract in (PATIENT_ROOT_FIND, STUDY_ROOT_FIND):
        find(conn, context_id, command, identifier, ts)
    elif field_ == C_GET_RQ and abstract in (PATIENT_ROOT_GET, STUDY_ROOT_GET):
        get(conn, context_id, command, identifier)
    elif field_ == C_MOVE_RQ and abstract in (PATIENT_ROOT_MOVE, STUDY_ROOT_MOVE):
        move(conn, context_id, command, identifier)
    elif field_ == N_ACTION_RQ and abstract == STORAGE_COMMITMENT:
        commit(conn, context_id, command, identifier, ts)
    else:
        conn.respond(context_id, response(command, response_field(field_ or 0), 0x0122))


# C-FIND --------------------------------------------------------------------------------------
def _answer(identifier: Dataset, record: dict[str, object], level: str, aet: str) -> Dataset:
    out = Dataset()
    for elem in identifier:
        if elem.keyword in record:
            setattr(out, elem.keyword, record[elem.keyword] or None)
        elif elem.tag.group != 0x0000:
            out.add(elem)
    out.QueryRetrieveLevel = level
    out.RetrieveAETitle = aet
    return out


def _pending(conn: ZooConnection, context_id: int, command: Dataset, answers: list[Dataset], ts: str,
             field_: int) -> None:
    """Pending responses (0xFF00), checking for C-CANCEL before each; then the final status."""
    deadline = time.monotonic() + conn.cfg.idle
    for answer in answers:
        if "ignore-c-cancel" not in conn.d:
            waiting = next_command(conn, deadline, wait=False)
            if waiting is not None and waiting.get("CommandField") == C_CANCEL_RQ:
                conn.respond(context_id, response(command, field_, 0xFE00))
                return
        send_message(conn, context_id, response(command, field_, 0xFF00), encode_data_set(answer, ts))
    conn.respond(context_id, response(command, field_, 0x0000))


def find(conn: ZooConnection, context_id: int, command: Dataset, identifier: Dataset, ts: str) -> None:
    level = str(identifier.get("QueryRetrieveLevel", ""))
    if level not in LEVELS:
        conn.respond(context_id, response(command, C_FIND_RSP, 0xA900, ErrorComment="bad Query/Retrieve Level"))
        return
    found = [] if "find-returns-nothing" in conn.d else select_records(conn, identifier, level)
    answers = [_answer(identifier, r, level, conn.cfg.ae_title) for r in found]
    _pending(conn, context_id, command, answers, ts, C_FIND_RSP)


# C-GET and C-MOVE ----------------------------------------------------------------------------
def _counts(rsp: Dataset, remaining: int, done: int, failed: int, warned: int) -> Dataset:
    rsp.NumberOfRemainingSuboperations = remaining
    rsp.NumberOfCompletedSuboperations = done
    rsp.NumberOfFailedSuboperations = failed
    rsp.NumberOfWarningSuboperations = warned
    return rsp


@dataclass
class SubOperations:
    """The C-STORE sub-operations of a C-GET or C-MOVE so far, and the responses that report them."""

    done: int = 0
    failed: int = 0
    warned: int = 0

    def count(self, status: int) -> None:
        if status == 0:
            self.done += 1
        elif status & 0xF000 == 0xB000:
            self.warned += 1
        else:
            self.failed += 1

    def pending(self, command: Dataset, field_: int, remaining: int) -> Dataset:
        return _counts(response(command, field_, 0xFF00), remaining, self.done, self.failed, self.warned)

    def final(self, command: Dataset, field_: int) -> Dataset:
        status = _final_status(self.done, self.failed, self.warned)
        return _counts(response(command, field_, status), 0, self.done, self.failed, self.warned)


def retrieve_records(conn: ZooConnection, identifier: Dataset) -> list[dict[str, object]] | None:
    """The instances a C-GET/C-MOVE identifier names (``None`` for a bad Query/Retrieve Level)."""
    level = str(identifier.get("QueryRetrieveLevel", ""))
    if level not in LEVELS:
        return None
    found = select_records(conn, identifier, "IMAGE")
    if level != "IMAGE":
        unique = UNIQUE[level]
        found = [r for r in found if str(r[unique]) in str(identifier.get(unique, "")).split("\\")]
    return found


def _final_status(done: int, failed: int, warned: int) -> int:
    return 0x0000 if not failed and not warned else (0xA702 if failed and not done and not warned else 0xB000)


def get(conn: ZooConnection, context_id: int, command: Dataset, identifier: Dataset) -> None:
    found = retrieve_records(conn, identifier)
    if found is None:
        conn.respond(context_id, response(command, C_GET_RSP, 0xA900))
        return
    if "get-success-without-store" in conn.d:
        conn.respond(context_id, _counts(response(command, C_GET_RSP, 0x0000), 0, len(found), 0, 0))
        return
    subops = SubOperations()
    deadline = time.monotonic() + conn.cfg.idle
    for n, record in enumerate(found):
        sop_class, ts = str(record["SOPClassUID"]), str(record["_ts"])
        target = next((cid for cid, (a, t) in conn.accepted.items() if a == sop_class and t == ts), None)
        if target is None:
            subops.failed += 1
            continue
        raw = Path(str(record["_path"])).read_bytes()
        # Preamble and "DICM" (132 bytes), then (0002,0000) UL: 12 bytes whose value is the group's length.
        start = 132 + 12 + int.from_bytes(raw[140:144], "little")
        rq = Dataset()
        rq.AffectedSOPClassUID = sop_class
        rq.CommandField = C_STORE_RQ
        rq.MessageID = 1000 + n
        rq.Priority = 0
        rq.CommandDataSetType = DATA_SET_PRESENT
        rq.AffectedSOPInstanceUID = str(record["SOPInstanceUID"])
        rq.MoveOriginatorApplicationEntityTitle = conn.cfg.ae_title
        for pdu in [*conn.cut(encode_command(rq), target), *conn.cut(raw[start:], target, command=False)]:
            conn.send(pdu)
        rsp = next_command(conn, deadline)
        subops.count(int(rsp.get("Status", 0xC000)) if rsp is not None else 0xC000)
        remaining = len(found) - n - 1
        if remaining:
            conn.respond(context_id, subops.pending(command, C_GET_RSP, remaining))
    conn.respond(context_id, subops.final(command, C_GET_RSP))


def move(conn: ZooConnection, context_id: int, command: Dataset, identifier: Dataset) -> None:
    """C-MOVE: the sub-operations go to a destination the zoo was given; any other is unknown (0xA801)."""
    destination = str(command.get("MoveDestination", "")).strip()
    address = conn.cfg.move_destinations.get(destination)
    if address is None:
        if "move-unknown-destination-success" in conn.d:
            conn.respond(context_id, _counts(response(command, C_MOVE_RSP, 0x0000), 0, 0, 0, 0))
            return
        conn.respond(context_id, response(command, C_MOVE_RSP, 0xA801,
                                                ErrorComment=f"move destination {destination[:40]} unknown"))
        return
    found = retrieve_records(conn, identifier)
    if found is None:
        conn.respond(context_id, response(command, C_MOVE_RSP, 0xA900))
        return
    if "move-success-sends-nothing" in conn.d:
        conn.respond(context_id, _counts(response(command, C_MOVE_RSP, 0x0000), 0, len(found), 0, 0))
        return
    subops = _store_to(conn, context_id, command, destination, address, found)
    if "move-final-counts-zero" in conn.d:
        subops = SubOperations()
    conn.respond(context_id, subops.final(command, C_MOVE_RSP))


def _store_to(conn: ZooConnection, context_id: int, command: Dataset, destination: str, address: tuple[str, int],
              found: list[dict[str, object]]) -> SubOperations:
    """The C-STORE sub-operations of a C-MOVE, on a new association to ``destination``; a pending
    C-MOVE-RSP after each but the last."""
    from pynetdicom import AE

    subops = SubOperations()
    if not found:
        return subops
    ae = AE(ae_title=conn.cfg.ae_title)
    for attribute in ("acse_timeout", "dimse_timeout", "network_timeout", "connection_timeout"):
        setattr(ae, attribute, SUB_OPERATION_TIMEOUT)
    for sop_class, ts in sorted({(str(r["SOPClassUID"]), str(r["_ts"])) for r in found})[:128]:
        ae.add_requested_context(sop_class, [ts])
    try:
        assoc = ae.associate(address[0], address[1], ae_title=destination)
        if not assoc.is_established:
            subops.failed = len(found)
            return subops
        try:
            for n, record in enumerate(found):
                try:
                    rsp = assoc.send_c_store(Path(str(record["_path"])), originator_aet=conn.calling_ae or None,
                                             originator_id=int(command.get("MessageID", 0)))
                except (ValueError, RuntimeError, OSError):
                    rsp = None
                subops.count(int(getattr(rsp, "Status", 0xC000)) if rsp else 0xC000)
                remaining = len(found) - n - 1
                if remaining:
                    conn.respond(context_id, subops.pending(command, C_MOVE_RSP, remaining))
        finally:
            if assoc.is_established:
                assoc.release()
            if assoc.is_alive():
                assoc.abort()
    finally:
        ae.shutdown()
    return subops


# Modality Worklist ------------------------------------------------------------------------------
def worklist_items() -> list[Dataset]:
    """Two scheduled procedure steps for synthetic patients (no patient data)."""
    items = []
    for n, (modality, date) in enumerate([("CT", "20240315"), ("MR", "20240316")], start=1):
        sps = Dataset()
        sps.Modality = modality
        sps.ScheduledStationAETitle = "DCMCONFORM"
        sps.ScheduledProcedureStepStartDate = date
        sps.ScheduledProcedureStepStartTime = "090000"
        sps.ScheduledPerformingPhysicianName = ""
        sps.ScheduledProcedureStepDescription = f"dcmconform worklist step {n}"
        sps.ScheduledProcedureStepID = f"SPS{n}"
        item = Dataset()
        item.SpecificCharacterSet = "ISO_IR 100"
        item.AccessionNumber = f"ZOOACC{n}"
        item.PatientName = f"DCMCONFORM^WORKLIST{n}"
        item.PatientID = f"ZOO-WL-{n}"
        item.PatientBirthDate = "19700101"
        item.PatientSex = "O"
        item.StudyInstanceUID = f"{OUR_ROOT}.99.7.{n}"
        item.RequestedProcedureID = f"RP{n}"
        item.RequestedProcedureDescription = f"dcmconform requested procedure {n}"
        item.ScheduledProcedureStepSequence = Sequence([sps])
        items.append(item)
    return items


def _wl_match(item: Dataset, identifier: Dataset) -> bool:
    for elem in identifier:
        if elem.keyword == "ScheduledProcedureStepSequence" and elem.value:
            sps = item.ScheduledProcedureStepSequence[0]
            for sub in elem.value[0]:
                if sub.keyword in sps and not matches(str(sps[sub.keyword].value or ""), str(sub.value or ""),
                                                      sub.keyword, False):
                    return False
        elif (elem.keyword in item and not isinstance(elem.value, Sequence)
              and not matches(str(item[elem.keyword].value or ""), str(elem.value or ""), elem.keyword, False)):
            return False
    return True


def _wl_answer(item: Dataset, identifier: Dataset, drop_sps: bool) -> Dataset:
    out = Dataset()
    for elem in identifier:
        if elem.keyword == "ScheduledProcedureStepSequence":
            if drop_sps:
                continue
            sps_out = Dataset()
            sps = item.ScheduledProcedureStepSequence[0]
            for sub in (elem.value[0] if elem.value else Dataset()):
                sps_out.add(sps.get(sub.tag, sub))
            out.ScheduledProcedureStepSequence = Sequence([sps_out])
        elif elem.tag in item:
            out.add(item[elem.tag])
        elif elem.tag.group != 0x0000:
            out.add(elem)
    out.SpecificCharacterSet = "ISO_IR 100"
    return out


def worklist(conn: ZooConnection, context_id: int, command: Dataset, identifier: Dataset, ts: str) -> None:
    drop = "mwl-missing-sps" in conn.d
    answers = [_wl_answer(i, identifier, drop) for i in worklist_items() if _wl_match(i, identifier)]
    _pending(conn, context_id, command, answers, ts, C_FIND_RSP)


# Storage Commitment -----------------------------------------------------------------------------
def commit(conn: ZooConnection, context_id: int, command: Dataset, request: Dataset, ts: str) -> None:
    rsp = response(command, N_ACTION_RSP, 0x0000)
    rsp.AffectedSOPClassUID = STORAGE_COMMITMENT
    rsp.AffectedSOPInstanceUID = str(command.get("RequestedSOPInstanceUID", STORAGE_COMMITMENT_INSTANCE))
    rsp.ActionTypeID = command.get("ActionTypeID", 1)
    conn.respond(context_id, rsp)
    stored = {str(r["SOPInstanceUID"]): str(r["SOPClassUID"]) for r in records(conn.cfg.storage)}
    good, bad = Sequence(), Sequence()
    for ref in request.get("ReferencedSOPSequence", []):
        item = Dataset()
        item.ReferencedSOPClassUID = ref.get("ReferencedSOPClassUID", "")
        item.ReferencedSOPInstanceUID = ref.get("ReferencedSOPInstanceUID", "")
        known = stored.get(str(item.ReferencedSOPInstanceUID)) == str(item.ReferencedSOPClassUID)
        if known or "commit-everything" in conn.d:
            good.append(item)
        else:
            item.FailureReason = 0x0112  # no such object instance
            bad.append(item)
    report = Dataset()
    report.TransactionUID = request.get("TransactionUID", "")
    if good:
        report.ReferencedSOPSequence = good
    if bad:
        report.FailedSOPSequence = bad
    rq = Dataset()
    rq.AffectedSOPClassUID = STORAGE_COMMITMENT
    rq.CommandField = N_EVENT_REPORT_RQ
    rq.MessageID = 2000
    rq.AffectedSOPInstanceUID = STORAGE_COMMITMENT_INSTANCE
    rq.EventTypeID = 2 if bad else 1
    send_message(conn, context_id, rq, encode_data_set(report, ts))
    next_command(conn, time.monotonic() + conn.cfg.idle)  # the N-EVENT-REPORT-RSP


# Fragments -------------------------------------------------------------------------------------
def check_fragments(conn: ZooConnection, pdu: pd.PDataTF) -> None:
    """Defects in reassembly (PS3.8 Annex E): each aborts (2/6) what the standard allows."""
    d = conn.d
    if "one-pdv-per-pdu" in d and len(pdu.pdvs) > 1:
        conn.abort(2, 6)
    if "command-fragments-unsupported" in d and any(p.is_command and not p.is_last for p in pdu.pdvs):
        conn.abort(2, 6)
    if "aligned-fragments-only" in d and any(len(p.data) % 4 for p in pdu.pdvs if not p.is_last):
        conn.abort(2, 6)  # as if each fragment had to hold whole tags and lengths
