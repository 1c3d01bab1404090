"""DIMSE messages as they crossed the wire: reassembled from a transcript's raw PDUs.

pynetdicom does not validate response command sets (it accepts a wrong Message ID Being
Responded To, a wrong group length...), so the checks judge the bytes the target sent, read
back from the transcript, not pynetdicom's view of them. Command sets are Implicit VR Little
Endian (PS3.7 6.3.1).
"""

from __future__ import annotations

import struct
from typing import Any

from pydicom.dataset import Dataset

from dcmconform.dimse.commands import NO_DATA_SET, command_name, response_field
from dcmconform.dimse.pdv import Message
from dcmconform.evidence.follow import EITHER, Follower
from dcmconform.evidence.transcript import RECEIVED, SENT, Transcript
from dcmconform.wire import pdus as pd
from dcmconform.wire.errors import WireError


def messages(transcript: Transcript, direction: str | None = None) -> list[Message]:
    """Every whole DIMSE message in ``transcript`` (both directions unless one is given), in order."""
    follower = Follower()  # our associations: a C-MOVE destination's, begun by the node, do not cut ours
    out: list[Message] = []
    for event in list(transcript.events):
        if not event.data or event.direction not in EITHER:
            continue
        follower.feed(event.direction, event.data)
        if pd.type_of(event.data) != pd.PduType.P_DATA_TF:
            continue
        try:
            pdu = pd.decode_pdu(event.data)
        except WireError:
            continue
        assert isinstance(pdu, pd.PDataTF)
        out.extend(follower.assemblers[event.direction].feed_pdu(pdu, len(event.data) - pd.PDU_HEADER))
    return [m for m in out if direction is None or m.direction == direction]


def received_pdata_lengths(transcript: Transcript) -> list[int]:
    """The PDU-length field of every P-DATA-TF the target sent."""
    return [pd.header(e.data)[1] for e in transcript.events
            if e.direction == RECEIVED and pd.type_of(e.data) == pd.PduType.P_DATA_TF and len(e.data) >= pd.PDU_HEADER]


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
        problems.append(f"Command Data Set Type is 0x{cmd.CommandDataSetType:04X}, expected 0x{NO_DATA_SET:04X} (no data set)")
    if "Status" not in cmd:
        problems.append("Status (0000,0900) is missing")
    for keyword in ("AffectedSOPClassUID", "AffectedSOPInstanceUID"):
        if keyword in cmd and keyword in request and str(cmd[keyword].value) != str(request[keyword].value):
            problems.append(f"{keyword} is {cmd[keyword].value}, the request's was {request[keyword].value} (must echo it, PS3.7 9.1)")
    return problems


def response_compared(rsp: Message, request: Dataset, expected_field: int,
                      status: str = "0x0000") -> list[tuple[str, str, str]]:
    """A pass's witness for ``rsp`` as the answer to ``request``: the Message ID it answers, its Command
    Field and its Status, each with what was expected (``status``: the status a pass asks for, in words)."""
    cmd = rsp.command if rsp.command is not None else Dataset()
    name = command_name(expected_field)
    return [(f"{name} Message ID Being Responded To", f"{request.get('MessageID')} (sent)",
             str(cmd.get("MessageIDBeingRespondedTo", "missing"))),
            (f"{name} Command Field", hex4(expected_field), hex4(cmd.get("CommandField"))),
            (f"{name} Status", status, hex4(cmd.get("Status")))]


def hex4(value: Any) -> str:
    """A command field's value as a witness shows it (``0x0000``), whatever the node put there: never raises,
    since a witness is built whether the check passes or not."""
    if value is None:
        return "missing"
    try:
        return f"0x{int(value):04X}"
    except (TypeError, ValueError):
        return repr(value)[:40]



def responses_to(transcript: Transcript, request_field: int) -> list[tuple[Message, Message | None]]:
    """Pairs (request we sent, the target's next response on that context) for one kind of request."""
    sent = [m for m in messages(transcript) if m.direction == SENT and m.field == request_field]
    received = [m for m in messages(transcript) if m.direction == RECEIVED and m.field == response_field(request_field)]
    pairs = []
    for n, request in enumerate(sent):
        pairs.append((request, received[n] if n < len(received) else None))
    return pairs
