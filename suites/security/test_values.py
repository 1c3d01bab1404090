"""Hostile values (PS3.5 6.2 value representations; PS3.4 B.2.3): a C-STORE whose Patient ID or
Patient's Name holds a path, control characters or 10,000 characters.

A node that builds folder names from the Patient ID writes outside its archive; one that copies the
name into a fixed buffer or a log line breaks. Each request should be refused with a failure status
(0xA900, 0xC000) or stored harmlessly; whatever it does, the node answers each and keeps serving.
SEC-008 (suites/security/test_hostile.py) does the same for SOP Instance UIDs.
"""

from __future__ import annotations

from pydicom.dataset import Dataset

from dcmconform.fixtures.screen_capture import screen_capture_image
from dcmconform.probe import Probe
from dcmconform.suites.security.alive import Alive, still_serves
from dcmconform.suites.security.hostile import REFUSED, STORED, UNANSWERED, store_each
from dcmconform.verdict import Verdict, check

LONG = 10_000
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


@check("SEC-013", "C-STOREs with a path, control characters or 10,000 characters in Patient ID or Patient's Name "
       "are answered, and the node keeps serving", "PS3.5 6.2 (LO, PN); PS3.4 B.2.3; PS3.8 9.2", "SHOULD",
       fix="Check Patient ID and Patient's Name against their value representations (LO: 64 characters, PN: 64 "
           "per component group, no control characters but ESC for character sets) and answer a violation with a "
           "failure status (0xA900 or 0xC000), or store it as data; never build a path or a log line from it "
           "unescaped, and never drop the association or the process over it.")
def test_hostile_patient_values(probe: Probe, verdict: Verdict, alive: Alive) -> None:
    got = store_each(probe, {what: hostile_object(keyword, value) for what, keyword, value in HOSTILE_VALUES})
    answered = [f"{what}: {came}" for what, came in got.of(STORED, REFUSED)]
    silent = [f"{what}: {came}" for what, came in got.of(UNANSWERED)]
    still_serves(verdict, alive, "C-STOREs with hostile Patient ID and Patient's Name values")
    verdict.judge(not silent, "answered each: " + "; ".join(answered),
                  "gave no C-STORE response to: " + "; ".join(silent)
                  + (f" (answered: {'; '.join(answered)})" if answered else ""))
