"""DIMSE messages over a raw :class:`~dcmconform.probe.Connection`, for checks about PDUs and lengths.

pynetdicom does the DIMSE work of ordinary checks. These few helpers exist for what it will not
do: use context ID 255 from a hand-made request, receive under a 64-byte maximum length, or send
a P-DATA-TF of exactly (or more than) the target's maximum length. Command sets are Implicit VR
Little Endian led by their group length (PS3.7 6.3.1, E).
"""

from __future__ import annotations

import contextlib
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from io import BytesIO

from pydicom.dataset import Dataset
from pydicom.filereader import read_dataset
from pynetdicom.dsutils import encode

from dcmconform.probe import ACCEPTED, DATA, Connection, Observation, Probe
from dcmconform.uids import SECONDARY_CAPTURE, VERIFICATION
from dcmconform.wire import pdus as pd

C_STORE_RQ, C_ECHO_RQ = 0x0001, 0x0030
NO_DATA_SET, DATA_SET = 0x0101, 0x0000
PDV_HEADER = 6  # PDV item length (4), context ID, message control header
PADDING_TAG = (0xFFFC, 0xFFFC)  # Data Set Trailing Padding, OB


def command_bytes(ds: Dataset) -> bytes:
    body = encode(ds, True, True) or b""
    return struct.pack("<HHII", 0x0000, 0x0000, 4, len(body)) + body


def echo_rq(message_id: int = 1) -> bytes:
    ds = Dataset()
    ds.AffectedSOPClassUID = VERIFICATION
    ds.CommandField = C_ECHO_RQ
    ds.MessageID = message_id
    ds.CommandDataSetType = NO_DATA_SET
    return command_bytes(ds)


def store_rq(sop_instance: str, sop_class: str = SECONDARY_CAPTURE, message_id: int = 1) -> bytes:
    ds = Dataset()
    ds.AffectedSOPClassUID = sop_class
    ds.CommandField = C_STORE_RQ
    ds.MessageID = message_id
    ds.Priority = 0
    ds.CommandDataSetType = DATA_SET
    ds.AffectedSOPInstanceUID = sop_instance
    return command_bytes(ds)


def padded_dataset(ds: Dataset, size: int) -> bytes:
    """``ds`` in Implicit VR Little Endian, padded with Data Set Trailing Padding to exactly ``size`` bytes.

    ``size`` must leave room for the padding element's 8-byte header and be even.
    """
    body = encode(ds, True, True) or b""
    room = size - len(body) - 8
    if room < 0 or room % 2:
        raise ValueError(f"cannot pad a {len(body)}-byte data set to {size} bytes")
    return body + struct.pack("<HHI", *PADDING_TAG, room) + b"\x00" * room


def fragments(data: bytes, context_id: int, command: bool, max_length: int) -> list[pd.PDataTF]:
    """``data`` as P-DATA-TFs whose PDU length never exceeds ``max_length`` (0: one PDU)."""
    room = len(data) if max_length == 0 else max(max_length - PDV_HEADER, 1)
    pieces = [data[i : i + room] for i in range(0, len(data), room)] or [b""]
    out = []
    for n, piece in enumerate(pieces):
        control = (0x01 if command else 0x00) | (0x02 if n == len(pieces) - 1 else 0x00)
        out.append(pd.PDataTF([pd.PDV(context_id=context_id, control=control, data=piece)]))
    return out


def send_all(conn: Connection, pdus: list[pd.PDataTF]) -> Observation | None:
    for pdu in pdus:
        failed = conn.send(pdu)
        if failed is not None:
            return failed
    return None


@dataclass
class Reply:
    """A DIMSE response read from the target PDU by PDU."""

    command: Dataset | None = None
    lengths: list[int] = field(default_factory=list)  # PDU length field of every P-DATA-TF received
    context_ids: list[int] = field(default_factory=list)
    ended: Observation | None = None  # what ended the wait when no whole command came back

    @property
    def status(self) -> int | None:
        return None if self.command is None else self.command.get("Status")

    def describe(self) -> str:
        if self.command is not None:
            status = self.status
            return (f"a response with status 0x{status:04X}" if status is not None else "a response without a status")
        return self.ended.describe() if self.ended is not None else "nothing"


def read_reply(conn: Connection, timeout: float) -> Reply:
    """P-DATA-TFs until a whole command set arrives; anything else ends the wait."""
    reply = Reply()
    pending = bytearray()
    deadline = time.monotonic() + timeout
    while True:
        observed = conn.receive(max(deadline - time.monotonic(), 0.01))
        if observed.kind != DATA or not isinstance(observed.pdu, pd.PDataTF):
            reply.ended = observed
            return reply
        reply.lengths.append(pd.header(observed.raw)[1])
        for pdv in observed.pdu.pdvs:
            reply.context_ids.append(pdv.context_id)
            if not pdv.is_command:
                continue
            pending += pdv.data
            if pdv.is_last:
                try:
                    reply.command = read_dataset(BytesIO(bytes(pending)), is_implicit_VR=True, is_little_endian=True)
                except Exception as exc:  # noqa: BLE001 - a command that does not decode is an observation
                    conn.transcript.note(f"the response command set does not decode: {exc}")
                    reply.ended = observed
                return reply


def echo(conn: Connection, context_id: int, their_max: int, timeout: float) -> Reply:
    """Send a C-ECHO-RQ on ``context_id`` (within the target's maximum length) and read the reply."""
    failed = send_all(conn, fragments(echo_rq(), context_id, True, their_max))
    return Reply(ended=failed) if failed is not None else read_reply(conn, timeout)


@contextlib.contextmanager
def raw_association(probe: Probe, request: pd.PDU | bytes) -> Iterator[tuple[Connection, Observation]]:
    """Send ``request`` on a new connection and hand over the connection and the answer.

    An association still open at the end is released politely (A-RELEASE-RQ, one read)."""
    with probe.connection() as conn:
        failed = conn.send(request)
        observed = failed or conn.receive()
        try:
            yield conn, observed
        finally:
            if observed.kind == ACCEPTED and conn.sock is not None:
                probe.release(conn)
