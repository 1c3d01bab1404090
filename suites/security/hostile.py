"""Hostile C-STOREs, one association each (SEC-008 hostile UIDs, SEC-013 hostile patient values): what
the node answered to each, sorted into stored, refused (a failure status) and unanswered."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydicom.dataset import Dataset

from dcmconform.dimse.association import RawAssociation
from dcmconform.dimse.commands import store_command
from dcmconform.dimse.datasets import encode_data_set
from dcmconform.dimse.pdv import Message
from dcmconform.dimse.status import FAILURE, classify
from dcmconform.probe import Probe
from dcmconform.uids import EXPLICIT_LE, SECONDARY_CAPTURE

STORED, REFUSED, UNANSWERED = "stored", "refused", "unanswered"  # unanswered: no association, response or an abort


@dataclass
class Stores:
    answers: list[tuple[str, str, str]] = field(default_factory=list)  # (STORED|REFUSED|UNANSWERED, case, what came)

    def of(self, *kinds: str) -> list[tuple[str, str]]:
        return [(case, came) for kind, case, came in self.answers if kind in kinds]


def _status(answer: Message | object) -> int | None:
    command = answer.command if isinstance(answer, Message) else None
    return None if command is None else int(command.get("Status", -1))


def store_each(probe: Probe, cases: dict[str, Dataset]) -> Stores:
    """C-STORE each Secondary Capture data set of ``cases`` (by what it tries) on its own association."""
    out = Stores()
    for what, ds in cases.items():
        data = encode_data_set(ds, EXPLICIT_LE)
        with RawAssociation(probe, [(1, SECONDARY_CAPTURE, [EXPLICIT_LE])]) as raw:
            if not raw.established:
                came = f"association {raw.answer.describe() if raw.answer else 'not made'}"
                out.answers.append((UNANSWERED, what, came))
                continue
            failed = raw.send(1, store_command(SECONDARY_CAPTURE, str(ds.SOPInstanceUID), raw.message_id()), data)
            answer = failed or raw.receive()
            code = _status(answer)
            if code is None:
                out.answers.append((UNANSWERED, what, getattr(answer, "describe", lambda: "no response")()))
            elif classify(code).category == FAILURE:
                out.answers.append((REFUSED, what, str(classify(code))))
            else:
                out.answers.append((STORED, what, str(classify(code))))
    return out
