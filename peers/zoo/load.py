"""The zoo under load: how many associations it is serving, and the defects of the performance checks.

- ``hang-at-4-associations``: while :data:`HANG_AT` associations are up, a new connection gets no answer
  at all (its request is read and ignored until the requestor gives up), instead of A-ASSOCIATE-RJ 2/3/2.
- ``latency-grows-with-load``: every response waits :data:`STEP` seconds x (associations up - 1)^2:
  alone it is prompt, with four at once each response takes 45 ms.
- ``throughput-cap``: reads at most :data:`CAP` bytes per second on each connection.
(The delayed-ACK stall is ``delay-40ms``, in scp.py.)
"""

from __future__ import annotations

import threading
import time

HANG_AT = 4
STEP = 0.005
CAP = 256 * 1024  # bytes per second

_lock = threading.Lock()
_active = 0


def enter() -> int:
    """A connection starts being served; how many are now (itself included)."""
    global _active
    with _lock:
        _active += 1
        return _active


def leave() -> None:
    global _active
    with _lock:
        _active -= 1


def load_delay() -> float:
    """Seconds a response waits under defect latency-grows-with-load."""
    with _lock:
        others = max(0, _active - 1)
    return STEP * others * others


def throttle(received: int) -> None:
    """Defect throughput-cap: as long as reading ``received`` bytes takes at ``CAP`` bytes per second."""
    time.sleep(received / CAP)
