"""A busy node: a transient A-ASSOCIATE-RJ is not the check's answer, it is the node's state.

PS3.8 9.3.4 (Table 9-21): an A-ASSOCIATE-RJ with result 2 (rejected-transient) from the service
provider (source 2, ACSE: no reason; source 3, presentation: temporary congestion, local limit
exceeded) says "not now", not "no". A small node answers it while its association slots are taken
(a default pynetdicom AE allows 10), also by connections an earlier check left it holding.

While the session runs a check it *arms* this module (:func:`armed`): every association the check
opens, raw (:class:`dcmconform.net.probe.Connection`) or through pynetdicom
(:func:`dcmconform.net.assoc.associate`), raises :class:`NodeBusy` on a transient rejection instead
of handing it to the check. The session then waits for the node to serve again and runs the check
again from the start, or gives it the outcome ``not run``. When the node rejects the check's very
first association again and again while it accepts a plain one at once in between, the rejection
is the node's answer to the check's request (a node may refuse a request too large for it with
2/3/2): the session runs the check again disarmed, and the check judges it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

_armed = False
_answered = 0  # A-ASSOCIATE-RQs of the running check answered (accepted or rejected) since it was armed


class NodeBusy(Exception):
    """The node answered a transient A-ASSOCIATE-RJ (``answer``, in words) while a check was running;
    ``first``: to the check's first A-ASSOCIATE-RQ."""

    def __init__(self, answer: str, first: bool) -> None:
        super().__init__(f"the node answered {answer}")
        self.answer = answer
        self.first = first


def answered() -> None:
    """An A-ASSOCIATE-RQ of the running check was answered (A-ASSOCIATE-AC or -RJ)."""
    global _answered
    _answered += 1


def transient(result: int, source: int) -> bool:
    """A-ASSOCIATE-RJ result 2 (rejected-transient) from the service provider (source 2 or 3)."""
    return result == 2 and source in (2, 3)


def check(result: int, source: int, answer: str) -> None:
    """Raise :class:`NodeBusy` for a transient rejection while a check is running (armed)."""
    if _armed and transient(result, source):
        raise NodeBusy(answer, _answered == 0)


@contextlib.contextmanager
def armed(on: bool = True) -> Iterator[None]:
    """While the block runs, transient rejections raise :class:`NodeBusy` (``on``) or reach the caller."""
    global _armed, _answered
    before, _armed, _answered = _armed, on, 0
    try:
        yield
    finally:
        _armed = before
