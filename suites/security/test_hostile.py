"""Hostile values (PS3.5 9.1; PS3.4 B.2.3): a C-STORE whose SOP Instance UID is no UID at all.

A node that names files after UIDs and stores ``../../x`` as given writes outside its archive; one
that stores a 65-character or lettered UID hands every partner an object it cannot reference. The
node should refuse each (0xA900, 0xC000 or another failure) or store it harmlessly, and keep serving.
"""

from __future__ import annotations

from dcmconform.evidence.verdict import Verdict, check
from dcmconform.fixtures.screen_capture import screen_capture_image
from dcmconform.net.probe import Probe
from dcmconform.suites.security.alive import Alive, still_serves
from dcmconform.suites.security.hostile import REFUSED, STORED, UNANSWERED, store_each

HOSTILE_UIDS = {
    "a path": "../../x",
    "65 characters": "1.2." + "3" * 61,
    "letters": "1.2.840.ABC.1",
    "a trailing dot": "1.2.840.10008.",
}


@check("SEC-008", "A C-STORE whose SOP Instance UID is not a valid UID is refused, and the node keeps serving",
       "PS3.5 9.1 (UID encoding rules); PS3.4 B.2.3", "SHOULD",
       fix="Validate UIDs before storing (PS3.5 9.1: digits and dots, 64 characters at most, no leading zero, no "
           "trailing dot) and answer a C-STORE with an invalid SOP Instance UID with a failure status (0xA900 or "
           "0xC000); never build a file path from a UID without checking it.", stores=True)
def test_invalid_instance_uids(probe: Probe, verdict: Verdict, alive: Alive) -> None:
    got = store_each(probe, {what: screen_capture_image(uid, rows=8, columns=8) for what, uid in HOSTILE_UIDS.items()})
    refused = [f"{what}: {came}" for what, came in got.of(REFUSED, UNANSWERED)]
    stored = [f"{what} {HOSTILE_UIDS[what]!r}: {came}" for what, came in got.of(STORED)]
    still_serves(verdict, alive, "C-STOREs with invalid SOP Instance UIDs")
    if got.none_sent():
        verdict.not_applicable(got.none_sent())
    verdict.judge(not stored, "refused every invalid SOP Instance UID: " + "; ".join(refused),
                  "stored objects whose SOP Instance UID is no valid UID: " + "; ".join(stored),
                  compared=[(f"answer to a C-STORE with SOP Instance UID {HOSTILE_UIDS[what]!r} ({what})",
                             "refused (a failure status, or the association ended)", str(came))
                            for what, came in got.of(REFUSED, UNANSWERED)])

