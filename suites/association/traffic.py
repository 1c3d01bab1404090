"""DIMSE traffic on a hand-made association, for the association checks.

pynetdicom does the DIMSE work of ordinary checks. The association checks need what it will not
do: use context ID 255 from a hand-made request, receive under a 64-byte maximum length, send a
P-DATA-TF of exactly (or more than) the target's maximum length, and count every P-DATA-TF length
and context ID of the answer. The raw association, the cutting into P-DATA-TFs and the joining of
PDVs are the engine's DIMSE layer (:mod:`dcmconform.dimse`); this module
adds the few requests and the reply reading these checks share. Command sets are Implicit VR
Little Endian led by their group length (PS3.7 6.3.1, E).
"""

from __future__ import annotations

import contextlib
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from pydicom.dataset import Dataset

from dcmconform.exchange.association import RawAssociation
from dcmconform.dimse.commands import C_ECHO_RSP, command_name, echo_command, encode_command, store_command
from dcmconform.dimse.datasets import encode_data_set
from dcmconform.dimse.pdv import Assembler, fragments
from dcmconform.net.probe import send_all
from dcmconform.net.probe import DATA, Connection, Observation, Probe
from dcmconform.evidence.transcript import RECEIVED
from dcmconform.base.uids import IMPLICIT_LE, SECONDARY_CAPTURE
from dcmconform.wire import pdus as pd

PADDING_TAG = (0xFFFC, 0xFFFC)  # Data Set Trailing Padding, OB


def echo_rq(message_id: int = 1) -> bytes:
    return encode_command(echo_command(message_id))


def store_rq(sop_instance: str, sop_class: str = SECONDARY_CAPTURE, message_id: int = 1) -> bytes:
    return encode_command(store_command(sop_class, sop_instance, message_id))


def padded_dataset(ds: Dataset, size: int) -> bytes:
    """``ds`` in Implicit VR Little Endian, padded with Data Set Trailing Padding to exactly ``size`` bytes.

    ``size`` must leave room for the padding element's 8-byte header and be even.
    """
    body = encode_data_set(ds, IMPLICIT_LE)
    room = size - len(body) - 8
    if room < 0 or room % 2:
        raise ValueError(f"cannot pad a {len(body)}-byte data set to {size} bytes")
    return body + struct.pack("<HHI", *PADDING_TAG, room) + b"\x00" * room


@dataclass
class Reply:
    """A DIMSE response read from the target PDU by PDU."""

    command: Dataset | None = None
    lengths: list[int] = field(default_factory=list)  # PDU length field of every P-DATA-TF received
    context_ids: list[int] = field(default_factory=list)
    ended: Observation | None = None  # what ended the wait when no whole command came back
    expected: int | None = None  # the Command Field of the response we wait for (its status is believed only then)

    @property
    def wrong_type(self) -> str:
        """The response's name when it is not the one we asked for ("" when it is, or nothing came)."""
        got = None if self.command is None else self.command.get("CommandField")
        return "" if self.command is None or self.expected in (None, got) else command_name(got)

    @property
    def status(self) -> int | None:
        return None if self.command is None or self.wrong_type else self.command.get("Status")

    def describe(self) -> str:
        if self.wrong_type:
            return f"a {self.wrong_type}, not a {command_name(self.expected)}"
        if self.command is not None:
            status = self.status
            return (f"a response with status 0x{status:04X}" if status is not None else "a response without a status")
        return self.ended.describe() if self.ended is not None else "nothing"


def read_reply(conn: Connection, timeout: float) -> Reply:
    """P-DATA-TFs until a whole response arrives; anything else ends the wait."""
    reply = Reply()
    assembler = Assembler(RECEIVED)
    deadline = time.monotonic() + timeout
    while True:
        observed = conn.receive(max(deadline - time.monotonic(), 0.01))
        if observed.kind != DATA or not isinstance(observed.pdu, pd.PDataTF):
            reply.ended = observed
            return reply
        reply.lengths.append(pd.header(observed.raw)[1])
        reply.context_ids.extend(pdv.context_id for pdv in observed.pdu.pdvs)
        finished = assembler.feed_pdu(observed.pdu, reply.lengths[-1])
        if finished:
            reply.command = finished[0].command
            if reply.command is None:
                conn.transcript.note(f"the response command set does not decode: {finished[0].decode_error}")
                reply.ended = observed
            return reply


def echo(conn: Connection, context_id: int, their_max: int, timeout: float) -> Reply:
    """Send a C-ECHO-RQ on ``context_id`` (within the target's maximum length) and read the reply."""
    failed = send_all(conn, fragments(echo_rq(), context_id, True, their_max))
    reply = Reply(ended=failed) if failed is not None else read_reply(conn, timeout)
    reply.expected = C_ECHO_RSP
    return reply


@contextlib.contextmanager
def raw_association(probe: Probe, request: pd.PDU | bytes) -> Iterator[tuple[Connection, Observation]]:
    """Send ``request`` (as given, broken or not) on a new connection and hand over the connection
    and the answer. An association still open at the end is released politely."""
    with RawAssociation(probe, [], request=request) as association:
        assert association.answer is not None
        yield association.conn, association.answer
