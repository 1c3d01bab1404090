"""Our storage SCP for the C-MOVE checks: the Move Destination, listening only during one check.

The target must know it (AE title, this machine's address, the port): ``--move-aet`` and
``--move-port``, or, for a reference peer, the destination the session wrote into its
configuration. It accepts every storage SOP class in every transfer syntax pynetdicom knows,
answers each C-STORE with 0x0000 and keeps what arrived (command and data set bytes, as sent; data
sets up to :data:`~dcmconform.base.limits.MOVE_SCP_KEEP` in all, counted past it). It listens on the
loopback interface only when the target is on this machine (:func:`dcmconform.harness.session.choose_move_destination`).
Every wait has a deadline and the server is always shut down, with any association still open
aborted (:meth:`MoveSCP.stop`, also on the way out of ``with``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pynetdicom import ALL_TRANSFER_SYNTAXES, AllStoragePresentationContexts, evt

from dcmconform.net.assoc import make_ae
from dcmconform.base.limits import MOVE_SCP_KEEP
from dcmconform.net.target import MoveDestination
from dcmconform.evidence.transcript import Transcript


@dataclass
class Arrival:
    """One C-STORE sub-operation as our SCP received it."""

    sop_class_uid: str
    sop_instance_uid: str
    transfer_syntax: str
    data: bytes
    calling_ae: str
    originator_aet: str
    originator_id: int | None


class MoveSCP:
    """``with MoveSCP(destination, timeout, transcript) as scp:`` our storage SCP, listening."""

    def __init__(self, destination: MoveDestination, timeout: float, transcript: Transcript) -> None:
        assert destination.port is not None
        self.destination = destination
        self.timeout = timeout
        self.transcript = transcript
        self.arrivals: list[Arrival] = []
        self.kept = 0  # bytes of data sets kept (at most limits.MOVE_SCP_KEEP)
        self.dropped = 0  # bytes of data sets counted past that, not kept
        self.connections = 0  # open right now
        self.connected = 0  # ever
        self._changed = threading.Condition()
        self._ae: Any = None
        self._server: Any = None

    # Event handlers (pynetdicom's threads) ---------------------------------------------------
    def _on_store(self, event: Any) -> int:
        rq = event.request
        originator_id = rq.MoveOriginatorMessageID
        data = bytes(rq.DataSet.getvalue()) if rq.DataSet else b""
        with self._changed:
            if self.kept + len(data) > MOVE_SCP_KEEP:  # a target that sends without end: count, do not keep
                self.dropped += len(data)
                data = b""
            self.kept += len(data)
        arrival = Arrival(str(rq.AffectedSOPClassUID or ""), str(rq.AffectedSOPInstanceUID or ""),
                          str(event.context.transfer_syntax), data,
                          str(event.assoc.requestor.ae_title).strip(),
                          str(rq.MoveOriginatorApplicationEntityTitle or "").strip(),
                          None if originator_id is None else int(originator_id))
        with self._changed:
            self.arrivals.append(arrival)
            self._changed.notify_all()
        return 0x0000

    def _on_open(self, _event: Any) -> None:
        with self._changed:
            self.connections += 1
            self.connected += 1
            self._changed.notify_all()

    def _on_close(self, _event: Any) -> None:
        with self._changed:
            self.connections -= 1
            self._changed.notify_all()

    # Life cycle ----------------------------------------------------------------------------
    def start(self) -> MoveSCP:
        """Listen; raises OSError when the port cannot be had."""
        ae = make_ae(self.destination.ae_title, self.timeout)
        for context in AllStoragePresentationContexts:
            ae.add_supported_context(context.abstract_syntax, ALL_TRANSFER_SYNTAXES)
        ae.maximum_associations = 4
        handlers = [
            (evt.EVT_DATA_SENT, lambda event: self.transcript.sent(event.data)),
            (evt.EVT_DATA_RECV, lambda event: self.transcript.received(event.data)),
            (evt.EVT_C_STORE, self._on_store),
            (evt.EVT_CONN_OPEN, self._on_open),
            (evt.EVT_CONN_CLOSE, self._on_close),
        ]
        self._ae = ae
        try:
            self._server = ae.start_server((self.destination.bind, self.destination.port), block=False,
                                           evt_handlers=handlers)
        except BaseException:
            ae.shutdown()
            raise
        where = self.destination.bind or "every interface"
        self.transcript.note(f"our storage SCP {self.destination.ae_title} listens on {where} port {self.destination.port}")
        return self

    def wait(self, done: Callable[[MoveSCP], bool], seconds: float) -> bool:
        """Wait until ``done(self)`` holds (checked at every arrival and connection change) or ``seconds`` pass."""
        deadline = time.monotonic() + seconds
        with self._changed:
            while not done(self):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return True

    def stop(self) -> None:
        """Abort any association still open, close the listening socket, end the server's threads."""
        ae, self._ae = self._ae, None
        server, self._server = self._server, None
        if ae is None:
            return
        if server is not None:
            for assoc in server.active_associations:
                assoc.abort()
        ae.shutdown()  # shuts the server down (socket closed) and aborts what is left
        if server is not None:
            for assoc in server.active_associations:
                assoc.join(timeout=self.timeout)

    def __enter__(self) -> MoveSCP:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
