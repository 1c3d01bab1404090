"""DIMSE command sets: the command table, the codec and the builders (PS3.7 9, 10, E).

The table is modelled on pynetdicom's message types (``dimse_messages``): one entry per Command
Field code, requests and responses. Command sets are always Implicit VR Little Endian led by
(0000,0000) Command Group Length (PS3.7 6.3.1).
"""

from __future__ import annotations

import struct
from io import BytesIO

from pydicom.dataset import Dataset
from pydicom.filereader import read_dataset
from pynetdicom.dsutils import encode
from pynetdicom.sop_class import Verification

C_STORE_RQ, C_STORE_RSP = 0x0001, 0x8001
C_GET_RQ, C_GET_RSP = 0x0010, 0x8010
C_FIND_RQ, C_FIND_RSP = 0x0020, 0x8020
C_MOVE_RQ, C_MOVE_RSP = 0x0021, 0x8021
C_ECHO_RQ, C_ECHO_RSP = 0x0030, 0x8030
C_CANCEL_RQ = 0x0FFF
N_EVENT_REPORT_RQ, N_EVENT_REPORT_RSP = 0x0100, 0x8100
N_GET_RQ, N_GET_RSP = 0x0110, 0x8110
N_SET_RQ, N_SET_RSP = 0x0120, 0x8120
N_ACTION_RQ, N_ACTION_RSP = 0x0130, 0x8130
N_CREATE_RQ, N_CREATE_RSP = 0x0140, 0x8140
N_DELETE_RQ, N_DELETE_RSP = 0x0150, 0x8150

RESPONSE_BIT = 0x8000
NO_DATA_SET = 0x0101  # Command Data Set Type: no data set follows
DATA_SET_PRESENT = 0x0001  # any other value says one follows; this is the usual one

COMMANDS: dict[int, str] = {
    C_STORE_RQ: "C-STORE-RQ", C_STORE_RSP: "C-STORE-RSP",
    C_GET_RQ: "C-GET-RQ", C_GET_RSP: "C-GET-RSP",
    C_FIND_RQ: "C-FIND-RQ", C_FIND_RSP: "C-FIND-RSP",
    C_MOVE_RQ: "C-MOVE-RQ", C_MOVE_RSP: "C-MOVE-RSP",
    C_ECHO_RQ: "C-ECHO-RQ", C_ECHO_RSP: "C-ECHO-RSP",
    C_CANCEL_RQ: "C-CANCEL-RQ",
    N_EVENT_REPORT_RQ: "N-EVENT-REPORT-RQ", N_EVENT_REPORT_RSP: "N-EVENT-REPORT-RSP",
    N_GET_RQ: "N-GET-RQ", N_GET_RSP: "N-GET-RSP",
    N_SET_RQ: "N-SET-RQ", N_SET_RSP: "N-SET-RSP",
    N_ACTION_RQ: "N-ACTION-RQ", N_ACTION_RSP: "N-ACTION-RSP",
    N_CREATE_RQ: "N-CREATE-RQ", N_CREATE_RSP: "N-CREATE-RSP",
    N_DELETE_RQ: "N-DELETE-RQ", N_DELETE_RSP: "N-DELETE-RSP",
}


def command_name(field_: int | None) -> str:
    """``C-STORE-RQ`` for 0x0001; ``command 0x1234`` for a code no service defines."""
    if field_ is None:
        return "(no Command Field)"
    return COMMANDS.get(field_, f"command 0x{field_:04X}")


def response_field(request_field: int) -> int:
    """The Command Field of the response to ``request_field`` (PS3.7 E.1: the high bit set)."""
    return request_field | RESPONSE_BIT


def decode_command(data: bytes) -> Dataset:
    return read_dataset(BytesIO(data), is_implicit_VR=True, is_little_endian=True)


def encode_command(ds: Dataset, group_length: int | None = None) -> bytes:
    """Implicit VR LE bytes of ``ds`` led by (0000,0000) Command Group Length: its true value, or
    ``group_length`` when given (a lie, for the checks). ``ds`` is left as it was."""
    ds = Dataset(ds)
    if "CommandGroupLength" in ds:
        del ds.CommandGroupLength
    body = encode(ds, True, True) or b""
    length = len(body) if group_length is None else group_length
    return struct.pack("<HHII", 0x0000, 0x0000, 4, length) + body


def response(request: Dataset, command_field: int, status: int, **extra: object) -> Dataset:
    """A response command set for ``request``: echoes the SOP class/instance and the message ID."""
    rsp = Dataset()
    if "AffectedSOPClassUID" in request:
        rsp.AffectedSOPClassUID = request.AffectedSOPClassUID
    rsp.CommandField = command_field
    rsp.MessageIDBeingRespondedTo = request.get("MessageID", 0)
    rsp.CommandDataSetType = NO_DATA_SET
    rsp.Status = status
    if "AffectedSOPInstanceUID" in request:
        rsp.AffectedSOPInstanceUID = request.AffectedSOPInstanceUID
    for keyword, value in extra.items():
        setattr(rsp, keyword, value)
    return rsp


def echo_command(message_id: int) -> Dataset:
    """A C-ECHO-RQ command set (PS3.7 9.3.5.1)."""
    rq = Dataset()
    rq.AffectedSOPClassUID = Verification
    rq.CommandField = C_ECHO_RQ
    rq.MessageID = message_id
    rq.CommandDataSetType = NO_DATA_SET
    return rq


def store_command(sop_class: str, sop_instance: str, message_id: int) -> Dataset:
    """A C-STORE-RQ command set (PS3.7 9.3.1.1)."""
    rq = Dataset()
    rq.AffectedSOPClassUID = sop_class
    rq.CommandField = C_STORE_RQ
    rq.MessageID = message_id
    rq.Priority = 0
    rq.CommandDataSetType = DATA_SET_PRESENT
    rq.AffectedSOPInstanceUID = sop_instance
    return rq


def find_command(sop_class: str, message_id: int) -> Dataset:
    """A C-FIND-RQ command set (PS3.7 9.3.2.1); its identifier follows as the data set."""
    rq = Dataset()
    rq.AffectedSOPClassUID = sop_class
    rq.CommandField = C_FIND_RQ
    rq.MessageID = message_id
    rq.Priority = 0
    rq.CommandDataSetType = DATA_SET_PRESENT
    return rq
