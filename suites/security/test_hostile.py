"""Hostile values (PS3.5 9.1; PS3.4 B.2.3): a C-STORE whose SOP Instance UID is no UID at all.

A node that names files after UIDs and stores ``../../x`` as given writes outside its archive; one
that stores a 65-character or lettered UID hands every partner an object it cannot reference. The
node should refuse each (0xA900, 0xC000 or another failure) or store it harmlessly, and keep serving.
"""

from __future__ import annotations

from dcmconform.dimse.association import RawAssociation
from dcmconform.dimse.commands import store_command
from dcmconform.dimse.datasets import encode_data_set
from dcmconform.dimse.pdv import Message
from dcmconform.dimse.status import FAILURE, classify
from dcmconform.fixtures.screen_capture import screen_capture_image
from dcmconform.probe import Probe
from dcmconform.suites.security.alive import Alive, still_serves
from dcmconform.uids import EXPLICIT_LE, SECONDARY_CAPTURE
from dcmconform.verdict import Verdict, check

HOSTILE_UIDS = {
    "a path": "../../x",
    "65 characters": "1.2." + "3" * 61,
    "letters": "1.2.840.ABC.1",
    "a trailing dot": "1.2.840.10008.",
}


def _status(answer: Message | object) -> int | None:
    command = answer.command if isinstance(answer, Message) else None
    return None if command is None else int(command.get("Status", -1))


@check("SEC-008", "A C-STORE whose SOP Instance UID is not a valid UID is refused, and the node keeps serving",
       "PS3.5 9.1 (UID encoding rules); PS3.4 B.2.3", "SHOULD",
       fix="Validate UIDs before storing (PS3.5 9.1: digits and dots, 64 characters at most, no leading zero, no "
           "trailing dot) and answer a C-STORE with an invalid SOP Instance UID with a failure status (0xA900 or "
           "0xC000); never build a file path from a UID without checking it.", stores=True)
def test_invalid_instance_uids(probe: Probe, verdict: Verdict, alive: Alive) -> None:
    stored, refused = [], []
    for what, uid in HOSTILE_UIDS.items():
        data = encode_data_set(screen_capture_image(uid, rows=8, columns=8), EXPLICIT_LE)
        with RawAssociation(probe, [(1, SECONDARY_CAPTURE, [EXPLICIT_LE])]) as raw:
            if not raw.established:
                refused.append(f"{what}: association {raw.answer.describe() if raw.answer else 'not made'}")
                continue
            failed = raw.send(1, store_command(SECONDARY_CAPTURE, uid, raw.message_id()), data)
            answer = failed or raw.receive()
            code = _status(answer)
            if code is None:
                refused.append(f"{what}: {getattr(answer, 'describe', lambda: 'no response')()}")
            elif classify(code).category == FAILURE:
                refused.append(f"{what}: {classify(code)}")
            else:
                stored.append(f"{what} {uid!r}: {classify(code)}")
    still_serves(verdict, alive, "C-STOREs with invalid SOP Instance UIDs")
    verdict.judge(not stored, "refused every invalid SOP Instance UID: " + "; ".join(refused),
                  "stored objects whose SOP Instance UID is no valid UID: " + "; ".join(stored))
