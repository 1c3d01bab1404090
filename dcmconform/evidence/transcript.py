"""What crossed the wire during a check: timestamps, directions, bytes, and a readable dump.

Raw probes and pynetdicom associations (through its EVT_DATA_SENT/EVT_DATA_RECV events) write
to the same kind of transcript, so every check's evidence looks the same.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from dcmconform.base.limits import EVIDENCE_TEXT, TRANSCRIPT_EVENT_WEIGHT, TRANSCRIPT_HEAD, TRANSCRIPT_TAIL
from dcmconform.base.text import printable
from dcmconform.dimse.pdv import Assembler
from dcmconform.evidence import stored
from dcmconform.evidence.dump import describe_bytes, hexdump
from dcmconform.evidence.follow import EITHER, RECEIVED, SENT, Follower
from dcmconform.evidence.identity import redact
from dcmconform.wire import pdus as pd
from dcmconform.wire.errors import WireError

NOTE = "--"  # a line of ours (SENT and RECEIVED: dcmconform.evidence.follow)
# What a TCP connection did, for the capture file (dcmconform.reports.pcap); not shown in the dump.
OPEN, FIN, RST = "open", "fin", "rst"


@dataclass
class Event:
    at: float
    direction: str
    data: bytes = b""
    text: str = ""
    # A TCP event: (OPEN, (our host, port), (their host, port), whether we connected) or (FIN | RST, who: SENT | RECEIVED)
    tcp: tuple[object, ...] = ()
    conn: int = 0  # the connection (Transcript.opened's number); 0: the one opened last


def _cost(event: Event) -> int:
    """What an event weighs against the budget: its bytes and its lines in the dump (so a stream of
    tiny PDUs is bounded too)."""
    return len(event.data) + TRANSCRIPT_EVENT_WEIGHT


# Called with (transcript, event) for every event as it is recorded, from the thread that records it.
LISTENERS: list[Callable[[Transcript, Event], None]] = []


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
    _connections: int = field(default=0, repr=False)  # TCP connections opened (numbered from 1)
    # At most this many events in all (0: no such cap; notes given ``always`` pass): a scenario an SCU
    # connects to 9,000 times keeps its first connections, and counts the rest (dcmconform.scu.trigger).
    max_events: int = 0
    cut_events: int = field(default=0, repr=False)
    cut_bytes: int = field(default=0, repr=False)
    _cut_marker: Event | None = field(default=None, repr=False)
    _stored: object = field(default=None, repr=False, compare=False)  # what dcmconform.evidence.stored follows of it

    def _add(self, event: Event, always: bool = False) -> None:
        for listener in LISTENERS:  # `dcmconform run -v` (dcmconform/harness/livedump.py): each PDU as it crosses
            listener(self, event)
        with self._lock:
            if self.max_events and not always and len(self.events) >= self.max_events:
                self._cut(event)
            elif event.direction != RECEIVED:
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

    def _cut(self, event: Event) -> None:
        """Past ``max_events``: the event is counted, and one note at the end says how many."""
        self.cut_events += 1
        self.cut_bytes += len(event.data)
        if self._cut_marker is None:
            self._cut_marker = Event(event.at, NOTE)
            self.events.append(self._cut_marker)
        self._cut_marker.text = (f"evidence budget: past the first {self.max_events} events, {self.cut_events} more "
                                 f"PDUs and notes ({self.cut_bytes} bytes) were counted, not kept")

    def sent(self, data: bytes, conn: int = 0) -> None:
        """What we sent (``conn``: on which connection, where several are open at once)."""
        self._add(Event(time.monotonic(), SENT, redact(bytes(data)), conn=conn))  # no credential in evidence
        self._watch(True, data)

    def received(self, data: bytes, conn: int = 0) -> None:
        self._add(Event(time.monotonic(), RECEIVED, redact(bytes(data)), conn=conn))  # a node may quote our credentials
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

    def note(self, text: str, always: bool = False) -> None:
        """A line of ours in the dump; ``always``: kept even past ``max_events``."""
        self._add(Event(time.monotonic(), NOTE, text=text), always)

    def opened(self, ours: tuple[str, int], theirs: tuple[str, int], we_connected: bool = True) -> int:
        """A TCP connection began (its addresses and ports go into the check's capture file); returns its
        number, for ``sent``, ``received`` and ``ended`` where several connections are open at once."""
        with self._lock:
            self._connections += 1
            conn = self._connections
        self._add(Event(time.monotonic(), NOTE, tcp=(OPEN, ours, theirs, we_connected), conn=conn))
        return conn

    def ended(self, how: str, by: str, conn: int = 0) -> None:
        """A TCP connection ended: ``how`` FIN (an orderly close) or RST (a reset), ``by`` SENT (us) or
        RECEIVED (the node). Only the first end of each side counts."""
        with self._lock:
            for event in reversed(self.events):
                if not event.tcp or (conn and event.conn != conn):
                    continue
                if event.tcp[0] == OPEN:
                    break
                if event.tcp[1] == by or event.tcp[0] == RST:
                    return  # that side has ended already, or the connection was reset
        self._add(Event(time.monotonic(), NOTE, tcp=(how, by), conn=conn))

    def last_request(self) -> pd.AAssociateRQ | None:
        for event in reversed(self.events):
            if event.direction == SENT and pd.type_of(event.data) == pd.PduType.A_ASSOCIATE_RQ:
                try:
                    pdu = pd.decode_pdu(event.data, tolerant=True)
                except WireError:
                    return None
                return pdu if isinstance(pdu, pd.AAssociateRQ) else None
        return None

    def dump(self) -> str:
        """The readable dump: one block per PDU, in order, with times relative to the start."""
        out: list[str] = []
        # A new association on a request from either side; the target's A-ASSOCIATE-AC is read against our last request.
        follower = Follower(starts=EITHER, assembler=lambda direction: Assembler(by_context=True))
        for event in list(self.events):
            if event.tcp:
                continue  # in the capture file, not the dump (the notes say what the connection did)
            stamp = f"+{event.at - self.started:8.3f}s {event.direction}"
            if event.direction == NOTE:
                out.append(f"{stamp} {printable(event.text)}")  # notes may quote the target
                continue
            follower.feed(event.direction, event.data)
            title, lines = describe_bytes(event.data, follower.requests.get(SENT) if event.direction == RECEIVED else None,
                                          follower.assemblers[event.direction])
            out.append(f"{stamp} {title}")
            out.extend("    " + line for line in lines)
        return "\n".join(out)

    def event_lines(self, event: Event) -> list[str]:
        """One event as :meth:`dump` shows it (its time, direction, title and decoded lines), on its own: a
        response is read against the last A-ASSOCIATE-RQ recorded; a DIMSE command cut over several PDVs is
        not joined here (the dump joins it)."""
        stamp = f"+{event.at - self.started:8.3f}s {event.direction}"
        if event.direction == NOTE:
            return [f"{stamp} {printable(event.text)}"]
        title, lines = describe_bytes(event.data, self.last_request() if event.direction == RECEIVED else None)
        return [f"{stamp} {title}", *("    " + line for line in lines)]

    def hex(self, limit_per_pdu: int = 512) -> str:
        out = []
        for event in list(self.events):
            if event.data:
                out.append(f"+{event.at - self.started:8.3f}s {event.direction} {len(event.data)} bytes")
                out.append(hexdump(event.data, limit_per_pdu))
        return "\n".join(out)

    def evidence(self) -> list[dict[str, str]]:
        """Evidence entries for the JSON document (kind ``dump`` and ``hex``)."""
        if not any(not e.tcp for e in self.events):
            return []
        items = [{"kind": "dump", "text": capped(self.dump())}]
        if any(e.data for e in self.events):
            items.append({"kind": "hex", "text": capped(self.hex())})
        return items


def capped(text: str, most: int = EVIDENCE_TEXT) -> str:
    """``text`` whole when it fits in ``most`` characters, else its first and last lines up to half of that
    each, with a line saying how much was left out between them (whole lines only)."""
    if len(text) <= most:
        return text
    half = most // 2
    head = text[:half].rsplit("\n", 1)[0]
    tail = text[-half:].split("\n", 1)[-1]
    cut = text[len(head):len(text) - len(tail)]
    return (f"{head}\n... {cut.count(chr(10)) + 1} lines ({len(cut)} characters) not shown: the report keeps "
            f"{most // 1024} KiB of text per evidence block; the capture file holds the bytes ...\n{tail}")

