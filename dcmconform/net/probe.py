"""One raw association exchange, with a deadline on connect, send and every read.

The probe speaks bytes through :mod:`dcmconform.wire`, so it can send what no conformant
toolkit would (even context IDs, oversized requests, unknown PDU types) and classify whatever
comes back. Every byte goes into a :class:`Transcript`.
"""

from __future__ import annotations

import contextlib
import errno
import socket
import ssl
import time
import weakref
from dataclasses import dataclass, field

from dcmconform.base import busy, waits
from dcmconform.evidence import identity
from dcmconform.net import tls
from dcmconform.base.limits import MAX_READ  # one PDU we read at most (this module's name for it is kept)
from dcmconform.net.target import Endpoint
from dcmconform.evidence.transcript import Transcript
from dcmconform.wire import items as it
from dcmconform.wire import pdus as pd
from dcmconform.wire.errors import WireError

# What came back, PS3.8 9.2 terms where they exist.
ACCEPTED, REJECTED, ABORTED = "accepted", "rejected", "aborted"
RELEASED, DATA, OTHER_PDU = "released", "data", "other-pdu"
CLOSED, RESET, SILENT, GARBAGE = "closed", "reset", "silent", "garbage"
REFUSED, UNREACHABLE = "refused", "unreachable"
HANDSHAKE = "tls-handshake-failed"  # TCP connected, the TLS handshake did not complete



@dataclass
class Observation:
    """What the target did in answer to one thing we sent."""

    kind: str
    pdu: pd.PDU | None = None
    raw: bytes = b""
    elapsed: float = 0.0
    detail: str = ""
    transcript: Transcript = field(default_factory=Transcript, repr=False)
    release: Observation | None = None

    @property
    def answered(self) -> bool:
        """A PDU came back (as opposed to silence, a close or a reset)."""
        return self.pdu is not None

    def describe(self) -> str:
        """One line a PACS admin can read."""
        pdu = self.pdu
        if isinstance(pdu, pd.AAssociateAC):
            results = ", ".join(f"{pc.context_id}:{pc.result}" for pc in pdu.presentation_contexts)
            return f"A-ASSOCIATE-AC (context ID:result {results or 'none'})"
        if isinstance(pdu, pd.AAssociateRJ):
            return pdu.describe()
        if isinstance(pdu, pd.AAbort):
            return (
                f"A-ABORT source {pdu.source} ({pd.ABORT_SOURCES.get(pdu.source, '?')}), "
                f"reason {pdu.reason} ({pd.ABORT_REASONS.get(pdu.reason, '?')})"
            )
        if pdu is not None:
            return pdu.name
        words = {
            CLOSED: "the target closed the connection without a PDU",
            RESET: "the target reset the connection (TCP RST)",
            SILENT: "no answer before the deadline; the connection stayed open",
            GARBAGE: "bytes that are not a valid PDU",
            REFUSED: "connection refused: nothing listens on that port",
            UNREACHABLE: "could not connect before the deadline",
            HANDSHAKE: "the TLS handshake failed",
        }
        text = words.get(self.kind, self.kind)
        return f"{text} ({self.detail})" if self.detail else text

    def expect_accept(self) -> pd.AAssociateAC:
        assert isinstance(self.pdu, pd.AAssociateAC)
        return self.pdu


# Every raw connection a check opened and has not closed: the session closes them between checks
# (A-ABORT where an association is up, then TCP close), so that no check leaves the node a connection.
_OPEN: weakref.WeakSet[Connection] = weakref.WeakSet()


def close_leftovers() -> list[str]:
    """Abort and close every raw connection still open; what was closed, in words."""
    closed = []
    for conn in list(_OPEN):
        if conn.sock is None:
            continue
        if conn.established:
            with contextlib.suppress(OSError):
                conn.sock.sendall(pd.AAbort(0, 0).encode())
        closed.append(f"{'an association' if conn.established else 'a connection'} to "
                      f"{conn.endpoint.host}:{conn.endpoint.port}")
        conn.close()
    return closed


def shut_down_all() -> int:
    """Shut every open raw connection down both ways (from another thread: a blocked read or send in
    the check's thread ends at once); how many. The per-check watchdog's (:mod:`dcmconform.harness.session`)."""
    done = 0
    for conn in list(_OPEN):
        sock = conn.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            done += 1
    return done


class Connection:
    """A TCP connection to the target; every wait is bounded by ``timeout`` seconds."""

    def __init__(self, endpoint: Endpoint, timeout: float, transcript: Transcript | None = None) -> None:
        self.endpoint = endpoint
        self.timeout = timeout
        self.transcript = transcript if transcript is not None else Transcript()
        self.sock: socket.socket | None = None
        self.connect_error: Observation | None = None
        self.established = False  # an A-ASSOCIATE-AC came back and no release or abort since

    def open(self) -> Connection:
        started = time.monotonic()
        try:
            self.sock = socket.create_connection((self.endpoint.host, self.endpoint.port), timeout=self.timeout)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.transcript.note(f"TCP connected to {self.endpoint.host}:{self.endpoint.port}")
            _OPEN.add(self)
            if self.endpoint.tls is not None:
                self._handshake(self.endpoint.tls, started)
        except ConnectionRefusedError:
            self.connect_error = Observation(REFUSED, elapsed=time.monotonic() - started, transcript=self.transcript)
        except (TimeoutError, OSError) as exc:
            self.connect_error = Observation(
                UNREACHABLE, elapsed=time.monotonic() - started, detail=str(exc), transcript=self.transcript
            )
        if self.connect_error:
            self.transcript.note(f"TCP connect to {self.endpoint.host}:{self.endpoint.port}: {self.connect_error.describe()}")
        return self

    def _handshake(self, settings: tls.TlsSettings, started: float) -> None:
        assert self.sock is not None
        try:
            self.sock = tls.wrap(self.sock, settings, self.endpoint.host)
        except (OSError, ValueError) as exc:  # ssl.SSLError, a reset, the deadline
            self.close()
            self.connect_error = Observation(HANDSHAKE, elapsed=time.monotonic() - started,
                                             detail=str(exc) or type(exc).__name__, transcript=self.transcript)
            return
        cipher = self.sock.cipher()
        self.transcript.note(f"TLS {self.sock.version()} established, cipher {cipher[0] if cipher else '?'}")

    def __enter__(self) -> Connection:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.close()
            self.sock = None
        self.established = False
        _OPEN.discard(self)

    def send(self, what: pd.PDU | bytes) -> Observation | None:
        """Send a PDU or raw bytes. Returns an observation only if the send itself failed."""
        data = what.encode() if isinstance(what, pd.PDU) else bytes(what)
        if self.sock is None:
            return self.connect_error or Observation(CLOSED, detail="not connected", transcript=self.transcript)
        self.transcript.sent(data)
        self.sock.settimeout(self.timeout)
        try:
            self.sock.sendall(data)
        except TimeoutError:
            return Observation(SILENT, detail="the target stopped reading what we sent", transcript=self.transcript)
        except (BrokenPipeError, ConnectionResetError) as exc:
            kind = RESET if isinstance(exc, ConnectionResetError) else CLOSED
            self.transcript.note(f"send failed: {exc}")
            return Observation(kind, detail=f"while we were sending: {exc}", transcript=self.transcript)
        except ssl.SSLError as exc:  # TLS 1.3: a refused client certificate shows on the first write
            self.transcript.note(f"send failed: {exc}")
            return Observation(CLOSED, detail=f"while we were sending: {exc}", transcript=self.transcript)
        return None

    def send_together(self, pdus: list[pd.PDU]) -> Observation | None:
        """Send ``pdus`` in one write (they reach the target together: a node that reads between its
        responses sees them all), each recorded as its own event. An observation only if the send failed."""
        if self.sock is None:
            return self.connect_error or Observation(CLOSED, detail="not connected", transcript=self.transcript)
        data = [pdu.encode() for pdu in pdus]
        for one in data:
            self.transcript.sent(one)
        self.sock.settimeout(self.timeout)
        try:
            self.sock.sendall(b"".join(data))
        except TimeoutError:
            return Observation(SILENT, detail="the target stopped reading what we sent", transcript=self.transcript)
        except (BrokenPipeError, ConnectionResetError) as exc:
            self.transcript.note(f"send failed: {exc}")
            kind = RESET if isinstance(exc, ConnectionResetError) else CLOSED
            return Observation(kind, detail=f"while we were sending: {exc}", transcript=self.transcript)
        return None

    def _read(self, n: int, deadline: float, got: bytearray) -> str | None:
        """Read until ``got`` holds ``n`` bytes; returns an outcome kind on failure."""
        with waits.waiting(deadline, "for the node to answer"):  # the progress line's countdown
            return self._read_until(n, deadline, got)

    def _read_until(self, n: int, deadline: float, got: bytearray) -> str | None:
        assert self.sock is not None
        while len(got) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return SILENT
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(min(n - len(got), 1 << 20))
            except TimeoutError:
                return SILENT
            except ConnectionResetError:
                return RESET
            except OSError as exc:
                return RESET if exc.errno in (errno.ECONNRESET, errno.EPIPE) else CLOSED
            if not chunk:
                return CLOSED
            got += chunk
        return None

    def receive(self, timeout: float | None = None) -> Observation:
        """Read one PDU and classify it. Never waits past the deadline, never trusts the length."""
        started = time.monotonic()
        if self.sock is None:
            return self.connect_error or Observation(CLOSED, detail="not connected", transcript=self.transcript)
        deadline = started + (self.timeout if timeout is None else timeout)
        got = bytearray()
        failed = self._read(pd.PDU_HEADER, deadline, got)
        if failed is None:
            code, length = pd.header(bytes(got))
            if code not in pd.PDU_NAMES:
                self.transcript.received(bytes(got))
                return self._finish(GARBAGE, None, got, started, f"unknown PDU type {code:02X}H")
            if length > MAX_READ:
                self.transcript.received(bytes(got))
                return self._finish(GARBAGE, None, got, started, f"PDU length {length} is absurd; not read")
            failed = self._read(pd.PDU_HEADER + length, deadline, got)
        if failed is not None:
            if got:
                self.transcript.received(bytes(got))
                detail = f"stopped after {len(got)} bytes of a PDU"
                return self._finish(GARBAGE if failed == CLOSED else failed, None, got, started, detail)
            return self._finish(failed, None, got, started, "")
        data = bytes(got)
        self.transcript.received(data)
        try:
            pdu = pd.decode_pdu(data)
        except WireError as exc:
            return self._finish(GARBAGE, None, got, started, str(exc))
        kind = {
            pd.AAssociateAC: ACCEPTED,
            pd.AAssociateRJ: REJECTED,
            pd.AAbort: ABORTED,
            pd.AReleaseRP: RELEASED,
            pd.PDataTF: DATA,
        }.get(type(pdu), OTHER_PDU)
        if kind in (ACCEPTED, RELEASED, ABORTED):
            self.established = kind == ACCEPTED
        observed = self._finish(kind, pdu, got, started, "")
        if isinstance(pdu, pd.AAssociateRJ):
            busy.check(pdu.result, pdu.source, observed.describe())  # a busy node: the session's, not the check's
        if kind in (ACCEPTED, REJECTED):
            busy.answered()
        return observed

    def _finish(self, kind: str, pdu: pd.PDU | None, got: bytearray, started: float, detail: str) -> Observation:
        elapsed = time.monotonic() - started
        if pdu is None and kind in (SILENT, CLOSED, RESET):
            self.transcript.note(f"{kind} after {elapsed:.3f}s" + (f": {detail}" if detail else ""))
        return Observation(kind, pdu, bytes(got), elapsed, detail, self.transcript)

    def wait_closed(self, timeout: float) -> tuple[str, float]:
        """Wait for the target to close: ``(closed|reset|silent, seconds)``. What it sends meanwhile is
        counted, not kept: the first chunk goes into the transcript, the rest only as a byte count."""
        with waits.waiting(time.monotonic() + timeout, "for the node to close the connection"):  # the countdown
            return self._wait_closed(timeout)

    def _wait_closed(self, timeout: float) -> tuple[str, float]:
        assert self.sock is not None
        started = time.monotonic()
        deadline = started + timeout
        received = 0
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return SILENT, time.monotonic() - started
                self.sock.settimeout(remaining)
                try:
                    chunk = self.sock.recv(65536)
                except TimeoutError:
                    return SILENT, time.monotonic() - started
                except OSError:
                    return RESET, time.monotonic() - started
                if not chunk:
                    return CLOSED, time.monotonic() - started
                if not received:
                    self.transcript.received(chunk)
                received += len(chunk)
        finally:
            if received > 0:
                self.transcript.note(f"while we waited for the close the target sent {received} bytes "
                                     "(the first chunk is above; the rest counted, not kept)")


class Probe:
    """Raw association exchanges with one target."""

    def __init__(self, endpoint: Endpoint, calling_aet: str, timeout: float,
                 transcript: Transcript | None = None) -> None:
        self.endpoint = endpoint
        self.calling_aet = calling_aet
        self.timeout = timeout
        self.transcript = transcript if transcript is not None else Transcript()

    def connection(self, transcript: Transcript | None = None) -> Connection:
        return Connection(self.endpoint, self.timeout, transcript if transcript is not None else self.transcript)

    def request(self, contexts: list[tuple[int, str, list[str]]], **kwargs: object) -> pd.AAssociateRQ:
        """A conformant A-ASSOCIATE-RQ to this target from our calling AE; tweak it to break it."""
        called = str(kwargs.pop("called", self.endpoint.ae_title))
        calling = str(kwargs.pop("calling", self.calling_aet))
        # The run's user identity (--username), unless the caller gives its own or ``identity=None``.
        who = kwargs.pop("identity", identity.current())
        extra = list(kwargs.pop("extra_user_items", None) or [])  # type: ignore[call-overload]
        if isinstance(who, identity.Identity) and not any(isinstance(i, it.UserIdentityRQSubItem) for i in extra):
            extra.append(who.sub_item())
        return pd.associate_rq(called, calling, contexts, extra_user_items=extra, **kwargs)  # type: ignore[arg-type]

    def associate(self, request: pd.PDU | bytes, release: bool = True, transcript: Transcript | None = None) -> Observation:
        """Connect, send ``request``, read the answer; release an accepted association politely."""
        with self.connection(transcript) as conn:
            failed = conn.send(request)
            observed = failed or conn.receive()
            if release and observed.kind == ACCEPTED:
                observed.release = self.release(conn)
            return observed

    def release(self, conn: Connection) -> Observation:
        failed = conn.send(pd.AReleaseRQ())
        return failed or conn.receive()
