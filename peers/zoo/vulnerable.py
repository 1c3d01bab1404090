"""The zoo's known vulnerabilities (suites/robustness/test_vulnerabilities.py): each defect dies on the
class of input that crashed a real DICOM network stack in a published CVE, as that stack did."""

from __future__ import annotations

import os
import struct

SHORT_ELEMENT = "crash-on-short-command-element"  # CVE-2024-34508/34509
PAST_END = "crash-on-element-past-end"  # CVE-2026-5437
ALLOCATE = "allocate-by-pdu-length"  # CVE-2026-50254/35505, CVE-2026-3650
DEAF = "deaf-after-malformed-command"  # the association's thread dies, the listener goes on
US_TAGS = {0x0100, 0x0110, 0x0120, 0x0700, 0x0800, 0x0900}  # US command elements (PS3.7 E.1-1)
ALLOCATE_LIMIT = 256 * 1024 * 1024  # a PDU announcing more: the allocation fails and takes the process down


def _elements(data: bytes) -> list[tuple[int, int, int]]:
    """(element, length, end) of each implicit VR little endian group 0000 element of a command PDV."""
    out = []
    pos = 0
    while pos + 8 <= len(data):
        _, elem, length = struct.unpack("<HHI", data[pos: pos + 8])
        out.append((elem, length, pos + 8 + length))
        pos += 8 + length
    return out


def malformed(data: bytes) -> bool:
    """A command PDV with a US element that is not 2 bytes long, or an element running past its end."""
    return any((e in US_TAGS and n != 2) or end > len(data) for e, n, end in _elements(data))


def check_command(defects: frozenset[str], data: bytes) -> None:
    """Die on a command PDV the defects that are on cannot parse."""
    if SHORT_ELEMENT in defects and any(e in US_TAGS and n != 2 for e, n, _ in _elements(data)):
        os._exit(81)  # the defect: reads 2 bytes of a value that is not there
    if PAST_END in defects and any(end > len(data) for _, _, end in _elements(data)):
        os._exit(82)  # the defect: copies the value without checking it fits


def check_length(defects: frozenset[str], length: int) -> None:
    if ALLOCATE in defects and length > ALLOCATE_LIMIT:
        os._exit(83)  # the defect: allocates the announced length before reading
