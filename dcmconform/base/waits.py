"""The network wait the run is in now, for the progress line's countdown (``dcmconform.harness.plugin.Progress``).

Every wait on the node has a deadline, and the waits that can be long pass through two places: the raw
probe's reads (:mod:`dcmconform.net.probe`: an answer within ``--timeout``, a close within ``--artim-wait``)
and the session's health gate (:mod:`dcmconform.harness.session`: a busy or down node, up to ``--artim-wait``).
Each declares its deadline here with :func:`waiting`; :func:`current` says which one ends last. Nothing
here waits or prints."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Wait:
    number: int  # tells one wait from the next (a progress line announces each once)
    what: str  # "for an answer from the node", ...
    started: float  # time.monotonic()
    deadline: float

    def left(self, now: float | None = None) -> float:
        return max(0.0, self.deadline - (time.monotonic() if now is None else now))

    def waited(self, now: float | None = None) -> float:
        return (time.monotonic() if now is None else now) - self.started


_lock = threading.Lock()
_waits: dict[int, Wait] = {}
_numbers = itertools.count(1)


@contextmanager
def waiting(deadline: float, what: str) -> Iterator[Wait]:
    """Declare a wait until ``deadline`` (``time.monotonic()``) for the time of the ``with``."""
    wait = Wait(next(_numbers), what, time.monotonic(), deadline)
    with _lock:
        _waits[wait.number] = wait
    try:
        yield wait
    finally:
        with _lock:
            _waits.pop(wait.number, None)


def current() -> Wait | None:
    """The wait going on that ends last (several threads may wait at once), or ``None``."""
    with _lock:
        return max(_waits.values(), key=lambda w: w.deadline, default=None)
