"""What crossed the wire during a check: timestamps, directions, bytes, and a readable dump.

Raw probes and pynetdicom associations (through its EVT_DATA_SENT/EVT_DATA_RECV events) write
to the same kind of transcript, so every check's evidence looks the same.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from dcmconform.evidence import stored
from dcmconform.dimse.pdv import Assembler
from dcmconform.evidence.dump import describe_bytes, hexdump
from dcmconform.evidence.identity import redact
from dcmconform.base.limits import TRANSCRIPT_EVENT_WEIGHT, TRANSCRIPT_HEAD, TRANSCRIPT_TAIL
from dcmconform.base.text import printable
from dcmconform.wire import pdus as pd
from dcmconform.wire.errors import WireError

SENT, RECEIVED, NOTE = "->", "<-", "--"


@dataclass
class Event:
    at: float
    direction: str
    data: bytes = b""
    text: str = ""


def _cost(event: Event) -> int:
    """What an event weighs against the budget: its bytes and its lines in the dump (so a stream of
    tiny PDUs is bounded too)."""
    return len(event.data) + TRANSCRIPT_EVENT_WEIGHT


@dataclass
class Transcript:
    """An append-only, thread-safe record of one or more connections.

    Byte budget: the target's first ``head`` bytes are kept; past them its events go to a tail that
    keeps the last ``tail`` bytes (each event also weighs ``TRANSCRIPT_EVENT_WEIGHT``); what falls out between the two is counted (``dropped``) and said
    in the dump. Our own events and notes are always kept."""

    label: str = ""
    events: list[Event] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    head: int = TRANSCRIPT_HEAD
    tail: int = TRANSCRIPT_TAIL
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _received: int = field(default=0, repr=False)  # target bytes in the head
    _tail_bytes: int = field(default=0, repr=False)
    _tail_start: int = field(default=-1, repr=False)  # index in events where the tail region begins
    dropped: int = 0  # target bytes counted, not kept
    dropped_events: int = 0
    _stored: object = field(default=None, repr=False, compare=False)  # what dcmconform.evidence.stored follows of it

    def _add(self, event: Event) -> None:
        with self._lock:
            if event.direction != RECEIVED:
                self.events.append(event)
            elif self._received + _cost(event) <= self.head and self._tail_start < 0:
                self._received += _cost(event)
                self.events.append(event)
            else:
                self._add_to_tail(event)

    def _add_to_tail(self, event: Event) -> None:
        if self._tail_start < 0:
            self._tail_start = len(self.events)
            self.events.append(Event(event.at, NOTE, text=""))  # the marker; its text is set below
        self.events.append(event)
        self._tail_bytes += _cost(event)
        # Drop the oldest target events of the tail until it fits again (ours and notes stay).
        at = self._tail_start + 1
        while self._tail_bytes > self.tail and at < len(self.events):
            old = self.events[at]
            if old.direction == RECEIVED and old is not event:
                self._tail_bytes -= _cost(old)
                self.dropped += len(old.data)
                self.dropped_events += 1
                del self.events[at]
            else:
                at += 1
        marker = self.events[self._tail_start]
        marker.text = (f"transcript budget: the target sent over {self.head} bytes; {self.dropped} bytes in "
                       f"{self.dropped_events} PDUs after the first {self.head} and before the last "
                       f"{self.tail} were counted, not kept" if self.dropped else
                       f"transcript budget: the target sent over {self.head} bytes; what follows is kept "
                       f"up to the last {self.tail} bytes")

    def sent(self, data: bytes) -> None:
        self._add(Event(time.monotonic(), SENT, redact(bytes(data))))  # no credential in evidence
        self._watch(True, data)

    def received(self, data: bytes) -> None:
        self._add(Event(time.monotonic(), RECEIVED, bytes(data)))
        self._watch(False, data)

    def _watch(self, sent: bool, data: bytes) -> None:
        """A run that lists what it stored (:mod:`dcmconform.evidence.stored`) sees every PDU here."""
        recorder = stored.RECORDER
        if recorder is not None:
            with self._lock:
                self._stored = recorder.observe(self._stored, sent, bytes(data))  # type: ignore[arg-type]

    def clear(self) -> None:
        """Start again (a check run again from the start after the node was busy)."""
        with self._lock:
            self.events.clear()
            self.started = time.monotonic()

    def note(self, text: str) -> None:
        self._add(Event(time.monotonic(), NOTE, text=text))

    def last_request(self) -> pd.AAssociateRQ | None:
        for event in reversed(self.events):
            if event.direction == SENT and event.data[:1] == b"\x01":
                try:
                    pdu = pd.decode_pdu(event.data, tolerant=True)
                except WireError:
                    return None
                return pdu if isinstance(pdu, pd.AAssociateRQ) else None
        return None

    def dump(self) -> str:
        """The readable dump: one block per PDU, in order, with times relative to the start."""
        out: list[str] = []
        request: pd.AAssociateRQ | None = None
        assemblers = {SENT: Assembler(by_context=True), RECEIVED: Assembler(by_context=True)}
        for event in list(self.events):
            stamp = f"+{event.at - self.started:8.3f}s {event.direction}"
            if event.direction == NOTE:
                out.append(f"{stamp} {printable(event.text)}")  # notes may quote the target
                continue
            if event.direction == SENT and event.data[:1] == b"\x01":
                try:
                    decoded = pd.decode_pdu(event.data, tolerant=True)
                    request = decoded if isinstance(decoded, pd.AAssociateRQ) else request
                except WireError:
                    pass
            if event.data[:1] == b"\x01":
                assemblers = {SENT: Assembler(by_context=True), RECEIVED: Assembler(by_context=True)}  # a new association
            title, lines = describe_bytes(event.data, request if event.direction == RECEIVED else None,
                                          assemblers[event.direction])
            out.append(f"{stamp} {title}")
            out.extend("    " + line for line in lines)
        return "\n".join(out)

    def hex(self, limit_per_pdu: int = 512) -> str:
        out = []
        for event in list(self.events):
            if event.data:
                out.append(f"+{event.at - self.started:8.3f}s {event.direction} {len(event.data)} bytes")
                out.append(hexdump(event.data, limit_per_pdu))
        return "\n".join(out)

    def evidence(self) -> list[dict[str, str]]:
        """Evidence entries for the JSON document (kind ``dump`` and ``hex``)."""
        if not self.events:
            return []
        items = [{"kind": "dump", "text": self.dump()}]
        if any(e.data for e in self.events):
            items.append({"kind": "hex", "text": self.hex()})
        return items
