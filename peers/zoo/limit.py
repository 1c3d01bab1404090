"""Defect association-limit-holds-after-silence: a small node's association limit, with the slots of
silent connections held long after they ended.

The field behaviour (four small pynetdicom-based SCPs): at most :data:`LIMIT` connections at a time
(a default pynetdicom AE allows 10); one more is answered A-ASSOCIATE-RJ 2/3/2 (local-limit-exceeded).
A connection on which someone went silent (the node itself, or a peer that vanished or stopped
mid-PDU) keeps its slot for :data:`HOLD` seconds after it ended (``DCMCONFORM_ZOO_HOLD`` overrides,
for bounded tests). Defect ``exit-on-bare-connect``: the process exits when a connection closes
before its first byte (a load balancer's health check, a port scan).
"""

from __future__ import annotations

import os
import socket
import threading

from dcmconform.wire import pdus as pd

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
        sock.settimeout(1.0)
        sock.recv(1 << 16)  # the request, unread: the node rejects before decoding it
        sock.sendall(pd.AAssociateRJ(2, 3, 2).encode())
    except OSError:
        pass
    return False


def release(silent: bool) -> None:
    """Give the slot back: at once after a normal end, :data:`HOLD` seconds later after silence."""
    if not silent:
        _slots.release()
        return
    timer = threading.Timer(HOLD, _slots.release)
    timer.daemon = True
    timer.start()
