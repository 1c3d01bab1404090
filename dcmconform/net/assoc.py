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
from io import BytesIO
from typing import Any, TypeVar

import pynetdicom.association
import pynetdicom.dimse_messages
import pynetdicom.events
from pydicom.filereader import read_dataset
from pynetdicom import AE, dsutils, evt
from pynetdicom.association import Association
from pynetdicom.transport import T_CONNECT, AddressInformation, AssociationSocket

from dcmconform.base import busy
from dcmconform.base.limits import MAX_MESSAGE, PDU_MARGIN, ResponseCap, TargetMisbehaved, pdata_cap, pdu_cap
from dcmconform.base.uids import IMPLICIT_LE, NATIVE_SYNTAXES, VERIFICATION
from dcmconform.dimse.commands import C_ECHO_RSP, command_name
from dcmconform.dimse.datasets import InflationBomb, inflate
from dcmconform.evidence import identity
from dcmconform.evidence.messages import messages
from dcmconform.evidence.transcript import FIN, RECEIVED, RST, SENT, Transcript
from dcmconform.net import tls
from dcmconform.net.reader import CLOSED, ReadFailed, read_into
from dcmconform.net.target import Endpoint
from dcmconform.wire import pdus as pd
from dcmconform.wire.errors import WireError
from dcmconform.wire.pdus import OUR_IMPLEMENTATION_UID, OUR_IMPLEMENTATION_VERSION, PDU_HEADER

logging.getLogger("pynetdicom").setLevel(logging.CRITICAL)

Contexts = Sequence[tuple[str, Sequence[str]]]

_BOMB = threading.local()  # the InflationBomb pynetdicom met (and swallowed) in this thread, for bounded()


def _capped_decode(bytestring: Any, is_implicit_vr: bool, is_little_endian: bool, deflated: bool = False) -> Any:
    """pynetdicom's ``dsutils.decode`` with our cap on inflating (:func:`dcmconform.dimse.datasets.inflate`):
    a Deflated identifier, C-STORE data set or N-EVENT-REPORT a target sends never inflates unbounded
    in our memory. pynetdicom swallows decode errors: the bomb is kept for :func:`bounded` to judge."""
    if not deflated:
        return _PYNETDICOM_DECODE(bytestring, is_implicit_vr, is_little_endian)
    try:
        data = inflate(bytestring.getvalue())
    except InflationBomb as exc:
        _BOMB.exc = exc
        raise
    return read_dataset(BytesIO(data), False, True)


# Every module of pynetdicom that inflates a received data set gets the capped decoder.
_PYNETDICOM_DECODE = dsutils.decode
for _module in (pynetdicom.association, pynetdicom.events, pynetdicom.dimse_messages, dsutils):
    _module.decode = _capped_decode  # type: ignore[attr-defined]


class AssociationRefused(Exception):
    """The association was rejected, aborted or never answered; ``transcript`` holds the bytes."""

    def __init__(self, message: str, transcript: Transcript) -> None:
        super().__init__(message)
        self.transcript = transcript


class UnproposedSyntax(AssociationRefused, TargetMisbehaved):  # both carry the transcript
    """The A-ASSOCIATE-AC accepted a context in a transfer syntax we did not propose for it: we aborted.
    No association for whoever wanted one (an ``AssociationRefused``); a finding where nobody catches
    that (a ``TargetMisbehaved``); ASSOC-023 judges it on its own."""


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
                 transcript: Transcript | None, pdata: int = 0) -> None:
        super().__init__(assoc, address=address)
        _LIVE.add(self)
        self.timeout = timeout
        self.cap = cap
        self.pdata = pdata or cap  # the longest P-DATA-TF: the maximum length we announced, plus a margin
        self.transcript = transcript
        self.pdu_type = 0
        self.message_bytes = 0
        self.conn = 0  # its number in the transcript (Transcript.opened)
        self.violation = ""  # what the target did that made us close the connection (bounded() judges it)

    def _note(self, text: str) -> None:
        if self.transcript is not None:
            self.transcript.note(text)

    def connect(self, primitive: T_CONNECT) -> None:
        super().connect(primitive)
        sock = self.socket
        if self.transcript is not None and sock is not None and self._is_connected:
            with contextlib.suppress(OSError):
                self.conn = self.transcript.opened(sock.getsockname()[:2], sock.getpeername()[:2])

    def close(self) -> None:
        if self.transcript is not None and self.socket is not None and self._is_connected:
            self.transcript.ended(FIN, SENT, self.conn)
        super().close()

    def _refuse(self, text: str) -> OSError:
        self.violation = text
        self._note(text)
        return OSError(text)

    def recv(self, nr_bytes: int) -> bytearray:
        try:
            got = self._recv(nr_bytes)
        except ConnectionResetError:
            if self.transcript is not None:
                self.transcript.ended(RST, RECEIVED, self.conn)
            raise
        if len(got) < nr_bytes and self.transcript is not None and self.socket is not None:  # the node closed
            self.transcript.ended(FIN, RECEIVED, self.conn)
        return got

    def _recv(self, nr_bytes: int) -> bytearray:
        sock = self.socket
        if sock is None:
            return bytearray()
        if self.pdu_type == 0x04 and nr_bytes != PDU_HEADER and self.pdata < nr_bytes and self.pdata < self.cap:
            raise self._refuse(f"the target sent a P-DATA-TF of {nr_bytes} bytes, over the maximum length we "
                               f"announced ({self.pdata - PDU_MARGIN} bytes, PS3.8 D.1.1); not read, connection closed")
        if nr_bytes > self.cap:
            raise self._refuse(f"the target announced a PDU of {nr_bytes} bytes (over our cap of {self.cap}); "
                               "not read, connection closed")
        got = bytearray()
        try:
            read_into(sock, nr_bytes, time.monotonic() + self.timeout, got)
        except ReadFailed as failed:
            if failed.cause is not None:
                raise failed.cause from None
            if failed.kind == CLOSED:
                return got  # pynetdicom sees the short read and ends the association
            self._note(f"the target sent {len(got)} of {nr_bytes} bytes in {self.timeout:g}s "
                       "(dripping or stalled); connection closed")
            raise TimeoutError(f"{len(got)} of {nr_bytes} bytes in {self.timeout:g}s") from None
        finally:
            with contextlib.suppress(OSError):
                sock.settimeout(self.timeout)  # the sends that follow get the whole timeout, not what was left
        if nr_bytes == PDU_HEADER and len(got) == PDU_HEADER:
            self.pdu_type = got[0]
        elif self.pdu_type == pd.PduType.P_DATA_TF:
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
            raise self._refuse(f"the target sent over {MAX_MESSAGE} bytes of one DIMSE message without its "
                               "last fragment; connection closed")

    def shutdown(self) -> None:
        """Shut the TCP connection down both ways: every blocked read or send in the reader thread ends."""
        if self.socket is not None:
            with contextlib.suppress(OSError):
                self.socket.shutdown(socket.SHUT_RDWR)


class BoundedAE(AE):
    """An AE whose requestor associations use :class:`BoundedSocket` and a daemon reader thread
    (pynetdicom's DUL thread is non-daemon: a blocked one would keep the process alive)."""

    def __init__(self, ae_title: str, timeout: float, cap: int, transcript: Transcript | None = None,
                 pdata: int = 0) -> None:
        super().__init__(ae_title=ae_title)
        self.read_timeout = timeout
        self.cap = cap
        self.pdata = pdata
        self.transcript = transcript

    def _create_socket(self, assoc: Association, address: AddressInformation,
                       tls_args: Any) -> AssociationSocket:
        assoc.dul.daemon = True
        sock = BoundedSocket(assoc, address, self.read_timeout, self.cap, self.transcript, self.pdata)
        sock.tls_args = tls_args
        return sock


_ACCEPTED: weakref.WeakKeyDictionary[Association, int] = weakref.WeakKeyDictionary()  # acceptor_recorder's


def _conn(event: evt.Event) -> int:
    """The transcript's number of the connection an event of pynetdicom's crossed (0: unknown)."""
    return int(getattr(event.assoc.dul.socket, "conn", 0) or 0) or _ACCEPTED.get(event.assoc, 0)


def _recorder(transcript: Transcript) -> list[tuple[evt.InterventionEvent | evt.NotificationEvent, object]]:
    return [
        (evt.EVT_DATA_SENT, lambda event: transcript.sent(event.data, _conn(event))),
        (evt.EVT_DATA_RECV, lambda event: transcript.received(event.data, _conn(event))),
    ]


def acceptor_recorder(transcript: Transcript) -> list[tuple[evt.InterventionEvent | evt.NotificationEvent, object]]:
    """Handlers of a pynetdicom SCP of ours that record what crosses each connection a node opens to it
    in ``transcript``, connection by connection (the capture file frames each one)."""

    def opened(event: evt.Event) -> None:
        transport = event.assoc.dul.socket
        sock = transport.socket if transport is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):
                _ACCEPTED[event.assoc] = transcript.opened(sock.getsockname()[:2], sock.getpeername()[:2],
                                                           we_connected=False)

    return [*_recorder(transcript), (evt.EVT_CONN_OPEN, opened),
            (evt.EVT_CONN_CLOSE, lambda event: transcript.ended(FIN, RECEIVED, _conn(event)))]


def make_ae(calling_aet: str, timeout: float, max_pdu: int = 16384, transcript: Transcript | None = None) -> AE:
    ae = BoundedAE(calling_aet, timeout, pdu_cap(max_pdu), transcript, pdata_cap(max_pdu))
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
    if (foreign := unproposed_syntax(assoc)) is not None:
        transcript.note(foreign)
        abort(assoc, timeout)
        ae.shutdown()
        raise UnproposedSyntax(foreign, transcript)
    keep_responses_for_the_caller(assoc)
    try:
        yield assoc
    finally:
        if assoc.is_established:
            assoc.release()
        if assoc.is_alive():
            abort(assoc, timeout)
        ae.shutdown()


def keep_responses_for_the_caller(assoc: Association) -> None:
    """Stop pynetdicom's association thread (its reactor) from taking DIMSE messages off the queue.

    pynetdicom 3.0 pauses the reactor around each request: ``send_c_echo`` clears a checkpoint, waits
    while ``_is_paused`` is false, sends, and takes the response with ``get_msg(block=True)``. Between two
    requests the reactor wakes up; until it runs, ``_is_paused`` is still true from before, so the next
    request does not wait for the reactor to pause again, and the reactor, once it runs, takes the next
    response with ``get_msg(block=False)`` and hands it to its request handlers (a response is no
    request: it is dropped). The caller then waits out the DIMSE timeout and aborts. Whether that happens
    depends only on when our two threads are scheduled: it failed DIMSE-003 ("only 4 of 5 C-ECHO-RQs
    could be sent") against a correct node on a loaded machine. Our associations are requestors: every
    message the node sends on them (responses, and the C-STORE sub-operations of a C-GET) is read by the
    send_* call waiting for it, never by the reactor, so the reactor's non-blocking reads get nothing."""
    dimse = assoc.dimse
    waiting_read = dimse.get_msg

    def get_msg(block: bool = False) -> tuple[int | None, Any]:
        return waiting_read(block=True) if block else (None, None)

    dimse.get_msg = get_msg  # type: ignore[method-assign,assignment]


def unproposed_syntax(assoc: Association) -> str | None:
    """What is wrong when the A-ASSOCIATE-AC accepted a presentation context in a transfer syntax we did
    not propose for it (PS3.8 9.3.3.2: the acceptor picks one of the proposed; pynetdicom takes any), else
    ``None``. The association must not be used: a data set in that syntax (Deflated, say) would be decoded."""
    proposed = {cx.context_id: set(cx.transfer_syntax) for cx in assoc.requestor.requested_contexts}
    for cx in assoc.accepted_contexts:
        syntaxes = proposed.get(cx.context_id, set())
        accepted = cx.transfer_syntax[0] if cx.transfer_syntax else ""
        if accepted not in syntaxes:
            return (f"the A-ASSOCIATE-AC accepted presentation context {cx.context_id} in transfer syntax "
                    f"{accepted}, which we did not propose for it (PS3.8 9.3.3.2: a protocol violation); "
                    "association aborted")
    return None


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


def bounded(responses: Iterable[T], assoc: Association, what: str, budget: float | None = None) -> Iterator[T]:
    """``responses`` (a pynetdicom C-FIND/C-GET/C-MOVE generator on an association of :func:`associate`)
    with a cap on their number and on the operation's total time (:mod:`dcmconform.base.limits`); past
    either the association is aborted and :class:`TargetMisbehaved` names what the target did.

    The only way we iterate those generators (tests/unit/test_bounded_operations.py holds every module
    to it). The time cap is a timer, not a look at the clock between responses: C-GET's C-STORE
    sub-operations are served inside pynetdicom's loop with no response yielded, and each restarts its
    DIMSE timeout, so only a timer ends a target that trickles them. The timer shuts the connection down
    and wakes pynetdicom's wait; a data set that inflates past our cap, or a PDU over our maximum, is
    judged here too."""
    transport = assoc.dul.socket
    transcript = transport.transcript if isinstance(transport, BoundedSocket) else None
    timeout = float(assoc.dimse_timeout or 0) or 5.0
    cap = ResponseCap(timeout, what, budget)  # budget: seconds for the whole operation (default: the limits')
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        if isinstance(transport, BoundedSocket):
            transport.shutdown()
        assoc.dimse.msg_queue.put((None, None))  # pynetdicom's "no response": its loop ends now

    def misbehaved(message: str) -> TargetMisbehaved:
        if transcript is not None:
            transcript.note(message)
        # pynetdicom yields a response it could not decode from inside ``with assoc.lock``: end the generator
        # first (releasing the lock), else the abort waits for ever on a reader that waits for that lock.
        close = getattr(responses, "close", None)
        if close is not None:
            close()
        abort(assoc, timeout)
        return TargetMisbehaved(message, transcript)

    def judged() -> str | None:
        if expired.is_set():
            return (f"the {what} did not end within {cap.budget:g} s (its responses and sub-operations "
                    f"together: {cap.count} responses); association aborted")
        if (bomb := getattr(_BOMB, "exc", None)) is not None:
            _BOMB.exc = None
            return f"{what}: {bomb}"
        if isinstance(transport, BoundedSocket) and transport.violation:
            return transport.violation
        return None

    _BOMB.exc = None
    timer = threading.Timer(cap.budget, expire)
    timer.daemon = True
    timer.start()
    try:
        for response in responses:
            if (message := judged()) is not None:
                raise misbehaved(message)
            yield response
            if (message := cap.overrun()) is not None:
                raise misbehaved(message)
        if (message := judged()) is not None:
            raise misbehaved(message)
    finally:
        timer.cancel()


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
        transport = assoc.dul.socket
        if isinstance(transport, BoundedSocket) and transport.violation:
            return Echo(None, f"no C-ECHO response: {transport.violation}")  # a PDU over our maximum, say
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
