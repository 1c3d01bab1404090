"""C-STORE of catalogue objects with pynetdicom, one association (and one transcript) per object.

Each object goes on its own association that proposes exactly its SOP class in exactly its
transfer syntax, so "what the target accepted" is known per object, and the evidence of one
store is a short transcript. The file is sent as it is on disk (pynetdicom streams a path without
decoding it), so the bytes on the wire are the catalogue's bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset

from dcmconform.dimse.commands import C_STORE_RQ, C_STORE_RSP
from dcmconform.dimse.pdv import Message
from dcmconform.dimse.status import Status, classify
from dcmconform.evidence.messages import messages, response_problems, responses_to
from dcmconform.evidence.transcript import SENT, Transcript
from dcmconform.fixtures.catalogue import Catalogue, Variant
from dcmconform.net.assoc import AssociationRefused, associate
from dcmconform.net.target import Endpoint


@dataclass
class Stored:
    """One C-STORE: what was sent, whether it could be, and what came back."""

    variant: Variant
    path: Path
    transcript: Transcript
    sent: bool = False
    not_sent: str = ""  # why not (context not accepted, association refused)
    request: Dataset | None = None
    response: Message | None = None
    problems: list[str] = field(default_factory=list)  # command set problems
    blocked: bool = False  # no response, and our C-STORE-RQ never went out whole: the target stopped reading
    extended: dict[str, bytes] = field(default_factory=dict)  # the A-ASSOCIATE-AC's SOP class extended negotiation

    @property
    def status(self) -> Status | None:
        if self.response is None or self.response.status is None:
            return None
        return classify(int(self.response.status), "C-STORE")

    @property
    def comment(self) -> str:
        command = self.response.command if self.response is not None else None
        return str(command.get("ErrorComment", "")) if command is not None else ""

    def line(self, width: int = 22) -> str:
        name = self.variant.name.ljust(width)
        if not self.sent:
            return f"{name} not sent: {self.not_sent}"
        if self.response is None and self.blocked:
            return f"{name} no C-STORE-RSP: the target stopped reading before our data set was sent whole"
        if self.response is None:
            return f"{name} no C-STORE-RSP"
        comment = f', Error Comment "{self.comment}"' if self.comment else ", no Error Comment"
        if self.status is not None and self.status.category == "success":
            comment = ""
        return f"{name} {self.status}{comment}"


def store(target: Endpoint, calling_aet: str, timeout: float, path: Path, variant: Variant,
          max_pdu: int = 16384, ext_neg: list[Any] | None = None) -> Stored:
    """Associate for this one object, C-STORE it, release; judge nothing, record everything. ``ext_neg``:
    extended negotiation items to propose (what the node answers of the SOP class extended negotiation
    lands in :attr:`Stored.extended`)."""
    result = Stored(variant, path, Transcript(variant.name))
    contexts = [(variant.sop_class_uid, [variant.transfer_syntax])]
    try:
        with associate(target, calling_aet, timeout, contexts, result.transcript, max_pdu=max_pdu,
                       ext_neg=ext_neg) as assoc:
            result.extended = {str(k): bytes(v) for k, v in assoc.acceptor.sop_class_extended.items()}
            if not assoc.accepted_contexts:
                result.not_sent = "the target did not accept this SOP class in this transfer syntax"
                return result
            assoc.send_c_store(path)
            result.sent = True
    except AssociationRefused as exc:
        result.not_sent = str(exc)  # "association rejected (...)"
        return result
    except (ValueError, RuntimeError, OSError) as exc:
        result.sent = True
        result.transcript.note(f"sending failed: {type(exc).__name__}: {exc}")
    pairs = responses_to(result.transcript, C_STORE_RQ)
    if pairs:
        request, response = pairs[0]
        result.request = request.command
        result.response = response
        if response is not None and request.command is not None:
            result.problems = response_problems(response, request.command, C_STORE_RSP)
    result.blocked = result.sent and result.response is None and not any(
        m.field == C_STORE_RQ and m.complete for m in messages(result.transcript, SENT))
    return result


STOPPED_READING = "not tried: the target stopped answering (or reading) our C-STOREs"
SILENT_IN_A_ROW = 2  # C-STOREs in a row with no response within --timeout, after which the rest are not tried


def store_catalogue(target: Endpoint, calling_aet: str, timeout: float, catalogue: Catalogue,
                    variants: list[Variant] | None = None) -> list[Stored]:
    """Each variant stored on its own association. Once the target stops reading what we send (a C-STORE that
    never went out whole) or answers :data:`SILENT_IN_A_ROW` C-STOREs in a row with nothing within the timeout,
    the rest are not tried: each would wait the same timeouts again (a node that accepted and never read cost
    48 stores x timeouts, 236 s per check), and the verdict is already known."""
    results: list[Stored] = []
    for variant in variants or catalogue.variants():
        last = results[-SILENT_IN_A_ROW:]
        silent = len(last) == SILENT_IN_A_ROW and all(r.sent and r.response is None for r in last)
        if results and (results[-1].blocked or results[-1].not_sent == STOPPED_READING or silent):
            results.append(Stored(variant, catalogue.path(variant), Transcript(variant.name), not_sent=STOPPED_READING))
            continue
        results.append(store(target, calling_aet, timeout, catalogue.path(variant), variant))
    return results


def evidence_for(results: list[Stored], bad: list[Stored], limit: int = 4) -> list[object]:
    """A table of every store, then the transcripts of up to ``limit`` bad ones (or the first good one)."""
    table = "\n".join(r.line() for r in results)
    shown = bad[:limit] or [r for r in results if r.sent][:1]
    return [table, *[r.transcript for r in shown]]


def data_set_bytes(path: Path) -> bytes:
    """The data set of a Part 10 file as it goes on the wire (preamble and file meta stripped)."""
    raw = path.read_bytes()
    # "DICM" at 128, then (0002,0000) UL 4 <group length> in Explicit VR LE: 12 bytes.
    return raw[132 + 12 + int.from_bytes(raw[140:144], "little"):]
