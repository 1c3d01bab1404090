"""DIMSE messages as they crossed the wire: reassembled from a transcript's raw PDUs.

pynetdicom does not validate response command sets (it accepts a wrong Message ID Being
Responded To, a wrong group length...), so the checks judge the bytes the target sent, read
back from the transcript, not pynetdicom's view of them. Command sets are Implicit VR Little
Endian (PS3.7 6.3.1).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from io import BytesIO

from pydicom.dataset import Dataset
from pydicom.filereader import read_dataset

from dcmconform.transcript import RECEIVED, SENT, Transcript
from dcmconform.wire import pdus as pd
from dcmconform.wire.errors import WireError

NO_DATA_SET = 0x0101

COMMAND_NAMES = {
    0x0001: "C-STORE-RQ", 0x8001: "C-STORE-RSP", 0x0010: "C-GET-RQ", 0x8010: "C-GET-RSP",
    0x0020: "C-FIND-RQ", 0x8020: "C-FIND-RSP", 0x0021: "C-MOVE-RQ", 0x8021: "C-MOVE-RSP",
    0x0030: "C-ECHO-RQ", 0x8030: "C-ECHO-RSP", 0x0100: "N-EVENT-REPORT-RQ", 0x8100: "N-EVENT-REPORT-RSP",
    0x0130: "N-ACTION-RQ", 0x8130: "N-ACTION-RSP", 0x0FFF: "C-CANCEL-RQ",
}


def command_name(field_: int | None) -> str:
    if field_ is None:
        return "(no Command Field)"
    return COMMAND_NAMES.get(field_, f"command 0x{field_:04X}")


def echo_command(message_id: int) -> Dataset:
    """A C-ECHO-RQ command set (PS3.7 9.3.5.1)."""
    from dcmconform.uids import VERIFICATION

    rq = Dataset()
    rq.AffectedSOPClassUID = VERIFICATION
    rq.CommandField = 0x0030
    rq.MessageID = message_id
    rq.CommandDataSetType = NO_DATA_SET
    return rq


def decode_command(data: bytes) -> Dataset:
    return read_dataset(BytesIO(data), is_implicit_VR=True, is_little_endian=True)


def encode_command(ds: Dataset, group_length: int | None = None) -> bytes:
    """Implicit VR LE bytes of ``ds`` led by (0000,0000) Command Group Length (true value unless given)."""
    from pynetdicom.dsutils import encode

    ds = Dataset(ds)
    if "CommandGroupLength" in ds:
        del ds.CommandGroupLength
    body = encode(ds, True, True) or b""
    length = len(body) if group_length is None else group_length
    return struct.pack("<HHII", 0x0000, 0x0000, 4, length) + body


@dataclass
class Message:
    """One DIMSE message: its command set (bytes and decoded) and its data set bytes, if any."""

    direction: str
    context_id: int
    command_bytes: bytes
    command: Dataset | None = None
    decode_error: str = ""
    dataset: bytes | None = None
    pdu_lengths: list[int] = field(default_factory=list)

    @property
    def field(self) -> int | None:
        return None if self.command is None else self.command.get("CommandField")

    @property
    def name(self) -> str:
        return command_name(self.field)

    @property
    def expects_data_set(self) -> bool:
        return self.command is not None and self.command.get("CommandDataSetType", NO_DATA_SET) != NO_DATA_SET

    @property
    def status(self) -> int | None:
        return None if self.command is None else self.command.get("Status")

    @property
    def responds_to(self) -> int | None:
        return None if self.command is None else self.command.get("MessageIDBeingRespondedTo")

    def identifier(self) -> Dataset | None:
        """The data set decoded as Explicit VR LE, the usual choice for identifiers (None if absent)."""
        return None if self.dataset is None else decode_data_set(self.dataset, "1.2.840.10008.1.2.1")


def decode_data_set(data: bytes, transfer_syntax: str) -> Dataset:
    import zlib

    implicit = transfer_syntax == "1.2.840.10008.1.2"
    little = transfer_syntax != "1.2.840.10008.1.2.2"
    if transfer_syntax == "1.2.840.10008.1.2.1.99":
        data = zlib.decompress(data, -15)
    return read_dataset(BytesIO(data), is_implicit_VR=implicit, is_little_endian=little)


class Assembler:
    """Joins PDV fragments of one direction into messages (PS3.8 Annex E)."""

    def __init__(self, direction: str) -> None:
        self.direction = direction
        self.command = bytearray()
        self.data = bytearray()
        self.pending: Message | None = None
        self.lengths: list[int] = []
        self.done: list[Message] = []

    def feed_pdu(self, pdu: pd.PDataTF, length: int) -> list[Message]:
        self.lengths.append(length)
        finished = []
        for pdv in pdu.pdvs:
            if pdv.is_command:
                self.command += pdv.data
                if pdv.is_last:
                    message = Message(self.direction, pdv.context_id, bytes(self.command))
                    self.command.clear()
                    try:
                        message.command = decode_command(message.command_bytes)
                    except Exception as exc:  # noqa: BLE001 - the bytes are the finding
                        message.decode_error = f"{type(exc).__name__}: {exc}"
                    if message.expects_data_set:
                        self.pending = message
                    else:
                        message.pdu_lengths, self.lengths = self.lengths, []
                        finished.append(message)
            else:
                self.data += pdv.data
                if pdv.is_last:
                    if self.pending is not None:
                        self.pending.dataset = bytes(self.data)
                        self.pending.pdu_lengths, self.lengths = self.lengths, []
                        finished.append(self.pending)
                        self.pending = None
                    self.data.clear()
        self.done.extend(finished)
        return finished


def messages(transcript: Transcript, direction: str | None = None) -> list[Message]:
    """Every whole DIMSE message in ``transcript`` (both directions unless one is given), in order."""
    assemblers = {SENT: Assembler(SENT), RECEIVED: Assembler(RECEIVED)}
    out: list[Message] = []
    for event in list(transcript.events):
        if not event.data or event.direction not in assemblers:
            continue
        if event.direction == SENT and event.data[:1] == b"\x01":
            assemblers = {SENT: Assembler(SENT), RECEIVED: Assembler(RECEIVED)}
        if event.data[:1] != b"\x04":
            continue
        try:
            pdu = pd.decode_pdu(event.data)
        except WireError:
            continue
        assert isinstance(pdu, pd.PDataTF)
        out.extend(assemblers[event.direction].feed_pdu(pdu, len(event.data) - pd.PDU_HEADER))
    return [m for m in out if direction is None or m.direction == direction]


def received_pdata_lengths(transcript: Transcript) -> list[int]:
    """The PDU-length field of every P-DATA-TF the target sent."""
    return [pd.header(e.data)[1] for e in transcript.events
            if e.direction == RECEIVED and e.data[:1] == b"\x04" and len(e.data) >= pd.PDU_HEADER]


def group_length_problem(command_bytes: bytes) -> str | None:
    """Is (0000,0000) first, 4 bytes long, and equal to the bytes that follow it?"""
    if len(command_bytes) < 12:
        return f"the command set is only {len(command_bytes)} bytes"
    group, element, vl, value = struct.unpack("<HHII", command_bytes[:12])
    if (group, element) != (0, 0) or vl != 4:
        return f"the command set does not start with (0000,0000) Command Group Length (starts ({group:04X},{element:04X}))"
    actual = len(command_bytes) - 12
    if value != actual:
        return f"Command Group Length says {value} bytes, {actual} follow"
    return None


def response_problems(rsp: Message, request: Dataset, expected_field: int, data_set: bool = False) -> list[str]:
    """What is wrong with ``rsp`` as the answer to ``request`` (PS3.7 9.3, E.1); empty when fine."""
    if rsp.command is None:
        return [f"the response command set does not decode: {rsp.decode_error}"]
    cmd = rsp.command
    problems = []
    if (gl := group_length_problem(rsp.command_bytes)) is not None:
        problems.append(gl)
    if cmd.get("CommandField") != expected_field:
        problems.append(f"Command Field is {command_name(cmd.get('CommandField'))}, expected {command_name(expected_field)}")
    asked = request.get("MessageID")
    if "MessageIDBeingRespondedTo" not in cmd:
        problems.append("Message ID Being Responded To (0000,0120) is missing")
    elif cmd.MessageIDBeingRespondedTo != asked:
        problems.append(f"Message ID Being Responded To is {cmd.MessageIDBeingRespondedTo}, the request's Message ID was {asked}")
    if "CommandDataSetType" not in cmd:
        problems.append("Command Data Set Type (0000,0800) is missing")
    elif not data_set and cmd.CommandDataSetType != NO_DATA_SET:
        problems.append(f"Command Data Set Type is 0x{cmd.CommandDataSetType:04X}, expected 0x0101 (no data set)")
    if "Status" not in cmd:
        problems.append("Status (0000,0900) is missing")
    for keyword in ("AffectedSOPClassUID", "AffectedSOPInstanceUID"):
        if keyword in cmd and keyword in request and str(cmd[keyword].value) != str(request[keyword].value):
            problems.append(f"{keyword} is {cmd[keyword].value}, the request's was {request[keyword].value} (must echo it, PS3.7 9.1)")
    return problems


def responses_to(transcript: Transcript, request_field: int) -> list[tuple[Message, Message | None]]:
    """Pairs (request we sent, the target's next response on that context) for one kind of request."""
    sent = [m for m in messages(transcript) if m.direction == SENT and m.field == request_field]
    received = [m for m in messages(transcript) if m.direction == RECEIVED and m.field == (request_field | 0x8000)]
    pairs = []
    for n, request in enumerate(sent):
        pairs.append((request, received[n] if n < len(received) else None))
    return pairs
