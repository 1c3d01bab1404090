"""The security checks' DIMSE exchanges: hostile C-STOREs, one association each (SEC-008 hostile UIDs,
SEC-013 hostile patient values), sorted into stored, refused (a failure status) and unanswered; and a
C-FIND through pynetdicom (SEC-013's read back, SEC-015)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pydicom.dataset import Dataset
from pynetdicom.status import code_to_category

from dcmconform.base.uids import EXPLICIT_LE, SECONDARY_CAPTURE
from dcmconform.dimse.commands import store_command
from dcmconform.dimse.datasets import encode_data_set
from dcmconform.dimse.pdv import Message
from dcmconform.dimse.status import FAILURE, classify
from dcmconform.exchange.association import RawAssociation
from dcmconform.net.assoc import bounded
from dcmconform.net.probe import Probe

STORED, REFUSED, UNANSWERED = "stored", "refused", "unanswered"  # unanswered: no response, or an abort
NOT_ASSOCIATED = "not associated"  # no association to send the C-STORE on: nothing was compared


@dataclass
class Stores:
    answers: list[tuple[str, str, str]] = field(default_factory=list)  # (STORED|REFUSED|UNANSWERED, case, what came)

    def of(self, *kinds: str) -> list[tuple[str, str]]:
        return [(case, came) for kind, case, came in self.answers if kind in kinds]

    def none_sent(self) -> str:
        """Why no C-STORE could be sent at all (every association refused), or "" when one was."""
        if self.answers and all(kind == NOT_ASSOCIATED for kind, _, _ in self.answers):
            return (f"no association for Secondary Capture Image Storage could be made ({self.answers[0][2]}), so "
                    "no C-STORE was sent and nothing compared")
        return ""


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
                out.answers.append((NOT_ASSOCIATED, what, came))
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


def status_words(status: Dataset | None) -> tuple[str, str]:
    """(category, words) of a pynetdicom response status; ("", why) when none came."""
    code = getattr(status, "Status", None)
    if code is None:
        return "", "no response (aborted, closed or timed out)"
    category = code_to_category(int(code))
    return category, f"0x{int(code):04X} ({category})"


@dataclass
class Matches:
    """A C-FIND's pending responses: ``pending`` counts them by status (a match whether or not its
    identifier decoded), ``identifiers`` holds those that did."""

    pending: int = 0
    identifiers: list[Dataset] = field(default_factory=list)

    def __len__(self) -> int:
        return self.pending

    def __iter__(self) -> Iterator[Dataset]:
        return iter(self.identifiers)


def c_find(assoc: Any, model: str, query: Dataset) -> tuple[str, Matches]:
    """One C-FIND on a pynetdicom association (bounded): (the final status in words, the matches)."""
    matches, final = Matches(), "no response"
    for status, identifier in bounded(assoc.send_c_find(query, model), assoc, "C-FIND"):
        category, words = status_words(status)
        if category == "Pending":
            matches.pending += 1
            if identifier is not None:
                matches.identifiers.append(identifier)
        else:
            final = words
    return final, matches
