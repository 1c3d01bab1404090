"""The one way to open a well-formed association (pynetdicom), and the liveness check.

Well-formed DIMSE work (C-ECHO, C-STORE, C-FIND, ...) goes through pynetdicom. Its
EVT_DATA_SENT / EVT_DATA_RECV events carry every PDU's bytes, which land in the same
:class:`Transcript` the raw probe writes, so the evidence looks the same either way.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading
import time
import weakref
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pynetdicom import AE, evt
from pynetdicom.association import Association
from pynetdicom.transport import AddressInformation, AssociationSocket

from dcmconform.base import busy
from dcmconform.evidence import identity
from dcmconform.net import tls
from dcmconform.dimse.commands import C_ECHO_RSP, command_name
from dcmconform.evidence.messages import messages
from dcmconform.base.limits import MAX_MESSAGE, ResponseCap, pdu_cap
from dcmconform.evidence.transcript import TargetMisbehaved
from dcmconform.net.target import Endpoint
from dcmconform.evidence.transcript import RECEIVED, Transcript
from dcmconform.base.uids import IMPLICIT_LE, NATIVE_SYNTAXES, VERIFICATION
from dcmconform.wire import pdus as pd
from dcmconform.wire.errors import WireError
from dcmconform.wire.pdus import OUR_IMPLEMENTATION_UID, OUR_IMPLEMENTATION_VERSION, PDU_HEADER

logging.getLogger("pynetdicom").setLevel(logging.CRITICAL)

Contexts = Sequence[tuple[str, Sequence[str]]]


class AssociationRefused(Exception):
    """The association was rejected, aborted or never answered; ``transcript`` holds the bytes."""

    def __init__(self, message: str, transcript: Transcript) -> None:
        super().__init__(message)
        self.transcript = transcript


def _on_connect(event: evt.Event) -> None:
    # Bound on our associations only (EVT_CONN_OPEN: right after connect(), before the A-ASSOCIATE-RQ).
    # pynetdicom sets only SO_REUSEADDR. Without TCP_NODELAY a request sent in two writes (a C-STORE's
    # command, then its data set) waits for the peer's delayed ACK: about 40 ms per request on Linux
    # (measured: C-STORE median 50 ms without, 6 ms with), which would make timing evidence meaningless.
    # pynetdicom also clears the socket timeout after connect(): put ours back, so that no send to a
    # target that stopped reading blocks for ever.
    transport = event.assoc.dul.socket
    if transport is not None and transport.socket is not None:
        transport.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if isinstance(transport, BoundedSocket):
            transport.socket.settimeout(transport.timeout)


_LIVE: weakref.WeakSet[BoundedSocket] = weakref.WeakSet()  # our pynetdicom connections (shut_down_all)


def shut_down_all() -> int:
    """Shut every open pynetdicom connection of ours down both ways; how many (the per-check watchdog's)."""
    done = 0
    for transport in list(_LIVE):
        if transport.socket is not None:
            transport.shutdown()
            done += 1
    return done


class BoundedSocket(AssociationSocket):
    """pynetdicom's transport with our bounds: every read of one PDU ends within ``timeout`` seconds
    (a target dripping bytes cannot hold it), and a PDU longer than ``cap`` is not read (its length
    field cannot size our memory): the read fails, and pynetdicom treats it as a closed connection."""

    def __init__(self, assoc: Association, address: AddressInformation, timeout: float, cap: int,
                 transcript: Transcript | None) -> None:
        super().__init__(assoc, address=address)
        _LIVE.add(self)
        self.timeout = timeout
        self.cap = cap
        self.transcript = transcript
        self.pdu_type = 0
        self.message_bytes = 0

    def _note(self, text: str) -> None:
        if self.transcript is not None:
            self.transcript.note(text)

    def recv(self, nr_bytes: int) -> bytearray:
        sock = self.socket
        if sock is None:
            return bytearray()
        if nr_bytes > self.cap:
            self._note(f"the target announced a PDU of {nr_bytes} bytes (over our cap of {self.cap}); not read, connection closed")
            raise OSError(f"PDU length {nr_bytes} over the cap of {self.cap} bytes")
        got = bytearray()
        deadline = time.monotonic() + self.timeout
        try:
            while len(got) < nr_bytes:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._note(f"the target sent {len(got)} of {nr_bytes} bytes in {self.timeout:g}s "
                               "(dripping or stalled); connection closed")
                    raise TimeoutError(f"{len(got)} of {nr_bytes} bytes in {self.timeout:g}s")
                sock.settimeout(remaining)
                chunk = sock.recv(min(nr_bytes - len(got), 1 << 16))
                if not chunk:
                    return got
                got += chunk
        finally:
            with contextlib.suppress(OSError):
                sock.settimeout(self.timeout)  # the sends that follow get the whole timeout, not what was left
        if nr_bytes == PDU_HEADER and len(got) == PDU_HEADER:
            self.pdu_type = got[0]
        elif self.pdu_type == 0x04:
            self._count_message(got)
        return got

    def _count_message(self, body: bytes | bytearray) -> None:
        """Bytes of the DIMSE message being reassembled: pynetdicom keeps every fragment until the last."""
        at = 0
        while at + 6 <= len(body):
            length, control = struct.unpack(">L", body[at:at + 4])[0], body[at + 5]
            self.message_bytes += length
            if control & 0x02:
                self.message_bytes = 0
            at += 4 + length
        if self.message_bytes > MAX_MESSAGE:
            self._note(f"the target sent over {MAX_MESSAGE} bytes of one DIMSE message without its last "
                       "fragment; connection closed")
            raise OSError(f"one DIMSE message over {MAX_MESSAGE} bytes")

    def shutdown(self) -> None:
        """Shut the TCP connection down both ways: every blocked read or send in the reader thread ends."""
        if self.socket is not None:
            with contextlib.suppress(OSError):
                self.socket.shutdown(socket.SHUT_RDWR)


class BoundedAE(AE):
    """An AE whose requestor associations use :class:`BoundedSocket` and a daemon reader thread
    (pynetdicom's DUL thread is non-daemon: a blocked one would keep the process alive)."""

    def __init__(self, ae_title: str, timeout: float, cap: int, transcript: Transcript | None = None) -> None:
        super().__init__(ae_title=ae_title)
        self.read_timeout = timeout
        self.cap = cap
        self.transcript = transcript

    def _create_socket(self, assoc: Association, address: AddressInformation,
                       tls_args: Any) -> AssociationSocket:
        assoc.dul.daemon = True
        sock = BoundedSocket(assoc, address, self.read_timeout, self.cap, self.transcript)
        sock.tls_args = tls_args
        return sock


def _recorder(transcript: Transcript) -> list[tuple[evt.InterventionEvent | evt.NotificationEvent, object]]:
    return [
        (evt.EVT_DATA_SENT, lambda event: transcript.sent(event.data)),
        (evt.EVT_DATA_RECV, lambda event: transcript.received(event.data)),
    ]


def make_ae(calling_aet: str, timeout: float, max_pdu: int = 16384, transcript: Transcript | None = None) -> AE:
    ae = BoundedAE(calling_aet, timeout, pdu_cap(max_pdu), transcript)
    ae.acse_timeout = timeout
    ae.dimse_timeout = timeout
    ae.network_timeout = timeout
    ae.connection_timeout = timeout
    ae.maximum_pdu_size = max_pdu
    ae.implementation_class_uid = OUR_IMPLEMENTATION_UID
    ae.implementation_version_name = OUR_IMPLEMENTATION_VERSION
    return ae


def _rejection(transcript: Transcript) -> pd.AAssociateRJ | None:
    """The A-ASSOCIATE-RJ pynetdicom received (its bytes are the transcript's last received PDU)."""
    received = [e.data for e in transcript.events if e.direction == RECEIVED and e.data]
    try:
        pdu = pd.decode_pdu(received[-1]) if received else None
    except WireError:
        return None
    return pdu if isinstance(pdu, pd.AAssociateRJ) else None


rejection = _rejection  # public: the A-ASSOCIATE-RJ in a refused association's transcript (SEC checks read it)


@contextlib.contextmanager
def associate(
    target: Endpoint,
    calling_aet: str,
    timeout: float,
    contexts: Contexts = ((VERIFICATION, (IMPLICIT_LE,)),),
    transcript: Transcript | None = None,
    max_pdu: int = 16384,
    ext_neg: list[Any] | None = None,
    evt_handlers: list[Any] | None = None,
) -> Iterator[Association]:
    """An established pynetdicom association; released (or aborted) on exit.

    Raises :class:`AssociationRefused` when the association is not established.
    """
    transcript = transcript if transcript is not None else Transcript()
    ae = make_ae(calling_aet, timeout, max_pdu, transcript)
    for abstract, syntaxes in contexts:
        ae.add_requested_context(abstract, list(syntaxes))
    handlers: list[Any] = [(evt.EVT_CONN_OPEN, _on_connect), *_recorder(transcript), *(evt_handlers or [])]
    if (who := identity.current()) is not None and not any(type(n).__name__ == "UserIdentityNegotiation"
                                                         for n in ext_neg or []):
        ext_neg = [*(ext_neg or []), who.negotiation()]  # the run's user identity (--username)
    assoc = ae.associate(
        target.host,
        target.port,
        ae_title=target.ae_title,
        max_pdu=max_pdu,
        ext_neg=ext_neg,
        evt_handlers=handlers,
        tls_args=None if target.tls is None else (tls.context(target.tls), target.host),
    )
    if not assoc.is_established:
        # The bytes decide: pynetdicom can report "aborted" when an A-ASSOCIATE-RJ came with the connection's
        # close right behind it (its reader saw the close first).
        rejection = _rejection(transcript)
        rejected = assoc.is_rejected or rejection is not None
        reason = "rejected" if rejected else "aborted" if assoc.is_aborted else "not answered or refused"
        transcript.note(f"association {reason}")
        ae.shutdown()
        if rejection is not None:
            busy.check(rejection.result, rejection.source, rejection.describe())  # a busy node: the session's
            busy.answered()
        raise AssociationRefused(f"association {reason}", transcript)
    busy.answered()
    try:
        yield assoc
    finally:
        if assoc.is_established:
            assoc.release()
        if assoc.is_alive():
            abort(assoc, timeout)
        ae.shutdown()


def abort(assoc: Association, timeout: float) -> None:
    """Abort ``assoc`` within ``timeout`` seconds whatever the target does: pynetdicom's abort() waits,
    with no deadline, for its reader thread to return to idle; a watchdog shuts the socket down
    (ending any blocked read or send) if it has not by then."""
    transport = assoc.dul.socket
    watchdog = threading.Timer(timeout, transport.shutdown) if isinstance(transport, BoundedSocket) else None
    if watchdog is not None:
        watchdog.daemon = True
        watchdog.start()
    try:
        assoc.abort()
    finally:
        if watchdog is not None:
            watchdog.cancel()


T = TypeVar("T")


def bounded(responses: Iterable[T], assoc: Association, what: str) -> Iterator[T]:
    """``responses`` (a pynetdicom C-FIND/C-GET/C-MOVE generator on an association of :func:`associate`)
    with a cap on their number and on the operation's total time (:mod:`dcmconform.base.limits`); past
    either the association is aborted and :class:`TargetMisbehaved` names what the target did."""
    transport = assoc.dul.socket
    transcript = transport.transcript if isinstance(transport, BoundedSocket) else None
    timeout = float(assoc.dimse_timeout or 0) or 5.0
    cap = ResponseCap(timeout, what)
    for response in responses:
        yield response
        if (message := cap.overrun()) is not None:
            if transcript is not None:
                transcript.note(message)
            abort(assoc, timeout)
            raise TargetMisbehaved(message, transcript)


@dataclass
class Liveness:
    alive: bool
    detail: str
    transcript: Transcript

    def at_limit(self) -> pd.AAssociateRJ | None:
        """The transient A-ASSOCIATE-RJ the node answered instead of serving (PS3.8 9.3.4: at its
        association limit, up and answering), or ``None`` when it served or answered otherwise."""
        rj = None if self.alive else _rejection(self.transcript)
        return rj if rj is not None and busy.transient(rj.result, rj.source) else None


@dataclass
class Echo:
    """What came back to one C-ECHO-RQ: its status, believed only when the response is a C-ECHO-RSP
    answering our Message ID (pynetdicom hands over the status of whatever response came)."""

    status: int | None
    problem: str = ""  # why the response is not a C-ECHO-RSP to our request ("" when it is)

    def describe(self) -> str:
        if self.problem:
            return self.problem
        return "no C-ECHO response" if self.status is None else f"C-ECHO status 0x{self.status:04X}"

    @property
    def success(self) -> bool:
        return not self.problem and self.status == 0x0000


def echo(assoc: Association, transcript: Transcript, msg_id: int = 1) -> Echo:
    """Send one C-ECHO-RQ on ``assoc`` (recorded into ``transcript``) and read its answer from the bytes."""
    status = assoc.send_c_echo(msg_id=msg_id)
    code = status.get("Status") if status is not None else None
    received = messages(transcript, RECEIVED)
    last = received[-1] if received else None
    if last is not None and last.command is None:  # pynetdicom drops a response it cannot decode
        return Echo(None, f"the C-ECHO response does not decode: {last.decode_error}")
    if code is None or last is None:
        return Echo(None)
    if last.field != C_ECHO_RSP:
        return Echo(int(code), f"the target answered C-ECHO-RQ with {command_name(last.field)}, not C-ECHO-RSP")
    if last.responds_to != msg_id:
        return Echo(int(code), f"the C-ECHO-RSP answers Message ID {last.responds_to}, ours was {msg_id}")
    return Echo(int(code))


def liveness(target: Endpoint, calling_aet: str, timeout: float) -> Liveness:
    """A fresh association and a C-ECHO: does the target still serve?"""
    transcript = Transcript("liveness")
    try:
        with associate(target, calling_aet, timeout, ((VERIFICATION, NATIVE_SYNTAXES),), transcript) as assoc:
            answer = echo(assoc, transcript)
            if answer.success:
                return Liveness(True, "C-ECHO status 0x0000", transcript)
            return Liveness(False, answer.describe(), transcript)
    except AssociationRefused as exc:
        return Liveness(False, f"liveness check: {exc}", transcript)  # "association rejected (...)"
    except OSError as exc:
        return Liveness(False, f"liveness association failed: {exc}", transcript)
