"""Planted bugs for the fuzzer (``dcmconform fuzz``): defects no fixed list of requests would hit,
each on one input shape, in a node that comes back after it fails.

- :data:`CRASH`: the process dies on an A-ASSOCIATE-RQ whose user information holds a SOP class
  extended negotiation sub-item (56H) with an empty service-class-application-information field
  (PS3.7 D.3.3.5), as a parser that reads its first byte without looking would.
- :data:`HANG`: the node wedges (no answer to anyone any more) on a P-DATA-TF whose last PDV item
  length says :data:`PDV_OVERRUN` bytes more than the PDU holds (PS3.8 9.3.5.1), as a reader that
  waits for bytes that never come while it holds the node's only dispatcher would.
- :data:`LEAK`: every connection that ends in the middle of a PDU leaks a buffer; after
  :data:`LEAK_LIMIT` of them the node closes every new connection at once.
- :data:`AT_MAX`: the process dies on a P-DATA-TF whose PDU length is exactly the maximum length
  it announced (PS3.8 D.1), as a reader that takes a buffer of that size from its pool and writes a
  terminator after the body would (an off-by-one, CWE-193). Only that boundary value does it: a
  length one less, one more, or any other is served or refused as usual.

A node the fuzzer cannot restart must come back for shrinking to go on, so with any of these on the
zoo runs under a supervisor (:func:`supervise`): like a service manager, it starts the node again
:data:`RESTART_AFTER` seconds after it died, and its watchdog kills a node that stopped serving
after :data:`WATCHDOG` seconds (systemd's ``Restart=`` and ``WatchdogSec=``). Each restart is a fresh
node: the leak starts from zero.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import struct
import threading
import time
from collections.abc import Callable

from dcmconform.base import lifeline
from dcmconform.wire import items as it
from dcmconform.wire import pdus as pd

CRASH = "crash-on-empty-extended-negotiation"
HANG = "hang-on-pdv-length-overrun"
LEAK = "leak-on-truncated-pdu"
AT_MAX = "crash-on-pdata-at-max-length"
PLANTED = (CRASH, HANG, LEAK, AT_MAX)

P_DATA_TF = 0x04
RESTART_AFTER = 0.2
WATCHDOG = 1.5
LEAK_LIMIT = 5
PDV_OVERRUN = 2

_lock = threading.Lock()
_leaked = 0
_broken = threading.Event()  # the node stopped serving; the watchdog is on its way
_wedged = False  # how: it answers nothing at all (else it closes every connection at once)


def supervise(serve: Callable[[], None]) -> None:
    """Run ``serve`` in a child process, again and again: a service manager restarting the node.

    The node never outlives its supervisor: SIGTERM to the supervisor kills the node first (SIGKILL: a node
    a defect wedged may not heed SIGTERM), and a supervisor that dies any other way takes the node with it
    (its parent-death signal, set in the node itself: the supervisor has a single thread)."""
    supervisor = os.getpid()
    node = 0

    def stop(*_: object) -> None:
        if node:
            with contextlib.suppress(ProcessLookupError):
                os.kill(node, signal.SIGKILL)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    while True:
        node = os.fork()
        if node == 0:
            try:
                signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
                lifeline.die_with(supervisor, signal.SIGKILL)
                serve()
            finally:
                os._exit(0)
        os.waitpid(node, 0)
        time.sleep(RESTART_AFTER)


def _stop_serving() -> None:
    """From now on every new connection is refused service; the watchdog restarts the node."""
    if not _broken.is_set():
        _broken.set()
        threading.Thread(target=_watchdog, daemon=True).start()


def _watchdog() -> None:
    time.sleep(WATCHDOG)
    os._exit(78)  # the service manager's watchdog kills the node that stopped serving


def serving() -> bool:
    return not _broken.is_set()


def refuse(sock: socket.socket) -> None:
    """What the broken node does with a new connection: nothing at all (wedged) or close it at once."""
    if _wedged:
        sock.settimeout(None)
        with contextlib.suppress(OSError):
            while sock.recv(1 << 16):
                pass


def crashes_on(rq: pd.AAssociateRQ) -> bool:
    ui = rq.user_information
    return ui is not None and any(isinstance(i, it.SOPClassExtendedNegotiationSubItem) and not i.app_info
                                  for i in ui.items)


def crash() -> None:
    os._exit(77)  # the defect: index 0 of an empty field


def check_header(defects: frozenset[str], code: int, length: int, max_length: int) -> None:
    """Die, with :data:`AT_MAX` on, on a P-DATA-TF header announcing exactly ``max_length`` bytes.
    (A switch can be on only once its name is in the defect list: until then this is off.)"""
    if AT_MAX in defects and code == P_DATA_TF and length == max_length:
        os._exit(73)  # the defect: one byte past a buffer of max_length bytes


def overruns(data: bytes) -> bool:
    """The last PDV item of this P-DATA-TF claims exactly :data:`PDV_OVERRUN` bytes past the PDU's end."""
    pos = pd.PDU_HEADER
    while pos + 4 <= len(data):
        (length,) = struct.unpack(">I", data[pos: pos + 4])
        end = pos + 4 + length
        if end == len(data) + PDV_OVERRUN:
            return True
        pos = end
    return False


def wedge() -> None:
    global _wedged
    _wedged = True
    _stop_serving()


def leaked() -> None:
    """A connection ended in the middle of a PDU."""
    global _leaked
    with _lock:
        _leaked += 1
        if _leaked >= LEAK_LIMIT:
            _stop_serving()
