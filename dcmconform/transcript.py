"""What crossed the wire during a check: timestamps, directions, bytes, and a readable dump.

Raw probes and pynetdicom associations (through its EVT_DATA_SENT/EVT_DATA_RECV events) write
to the same kind of transcript, so every check's evidence looks the same.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from dcmconform.dimse.pdv import Assembler
from dcmconform.dump import describe_bytes, hexdump
from dcmconform.text import printable
from dcmconform.wire import pdus as pd
from dcmconform.wire.errors import WireError

SENT, RECEIVED, NOTE = "->", "<-", "--"


@dataclass
class Event:
    at: float
    direction: str
    data: bytes = b""
    text: str = ""


@dataclass
class Transcript:
    """An append-only, thread-safe record of one or more connections."""

    label: str = ""
    events: list[Event] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _add(self, event: Event) -> None:
        with self._lock:
            self.events.append(event)

    def sent(self, data: bytes) -> None:
        self._add(Event(time.monotonic(), SENT, bytes(data)))

    def received(self, data: bytes) -> None:
        self._add(Event(time.monotonic(), RECEIVED, bytes(data)))

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
