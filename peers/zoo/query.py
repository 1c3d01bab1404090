"""Query: C-FIND over what the zoo stored (Patient and Study Root, PS3.4 C.4.1), with single value,
universal, wildcard, range and UID list matching (C.2.2.2), and C-CANCEL between the pending
responses (PS3.7 9.3.2.3). The record index and the matching also serve retrieve and worklist.

Overrides: find-returns-nothing (no matches), find-exact-match-only (every key compared
literally), ignore-c-cancel (never looks for a C-CANCEL-RQ).
"""

from __future__ import annotations

import fnmatch
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from dcmconform.dimse.commands import C_CANCEL_RQ, C_FIND_RSP, response
from dcmconform.dimse.datasets import encode_data_set
from dcmconform.peers.zoo import answers as zoo_answers

if TYPE_CHECKING:
    from dcmconform.peers.zoo.scp import ZooConnection

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
    """The records matching every key of ``identifier``, one per unique key of ``level``.
    Override: find-exact-match-only."""
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


# C-FIND --------------------------------------------------------------------------------------
def answer_for(identifier: Dataset, record: dict[str, object], level: str, aet: str) -> Dataset:
    """A match: the requested keys with the record's values (PS3.4 C.4.1.3.1)."""
    out = Dataset()
    for elem in identifier:
        if elem.keyword in record:
            setattr(out, elem.keyword, record[elem.keyword] or None)
        elif elem.tag.group != 0x0000:
            out.add(elem)
    out.QueryRetrieveLevel = level
    out.RetrieveAETitle = aet
    return out


def pending_responses(conn: ZooConnection, context_id: int, command: Dataset, answers: list[Dataset], ts: str,
                      field_: int) -> None:
    """One pending response (0xFF00) per match, then the final 0x0000 (PS3.4 C.4.1.2.1); a C-CANCEL-RQ
    seen before a match ends the operation with 0xFE00 (PS3.7 9.3.2.3). Override: ignore-c-cancel."""
    deadline = time.monotonic() + conn.cfg.idle
    for answer in answers:
        if "ignore-c-cancel" not in conn.d:
            waiting = conn.next_command(deadline, wait=False)
            if waiting is not None and waiting.get("CommandField") == C_CANCEL_RQ:
                conn.respond(context_id, response(command, field_, 0xFE00))
                return
        conn.send_message(context_id, response(command, field_, 0xFF00), encode_data_set(answer, ts))
    conn.respond(context_id, response(command, field_, 0x0000))


def find(conn: ZooConnection, context_id: int, command: Dataset, identifier: Dataset, ts: str) -> None:
    """C-FIND (PS3.4 C.4.1): 0xA900 for a bad Query/Retrieve Level. Override: find-returns-nothing."""
    level = str(identifier.get("QueryRetrieveLevel", ""))
    if level not in LEVELS:
        conn.respond(context_id, response(command, C_FIND_RSP, 0xA900, ErrorComment="bad Query/Retrieve Level"))
        return
    found = [] if "find-returns-nothing" in conn.d else select_records(conn, identifier, level)
    answers = [answer_for(identifier, r, level, conn.cfg.ae_title) for r in found]
    answers = zoo_answers.query_answers(conn, identifier, found, answers, level, lambda q: select_records(conn, q, level), lambda r: answer_for(identifier, r, level, conn.cfg.ae_title))  # noqa: E501
    pending_responses(conn, context_id, command, answers, ts, C_FIND_RSP)


