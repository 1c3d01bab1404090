"""DIMSE over the raw probe: for what pynetdicom will not do (our own fragmentation, tiny maximum
lengths, command and data set in one PDU, a SOP class on a context negotiated for another, a
hand-made or broken association request).

Everything goes through :class:`dcmconform.net.probe.Connection`, so every byte is in the check's
transcript and every wait has a deadline.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from pydicom.dataset import Dataset

from dcmconform.dimse.commands import encode_command
from dcmconform.dimse.pdv import Assembler, Message, Split, message_pdus
from dcmconform.net.probe import send_all
from dcmconform.base.limits import ResponseCap
from dcmconform.evidence.transcript import TargetMisbehaved
from dcmconform.net.probe import ACCEPTED, DATA, Connection, Observation, Probe
from dcmconform.evidence.transcript import RECEIVED
from dcmconform.wire import pdus as pd
from dcmconform.wire.items import Item


class RawAssociation:
    """One raw association: associate, exchange DIMSE messages, release.

    The request is a conformant one proposing ``contexts``, or ``request`` as given (any bytes: the
    association checks hand over broken ones)."""

    def __init__(self, probe: Probe, contexts: list[tuple[int, str, list[str]]], max_length: int = 16384,
                 extra_user_items: list[Item] | None = None, request: pd.PDU | bytes | None = None) -> None:
        self.probe = probe
        self.contexts = contexts
        self.request = request
        self.max_length = max_length
        self.extra = extra_user_items or []
        self.conn: Connection = probe.connection()
        self.accepted: dict[int, str] = {}  # context ID -> transfer syntax
        self.abstract: dict[int, str] = {cid: abstract for cid, abstract, _ in contexts}
        self.peer_max = 0
        self.answer: Observation | None = None
        self.assembler = Assembler(RECEIVED)
        self.ended: Observation | None = None  # set when the target aborted or closed
        self.next_id = 1

    def open(self) -> Observation:
        self.conn.open()
        request = self.request
        if request is None:
            request = self.probe.request(self.contexts, max_length=self.max_length, extra_user_items=self.extra)
        failed = self.conn.send(request)
        self.answer = failed or self.conn.receive()
        if self.answer.kind == ACCEPTED:
            ac = self.answer.expect_accept()
            self.peer_max = ac.maximum_length or 0
            self.accepted = {pc.context_id: pc.transfer_syntax or "" for pc in ac.presentation_contexts
                             if pc.result == 0}
        return self.answer

    @property
    def established(self) -> bool:
        return (self.answer is not None and self.answer.kind == ACCEPTED and self.ended is None
                and self.conn.sock is not None)

    def context_for(self, abstract: str) -> int | None:
        for cid, syntax in self.accepted.items():
            if self.abstract.get(cid) == abstract and syntax:
                return cid
        return None

    def message_id(self) -> int:
        value, self.next_id = self.next_id, self.next_id + 1
        return value

    def send_pdus(self, pdus: list[pd.PDataTF]) -> Observation | None:
        failed = send_all(self.conn, pdus)
        if failed is not None:
            self.ended = failed
        return failed

    def send(self, context_id: int, command: Dataset, dataset: bytes | None = None,
             split: Split | None = None) -> Observation | None:
        """Send one message cut as ``split`` says (default: at the target's maximum length)."""
        split = split or Split(pdu_max=self.peer_max or 16384)
        return self.send_pdus(message_pdus(context_id, encode_command(command), dataset, split))

    def send_together(self, messages: list[tuple[int, Dataset, bytes | None]]) -> Observation | None:
        """Send several messages ``(context ID, command, data set)`` in one write: they reach the target
        together (DIMSE-019's C-FIND-RQ and C-CANCEL-RQ)."""
        split = Split(pdu_max=self.peer_max or 16384)
        pdus = [pdu for context_id, command, dataset in messages
                for pdu in message_pdus(context_id, encode_command(command), dataset, split)]
        failed = self.conn.send_together(list(pdus))
        if failed is not None:
            self.ended = failed
        return failed

    def receive(self, timeout: float | None = None) -> Message | Observation:
        """The next whole message from the target, or the observation that ended the wait."""
        deadline = time.monotonic() + (self.probe.timeout if timeout is None else timeout)
        while not self.assembler.done:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return Observation("silent", detail="no whole DIMSE message before the deadline",
                                   transcript=self.conn.transcript)
            observed = self.conn.receive(remaining)
            if observed.kind != DATA:
                self.ended = observed
                return observed
            assert isinstance(observed.pdu, pd.PDataTF)
            self.assembler.feed_pdu(observed.pdu, len(observed.raw) - pd.PDU_HEADER)
        return self.assembler.done.pop(0)

    def responses(self, timeout: float | None = None) -> Iterator[Message | Observation]:
        """Messages until the wait ends (use for pending C-FIND responses). At most
        :data:`~dcmconform.base.limits.MAX_RESPONSES` of them and the operation budget in all: past either
        we abort and raise :class:`~dcmconform.base.limits.TargetMisbehaved` naming what the target did."""
        cap = ResponseCap(self.probe.timeout if timeout is None else timeout)
        while True:
            got = self.receive(timeout)
            yield got
            if not isinstance(got, Message):
                return
            if (message := cap.overrun()) is not None:
                self.abort(message)
                raise TargetMisbehaved(message, self.conn.transcript)

    def abort(self, why: str) -> None:
        """Send an A-ABORT (when the connection still takes it) and close."""
        self.conn.transcript.note(why)
        if self.conn.sock is not None:
            self.conn.send(pd.AAbort(0, 0))
        self.conn.close()

    def respond(self, context_id: int, command: Dataset) -> Observation | None:
        return self.send(context_id, command)

    def release(self) -> Observation | None:
        if not self.established:
            self.conn.close()
            return None
        failed = self.conn.send(pd.AReleaseRQ())
        observed = failed or self.conn.receive()
        self.conn.close()
        return observed

    def __enter__(self) -> RawAssociation:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.established:
            self.release()
        self.conn.close()
