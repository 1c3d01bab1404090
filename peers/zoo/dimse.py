"""DIMSE command sets for the zoo SCP: decode a request, encode a response (PS3.7 9, E).

Command sets are always Implicit VR Little Endian (PS3.7 6.3.1); pydicom reads and writes them.
"""

from __future__ import annotations

import struct
from io import BytesIO

from pydicom.dataset import Dataset
from pydicom.filereader import read_dataset
from pynetdicom.dsutils import encode

C_STORE_RQ, C_STORE_RSP = 0x0001, 0x8001
C_ECHO_RQ, C_ECHO_RSP = 0x0030, 0x8030
NO_DATA_SET = 0x0101


def decode_command(data: bytes) -> Dataset:
    return read_dataset(BytesIO(data), is_implicit_VR=True, is_little_endian=True)


def encode_command(ds: Dataset, group_length: int | None = None) -> bytes:
    """Implicit VR LE bytes of ``ds`` led by (0000,0000) CommandGroupLength (true value unless given)."""
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
