"""Query (C-FIND), Patient and Study Root: keys, matching, pending statuses, C-CANCEL (PS3.4 C.4.1, C.2.2)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydicom.dataset import Dataset

from dcmconform.base.uids import EXPLICIT_LE
from dcmconform.dimse.commands import C_CANCEL_RQ, DATA_SET_PRESENT, NO_DATA_SET
from dcmconform.dimse.datasets import encode_data_set
from dcmconform.dimse.pdv import Message
from dcmconform.evidence.transcript import Transcript
from dcmconform.evidence.verdict import Level, Requirement, Verdict, check
from dcmconform.exchange.association import RawAssociation
from dcmconform.fixtures.catalogue import Catalogue
from dcmconform.net.probe import Probe
from dcmconform.suites.dimse.qr import (
    C_FIND_RQ,
    PATIENT_ROOT_FIND,
    STUDY_ROOT_FIND,
    FindResult,
    Seeded,
    find,
    judge_find_responses,
    keys,
    seed,
)
from dcmconform.suites.dimse.storing import Stored

CANCEL_ATTEMPTS = 10  # DIMSE-019: C-FIND + C-CANCEL exchanges, each on its own association
STUDY_KEYS = ("StudyDate", "StudyTime", "AccessionNumber", "PatientName", "PatientID", "StudyID", "StudyInstanceUID")

# Broken whatever a query check is about: a query that never ends is no answer.
FINAL_RESPONSE = Requirement("PS3.4 C.4.1.3", Level.MUST,
                             "a C-FIND SCP ends every query, cancelled or not, with a final response")


def _seeded(store_objects: Callable[..., list[Stored]], catalogue: Catalogue, verdict: Verdict) -> Seeded:
    seeded = seed(store_objects, catalogue)
    if not seeded.ok:
        verdict.not_applicable(f"could not store the study to query: {seeded.problem()}")
    return seeded


def _one_match(result: FindResult, key: str, value: str) -> list[str]:
    """Problems unless exactly one match came back and it names ``value`` in ``key``."""
    problems = list(result.problems)
    found = [str(m.get(key, "")) for m in result.matches]
    if found != [value]:
        problems.append(f"expected exactly one match with {key} {value}, got {len(found)}: {found[:4]}")
    return problems


def _final(result: FindResult) -> str:
    """The final status of a C-FIND, for a pass's witness."""
    return "none" if result.final is None else f"0x{result.final:04X}"


def _require_keys(result: FindResult, wanted: tuple[str, ...], level: str) -> list[str]:

    problems = []
    for n, match in enumerate(result.matches):
        missing = [k for k in wanted if k not in match]
        if missing:
            problems.append(f"match {n + 1} lacks requested key(s) {', '.join(missing)}")
        if str(match.get("QueryRetrieveLevel", "")) != level:
            problems.append(f"match {n + 1} has Query/Retrieve Level {match.get('QueryRetrieveLevel', '(absent)')!s}")
    return problems


@check("DIMSE-016", "Study Root C-FIND at STUDY level finds our study: pending 0xFF00/0xFF01 with the required keys, then 0x0000",
       "PS3.4 C.4.1.2, C.6.2.1 (required keys), PS3.7 9.1.2", "MUST", needs="c-find",
       fix="Answer each match with a pending response (0xFF00, or 0xFF01 when optional keys are not supported) "
           "carrying an identifier with every requested key (empty if unknown) and the Query/Retrieve Level, "
           "then a final 0x0000 with no identifier; each response names the request's Message ID.", stores=True)
def test_find_study_root(store_objects: Callable[..., list[Stored]], dicom_catalogue: Catalogue,
                         association: Callable[..., Any], transcript: Transcript, verdict: Verdict) -> None:
    seeded = _seeded(store_objects, dicom_catalogue, verdict)
    query = keys("STUDY", **{k: "" for k in STUDY_KEYS})
    query.StudyInstanceUID = seeded.study_uid
    result = find(association, STUDY_ROOT_FIND, query, transcript)
    if not result.accepted:
        verdict.not_applicable(result.detail)
    problems = _one_match(result, "StudyInstanceUID", seeded.study_uid) + _require_keys(result, STUDY_KEYS, "STUDY")
    if result.matches and str(result.matches[0].get("PatientID", "")) != seeded.patient_id:
        problems.append(f"the match says PatientID {result.matches[0].get('PatientID')!s}, we stored {seeded.patient_id}")
    verdict.judge(not problems, f"Study Root STUDY query: {result.describe()}, keys and statuses right",
                  "; ".join(problems),
                  compared=[("C-FIND matches (Study Instance UID)", f"exactly our study {seeded.study_uid}",
                             ", ".join(str(m.get("StudyInstanceUID", "")) for m in result.matches) or "none"),
                            ("requested keys in each match", ", ".join(STUDY_KEYS), "all present"),
                            ("C-FIND final status", "0x0000", _final(result))])


@check("DIMSE-017", "Patient Root C-FIND finds our patient (PATIENT level) and its study (STUDY level)",
       "PS3.4 C.4.1.2, C.6.1.1", "MUST", needs="c-find",
       fix="Under the Patient Root model, a PATIENT level query on Patient ID returns that patient, and a STUDY "
           "level query with Patient ID returns its studies, each as a pending response with the requested keys.", stores=True)
def test_find_patient_root(store_objects: Callable[..., list[Stored]], dicom_catalogue: Catalogue,
                           association: Callable[..., Any], transcript: Transcript, verdict: Verdict) -> None:
    seeded = _seeded(store_objects, dicom_catalogue, verdict)
    patient = find(association, PATIENT_ROOT_FIND, keys("PATIENT", PatientID=seeded.patient_id, PatientName=""),
                   transcript)
    if not patient.accepted:
        verdict.not_applicable(patient.detail)
    study = find(association, PATIENT_ROOT_FIND, keys("STUDY", PatientID=seeded.patient_id, StudyInstanceUID="",
                                                      StudyDate=""), transcript)
    problems = [f"PATIENT level: {p}" for p in _one_match(patient, "PatientID", seeded.patient_id)
                + _require_keys(patient, ("PatientID", "PatientName"), "PATIENT")]
    problems += [f"STUDY level: {p}" for p in _one_match(study, "StudyInstanceUID", seeded.study_uid)
                 + _require_keys(study, ("StudyInstanceUID", "StudyDate"), "STUDY")]
    verdict.judge(not problems, f"PATIENT level: {patient.describe()}; STUDY level: {study.describe()}",
                  "; ".join(problems),
                  compared=[("PATIENT level matches (Patient ID)", f"exactly our patient {seeded.patient_id}",
                             ", ".join(str(m.get("PatientID", "")) for m in patient.matches) or "none"),
                            ("STUDY level matches (Study Instance UID)", f"exactly our study {seeded.study_uid}",
                             ", ".join(str(m.get("StudyInstanceUID", "")) for m in study.matches) or "none"),
                            ("C-FIND final statuses", "0x0000, 0x0000", f"{_final(patient)}, {_final(study)}")])


@check("DIMSE-018", "C-FIND wildcard (*, ?) and date range matching work, and a range outside our date matches nothing",
       "PS3.4 C.2.2.2.4 (wild card), C.2.2.2.5 (range)", "MUST", needs="c-find",
       fix="Support the matching types the standard requires: '*' and '?' wild cards in string keys such as "
           "Patient's Name, and ranges 'from-to', 'from-', '-to' in dates and times.", stores=True)
def test_find_matching(store_objects: Callable[..., list[Stored]], dicom_catalogue: Catalogue,
                       association: Callable[..., Any], transcript: Transcript, verdict: Verdict) -> None:
    seeded = _seeded(store_objects, dicom_catalogue, verdict)
    name = seeded.patient_name
    date = seeded.study_date
    cases = [
        ("PatientName prefix*", {"PatientName": name[:-3] + "*"}, True),
        ("PatientName with ?", {"PatientName": name[:-1] + "?"}, True),
        ("StudyDate range around ours", {"StudyDate": f"{int(date[:4]) - 1}0101-{int(date[:4]) + 1}1231"}, True),
        ("StudyDate open range up to ours", {"StudyDate": f"-{date}"}, True),
        ("StudyDate range after ours", {"StudyDate": f"{int(date[:4]) + 1}0101-"}, False),
    ]
    problems, lines, seen = [], [], []
    for label, values, expected in cases:
        query = keys("STUDY", PatientID=seeded.patient_id, StudyInstanceUID="", PatientName="", StudyDate="")
        for keyword, value in values.items():
            setattr(query, keyword, value)
        result = find(association, STUDY_ROOT_FIND, query, transcript)
        if not result.accepted:
            verdict.not_applicable(result.detail)
        found = seeded.study_uid in [str(m.get("StudyInstanceUID", "")) for m in result.matches]
        lines.append(f"{label} ({values}): {result.describe()}")
        seen.append((f"our study matched by {label} {values}", "found" if expected else "not found",
                     "found" if found else "not found"))
        if found != expected:
            problems.append(f"{label} {values}: our study {'not ' if expected else ''}found"
                            + ("" if expected else " (it should not match)"))
        problems += [f"{label}: {p}" for p in result.problems]
    verdict.judge(not problems, f"{len(cases)} matching cases right", "; ".join(problems), evidence="\n".join(lines),
                  compared=seen)


@check("DIMSE-019", "C-CANCEL during a C-FIND ends it with status 0xFE00 (Cancel)",
       "PS3.7 9.1.2.1.5 (C-CANCEL), PS3.4 C.4.1.3.1", "SHOULD", needs="c-find",
       fix="Check for a C-CANCEL-RQ naming the C-FIND's Message ID between pending responses; on one, stop and "
           "send a final response with status 0xFE00. Ignoring it makes a user's 'stop' button do nothing while "
           "a broad query streams every match.", stores=True)
def test_find_cancel(store_objects: Callable[..., list[Stored]], dicom_catalogue: Catalogue, probe: Probe,
                     transcript: Transcript, verdict: Verdict) -> None:
    # Up to CANCEL_ATTEMPTS C-FIND + C-CANCEL exchanges, each on its own association, until one is not
    # honoured: a node that drops a C-CANCEL only when it loses a race (dcm4che registers its cancel
    # handler when the query starts on a worker thread) drops it in one of them. Both requests go in
    # one write, so a node that looks for a C-CANCEL before its first response always finds it.
    seeded = _seeded(store_objects, dicom_catalogue, verdict)
    query = keys("SERIES", StudyInstanceUID=seeded.study_uid, SeriesInstanceUID="", Modality="")
    for attempt in range(1, CANCEL_ATTEMPTS + 1):
        exchange = transcript if attempt == 1 else Transcript(f"C-FIND + C-CANCEL, attempt {attempt}")
        raw = RawAssociation(Probe(probe.endpoint, probe.calling_aet, probe.timeout, exchange),
                             [(1, STUDY_ROOT_FIND, [EXPLICIT_LE])])
        with raw:
            if 1 not in raw.accepted:
                verdict.not_applicable("the target did not accept Study Root C-FIND in Explicit VR Little Endian")
            rq = Dataset()
            rq.AffectedSOPClassUID = STUDY_ROOT_FIND
            rq.CommandField = C_FIND_RQ
            rq.MessageID = raw.message_id()
            rq.Priority = 0
            rq.CommandDataSetType = DATA_SET_PRESENT
            cancel = Dataset()
            cancel.CommandField = C_CANCEL_RQ
            cancel.MessageIDBeingRespondedTo = rq.MessageID
            cancel.CommandDataSetType = NO_DATA_SET
            raw.send_together([(1, rq, encode_data_set(query, EXPLICIT_LE)), (1, cancel, None)])  # one write
            ended = None
            for got in raw.responses():
                if not isinstance(got, Message):
                    ended = got
                    break
                if got.status is not None and got.status not in (0xFF00, 0xFF01):
                    break
        result = judge_find_responses(exchange, raw.accepted)
        evidence = [] if exchange is transcript else [exchange]
        if ended is not None and result.final is None:
            verdict.fail(f"no final C-FIND response after C-CANCEL (attempt {attempt}): {ended.describe()}",
                         evidence or None, broken=FINAL_RESPONSE)
        others = [p.replace("Command Data Set Type is 0x0001, expected 0x0101 (no data set)",
                            "the final response carries an identifier (a Cancel or Success response has none, "
                            "PS3.4 Table C.4-1)") for p in result.problems if "final status" not in p]
        bad = [] if result.final == 0xFE00 else [
            f"C-CANCEL sent right after the C-FIND-RQ was not honoured (attempt {attempt} of {CANCEL_ATTEMPTS}): "
            f"{result.describe()} (we stored {len(seeded.series)} series in the study queried)"]
        if bad or others:
            verdict.judge(False, "", "; ".join(bad + others), evidence or None)
            return
    verdict.judge(True, f"C-CANCEL honoured in each of {CANCEL_ATTEMPTS} attempts: {result.describe()}", "",
                  compared=(f"final C-FIND status after C-CANCEL, in each of {CANCEL_ATTEMPTS} attempts",
                            "0xFE00 (Cancel)", f"0x{result.final:04X}" if result.final is not None else "none"))
