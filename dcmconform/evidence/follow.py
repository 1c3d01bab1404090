"""The association follower: the one place that follows the associations in a transcript's PDUs.

Fed every PDU in order with its direction, a :class:`Follower` knows which A-ASSOCIATE-RQ began the
current association, which presentation contexts its A-ASSOCIATE-AC accepted (context ID -> abstract
syntax and transfer syntax), and keeps each side's DIMSE message assembler, begun again with each
association. Its readers: a transcript's DIMSE messages (:mod:`dcmconform.evidence.messages`), its
readable dump (``Transcript.dump``) and the stored-objects manifest (:mod:`dcmconform.evidence.stored`).

Which A-ASSOCIATE-RQs begin an association is the reader's to say (``starts``): the manifest and the
messages follow only the associations we requested (our C-MOVE destination's associations, which the
node requests, cross the same transcript, and what the node sends us there is not ours to list); the
dump begins afresh on a request from either side.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Protocol

from dcmconform.base.busy import transient
from dcmconform.dimse.pdv import Assembler
from dcmconform.wire import pdus as pd
from dcmconform.wire.errors import WireError

SENT, RECEIVED = "->", "<-"  # a PDU we sent, a PDU the node sent (the arrows of a transcript's dump)
EITHER = (SENT, RECEIVED)


@dataclass(frozen=True)
class Context:
    """A presentation context the A-ASSOCIATE-AC accepted."""

    abstract_syntax: str  # "" when the request proposed no context with its ID, or several
    transfer_syntax: str


class Follower:
    """Follows the associations of one transcript, PDU by PDU (:meth:`feed`).

    ``starts``: the directions whose A-ASSOCIATE-RQ begins an association (default: ours only);
    ``assembler``: makes a side's message assembler (given its direction) at each association's start.
    """

    def __init__(self, starts: Collection[str] = (SENT,),
                 assembler: Callable[[str], Assembler] = Assembler) -> None:
        self.starts = tuple(starts)
        self._assembler = assembler
        self.requester = ""  # the side whose A-ASSOCIATE-RQ began the current association ("" before one did)
        self.request: pd.AAssociateRQ | None = None  # that request (None when it does not decode)
        self.requests: dict[str, pd.AAssociateRQ] = {}  # each side's last A-ASSOCIATE-RQ that decodes
        self.contexts: dict[int, Context] = {}  # context ID -> what the answer to the request accepted
        self.assemblers = {side: assembler(side) for side in EITHER}

    def feed(self, direction: str, data: bytes) -> bool:
        """One PDU (``direction``: SENT or RECEIVED); True when it began an association."""
        kind = pd.type_of(data)
        if kind == pd.PduType.A_ASSOCIATE_RQ:
            request = _decoded(data)
            if isinstance(request, pd.AAssociateRQ):
                self.requests[direction] = request
            if direction not in self.starts:
                return False
            self.requester = direction
            self.request = request if isinstance(request, pd.AAssociateRQ) else None
            self.contexts = {}
            self.assemblers = {side: self._assembler(side) for side in EITHER}
            return True
        if kind == pd.PduType.A_ASSOCIATE_AC and self.requester and direction != self.requester:
            answer = _decoded(data)
            if isinstance(answer, pd.AAssociateAC):
                self.contexts = {pc.context_id: Context(self._abstract_syntax(pc.context_id), pc.transfer_syntax)
                                 for pc in answer.presentation_contexts if pc.result == 0 and pc.transfer_syntax}
        return False

    def _abstract_syntax(self, context_id: int) -> str:
        proposed = [pc for pc in self.request.presentation_contexts if pc.context_id == context_id] if self.request else []
        return (proposed[0].abstract_syntax or "") if len(proposed) == 1 else ""


def _decoded(data: bytes) -> pd.PDU | None:
    try:
        return pd.decode_pdu(data, tolerant=True)
    except WireError:
        return None


# How each connection of a transcript ended --------------------------------------------------------
RELEASED = "released"  # A-RELEASE-RQ answered with A-RELEASE-RP: the node frees the association at once
BUSY_ANSWER = "busy"  # answered a transient A-ASSOCIATE-RJ: the node took no slot for it (PS3.8 9.3.4)
ENDS = {  # the other ends, in words a PACS admin reads in a report
    "aborted-by-us": "ended by our A-ABORT", "aborted-by-node": "ended by the node's A-ABORT",
    "rejected": "answered A-ASSOCIATE-RJ", "closed-by-us": "closed by us without A-RELEASE",
    "closed-by-node": "closed by the node without A-RELEASE", "open": "still open",
}


class _Event(Protocol):  # dcmconform.evidence.transcript.Event (which imports this module)
    at: float
    direction: str
    data: bytes
    tcp: tuple[object, ...]
    conn: int


@dataclass
class Ending:
    """One TCP connection of a transcript and how it ended (``how``: RELEASED, BUSY_ANSWER or a key of
    ENDS), ``at``: the monotonic time of its last event."""

    conn: int
    how: str = "open"
    at: float = 0.0
    closed: bool = False  # a FIN or RST from either side was seen

    @property
    def unreleased(self) -> bool:
        """It ended without an orderly release, so a node may still count it against its limit."""
        return self.how not in (RELEASED, BUSY_ANSWER)


def endings(events: Iterable[_Event]) -> list[Ending]:
    """How each connection in ``events`` (a transcript's, in order) ended: by its last PDU (A-RELEASE-RP,
    A-ABORT, A-ASSOCIATE-RJ) or, without one, by which side closed it first. An event naming no
    connection (0) belongs to the connection opened last; PDUs before any connection was seen open
    begin one at each A-ASSOCIATE-RQ we sent."""
    found: dict[int, Ending] = {}
    last = pseudo = 0  # pseudo: the numbers (negative) of connections begun by a request alone
    for event in events:
        if event.tcp and event.tcp[0] == "open":
            last = event.conn or len(found) + 1
            found[last] = Ending(last, at=event.at)
            continue
        if not event.tcp and not (event.data and event.direction in EITHER):
            continue
        key = event.conn or last
        if not event.tcp and pd.type_of(event.data) == pd.PduType.A_ASSOCIATE_RQ and event.direction == SENT \
                and (key not in found or found[key].closed or found[key].how != "open"):
            pseudo -= 1
            key = last = pseudo  # no connection seen open: this request begins one
        ending = found.setdefault(key, Ending(key, at=event.at))
        ending.at = event.at
        if event.tcp:
            if not ending.closed and ending.how == "open":
                ending.how = "closed-by-us" if event.tcp[1] == SENT else "closed-by-node"
            ending.closed = True
            continue
        ending.how = _end_of(event.direction, event.data, ending.how)
    return list(found.values())


def _end_of(direction: str, data: bytes, before: str) -> str:
    kind = pd.type_of(data)
    if kind == pd.PduType.A_RELEASE_RP:
        return RELEASED
    if kind == pd.PduType.A_ABORT:
        return "aborted-by-us" if direction == SENT else "aborted-by-node"
    if kind == pd.PduType.A_ASSOCIATE_RJ and direction == RECEIVED:
        rj = _decoded(data)
        return BUSY_ANSWER if isinstance(rj, pd.AAssociateRJ) and transient(rj.result, rj.source) else "rejected"
    return "open" if before in (RELEASED, BUSY_ANSWER, "open") else before
