"""The one way to open a well-formed association (pynetdicom), and the liveness check.

Well-formed DIMSE work (C-ECHO, C-STORE, C-FIND, ...) goes through pynetdicom. Its
EVT_DATA_SENT / EVT_DATA_RECV events carry every PDU's bytes, which land in the same
:class:`Transcript` the raw probe writes, so the evidence looks the same either way.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pynetdicom import AE, evt
from pynetdicom.association import Association

from dcmconform import busy
from dcmconform.target import Endpoint
from dcmconform.transcript import RECEIVED, Transcript
from dcmconform.uids import IMPLICIT_LE, NATIVE_SYNTAXES, VERIFICATION
from dcmconform.wire import pdus as pd
from dcmconform.wire.errors import WireError
from dcmconform.wire.pdus import OUR_IMPLEMENTATION_UID, OUR_IMPLEMENTATION_VERSION

logging.getLogger("pynetdicom").setLevel(logging.CRITICAL)

Contexts = Sequence[tuple[str, Sequence[str]]]


class AssociationRefused(Exception):
    """The association was rejected, aborted or never answered; ``transcript`` holds the bytes."""

    def __init__(self, message: str, transcript: Transcript) -> None:
        super().__init__(message)
        self.transcript = transcript


def _no_delay(event: evt.Event) -> None:
    # Bound on our associations only (EVT_CONN_OPEN: right after connect(), before the A-ASSOCIATE-RQ).
    # pynetdicom sets only SO_REUSEADDR. Without TCP_NODELAY a request sent in two writes (a C-STORE's
    # command, then its data set) waits for the peer's delayed ACK: about 40 ms per request on Linux
    # (measured: C-STORE median 50 ms without, 6 ms with), which would make timing evidence meaningless.
    transport = event.assoc.dul.socket
    if transport is not None and transport.socket is not None:
        transport.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _recorder(transcript: Transcript) -> list[tuple[evt.InterventionEvent | evt.NotificationEvent, object]]:
    return [
        (evt.EVT_DATA_SENT, lambda event: transcript.sent(event.data)),
        (evt.EVT_DATA_RECV, lambda event: transcript.received(event.data)),
    ]


def make_ae(calling_aet: str, timeout: float, max_pdu: int = 16384) -> AE:
    ae = AE(ae_title=calling_aet)
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
    ae = make_ae(calling_aet, timeout, max_pdu)
    for abstract, syntaxes in contexts:
        ae.add_requested_context(abstract, list(syntaxes))
    handlers: list[Any] = [(evt.EVT_CONN_OPEN, _no_delay), *_recorder(transcript), *(evt_handlers or [])]
    assoc = ae.associate(
        target.host,
        target.port,
        ae_title=target.ae_title,
        max_pdu=max_pdu,
        ext_neg=ext_neg,
        evt_handlers=handlers,
    )
    if not assoc.is_established:
        reason = "rejected" if assoc.is_rejected else "aborted" if assoc.is_aborted else "not answered or refused"
        transcript.note(f"association {reason}")
        ae.shutdown()
        rejection = _rejection(transcript) if assoc.is_rejected else None
        if rejection is not None:
            busy.check(rejection.result, rejection.source, rejection.describe())  # a busy node: the session's
        raise AssociationRefused(f"association {reason}", transcript)
    busy.accepted()
    try:
        yield assoc
    finally:
        if assoc.is_established:
            assoc.release()
        if assoc.is_alive():
            assoc.abort()
        ae.shutdown()


@dataclass
class Liveness:
    alive: bool
    detail: str
    transcript: Transcript


def liveness(target: Endpoint, calling_aet: str, timeout: float) -> Liveness:
    """A fresh association and a C-ECHO: does the target still serve?"""
    transcript = Transcript("liveness")
    try:
        with associate(target, calling_aet, timeout, ((VERIFICATION, NATIVE_SYNTAXES),), transcript) as assoc:
            status = assoc.send_c_echo()
            code = getattr(status, "Status", None)
            if code == 0x0000:
                return Liveness(True, "C-ECHO status 0x0000", transcript)
            detail = "no C-ECHO response" if code is None else f"C-ECHO status 0x{code:04X}"
            return Liveness(False, detail, transcript)
    except AssociationRefused as exc:
        return Liveness(False, f"liveness check: {exc}", transcript)  # "association rejected (...)"
    except OSError as exc:
        return Liveness(False, f"liveness association failed: {exc}", transcript)
