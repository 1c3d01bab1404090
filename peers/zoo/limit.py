"""Defect association-limit-holds-after-silence: a small node's association limit, with the slots of
connections that did not end in an orderly release held long after they ended.

The field behaviour (four small pynetdicom-based SCPs): at most :data:`LIMIT` connections at a time
(a default pynetdicom AE allows 10); one more is answered A-ASSOCIATE-RJ 2/3/2 (local-limit-exceeded).
A connection that did not end with A-RELEASE (someone went silent, a peer vanished or stopped
mid-PDU, a request was rejected or aborted) keeps its slot for :data:`HOLD` seconds after it ended
(``DCMCONFORM_ZOO_HOLD`` overrides, for bounded tests), as a node does whose worker thread waits out
its own timer before it frees the slot. Defect ``exit-on-bare-connect``: the process exits when a connection closes
before its first byte (a load balancer's health check, a port scan).
"""

from __future__ import annotations

import os
import socket
import threading

from dcmconform.wire import pdus as pd
from dcmconform.wire.errors import WireError

LIMIT = 10
HOLD = float(os.environ.get("DCMCONFORM_ZOO_HOLD", "30"))
DEFECT = "association-limit-holds-after-silence"
BARE_CONNECT = "exit-on-bare-connect"

_slots = threading.BoundedSemaphore(LIMIT)


def admit(sock: socket.socket) -> bool:
    """Take a slot, or answer A-ASSOCIATE-RJ 2/3/2 (local-limit-exceeded) and refuse the connection."""
    if _slots.acquire(blocking=False):
        return True
    try:
        sock.settimeout(10.0)  # the request may be slow to come (a loaded machine): wait as ARTIM would
        got = b""
        while len(got) < pd.PDU_HEADER or len(got) < pd.PDU_HEADER + pd.header(got)[1]:
            chunk = sock.recv(1 << 16)  # the whole request, undecoded (unread bytes would make close() a reset)
            if not chunk:
                return False
            got += chunk
            if pd.type_of(got) != pd.PduType.A_ASSOCIATE_RQ:  # not an A-ASSOCIATE-RQ (a TLS ClientHello, garbage): dropped at once
                return False
        sock.sendall(pd.AAssociateRJ(2, 3, 2).encode())
        # Then wait for the requestor to close (AE-4 and Sta13), reading what else it sent: a close with
        # unread bytes would be a reset, and the requestor might lose the answer.
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(2.0)
        while sock.recv(1 << 16):
            pass
    except (OSError, WireError):
        pass
    return False


def release(released: bool) -> None:
    """Give the slot back: at once after an A-RELEASE, :data:`HOLD` seconds later after any other end."""
    if released:
        _slots.release()
        return
    timer = threading.Timer(HOLD, _slots.release)
    timer.daemon = True
    timer.start()
