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

from collections.abc import Callable, Collection
from dataclasses import dataclass

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
