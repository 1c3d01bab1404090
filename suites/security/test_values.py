"""Hostile values (PS3.5 6.2 value representations; PS3.4 B.2.3): a C-STORE whose Patient ID or
Patient's Name holds a path, control characters or 10,000 characters.

A node that builds folder names from the Patient ID writes outside its archive; one that copies the
name into a fixed buffer or a log line breaks. Each request should be refused with a failure status
(0xA900, 0xC000) or stored harmlessly; whatever it does, the node answers each and keeps serving.
SEC-008 (suites/security/test_hostile.py) does the same for SOP Instance UIDs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydicom.dataset import Dataset
from pynetdicom import sop_class as sc

from dcmconform.base.text import printable
from dcmconform.base.uids import EXPLICIT_LE, IMPLICIT_LE
from dcmconform.evidence.verdict import Verdict, check
from dcmconform.fixtures.screen_capture import screen_capture_image
from dcmconform.net.assoc import AssociationRefused
from dcmconform.net.probe import Probe
from dcmconform.suites.security.alive import Alive, still_serves
from dcmconform.suites.security.hostile import REFUSED, STORED, UNANSWERED, c_find, store_each

LONG = 10_000
STUDY_ROOT_FIND = str(sc.StudyRootQueryRetrieveInformationModelFind)
# (what, keyword, value): a path, separators, control characters (ESC, BEL, NUL, CR/LF), very long values.
HOSTILE_VALUES = [
    ("Patient ID with a path", "PatientID", "../../../etc/passwd"),
    ("Patient ID with separators", "PatientID", "..\\..\\x/y:z"),
    ("Patient's Name with control characters", "PatientName", "EVIL^\x1b[2J\x07\x00\r\nINJECTED"),
    (f"Patient ID of {LONG:,} characters", "PatientID", "A" * LONG),
    (f"Patient's Name of {LONG:,} characters", "PatientName", "B" * LONG),
]


def hostile_object(keyword: str, value: str) -> Dataset:
    ds = screen_capture_image(rows=8, columns=8)
    setattr(ds, keyword, value)
    return ds


def _as_kept(sent: str, found: str) -> str:
    if found == sent:
        return "as sent"
    if not found:
        return "empty"
    if sent.startswith(found):
        return f"cut to {len(found)} characters"
    return f"changed to {printable(found[:40])!r}" + (f" ({len(found)} characters)" if len(found) > 40 else "")


def read_back(association: Callable[..., Any], stored: dict[str, tuple[str, Dataset]]) -> list[str]:
    """What a Study Root C-FIND shows of the hostile value (keyword) of each stored object."""
    lines = []
    try:
        with association([(STUDY_ROOT_FIND, [EXPLICIT_LE, IMPLICIT_LE])]) as assoc:
            if not assoc.accepted_contexts:
                return ["not possible, the node did not accept Study Root C-FIND"]
            for what, (keyword, ds) in stored.items():
                if not assoc.is_established:
                    lines.append(f"{what}: not read, the node ended the association")
                    continue
                query = Dataset()
                query.QueryRetrieveLevel = "STUDY"
                query.StudyInstanceUID = ds.StudyInstanceUID
                query.PatientID = query.PatientName = ""
                final, matches = c_find(assoc, STUDY_ROOT_FIND, query)
                if not matches.identifiers:
                    lines.append(f"{what}: not found (C-FIND {final}, {matches.pending} pending response(s) "
                                 "with an identifier that decoded: none)")
                    continue
                found = matches.identifiers[0]
                lines.append(f"{what}: {_as_kept(str(ds.get(keyword, '')), str(found.get(keyword, '')))}")
    except AssociationRefused as exc:
        return [f"not possible ({exc})"]
    return lines


@check("SEC-013", "C-STOREs with a path, control characters or 10,000 characters in Patient ID or Patient's Name "
       "are answered, and the node keeps serving", "PS3.5 6.2 (LO, PN); PS3.4 B.2.3; PS3.8 9.2", "SHOULD", stores=True,
       fix="Check Patient ID and Patient's Name against their value representations (LO: 64 characters, PN: 64 "
           "per component group, no control characters but ESC for character sets) and answer a violation with a "
           "failure status (0xA900 or 0xC000), or store it as data; never build a path or a log line from it "
           "unescaped, and never drop the association or the process over it.")
def test_hostile_patient_values(probe: Probe, association: Callable[..., Any], verdict: Verdict,
                                alive: Alive) -> None:
    cases = {what: hostile_object(keyword, value) for what, keyword, value in HOSTILE_VALUES}
    got = store_each(probe, cases)
    answered = [f"{what}: {came}" for what, came in got.of(STORED, REFUSED)]
    silent = [f"{what}: {came}" for what, came in got.of(UNANSWERED)]
    still_serves(verdict, alive, "C-STOREs with hostile Patient ID and Patient's Name values")
    if got.none_sent():
        verdict.not_applicable(got.none_sent())
    stored = [what for what, _ in got.of(STORED)]
    if stored:
        keyword = {what: keyword for what, keyword, _ in HOSTILE_VALUES}
        answered.append("read back: " + "; ".join(read_back(association, {w: (keyword[w], cases[w]) for w in stored})))
    verdict.judge(not silent, "answered each: " + "; ".join(answered),
                  "gave no C-STORE response to: " + "; ".join(silent)
                  + (f" (answered: {'; '.join(answered)})" if answered else ""),
                  compared=[(f"answer to a C-STORE with {what}", "a C-STORE-RSP (stored or refused)", str(came))
                            for what, came in got.of(STORED, REFUSED)])

