"""DIMSE status codes and what they mean, per service (PS3.7 Annex C, PS3.4 B.2.3, C.4, J.3).

:func:`classify` answers ``(category, meaning)``. The category is pynetdicom's
(:func:`pynetdicom.status.code_to_category`): success, warning, failure, pending or cancel; or
unknown when the service does not define the code. Which codes a service defines, and the words
for them, are the tables below (pynetdicom lets every service use every general code, such as
0xFE00 Cancel for C-STORE; the checks judge a status against its own service).
"""

from __future__ import annotations

from dataclasses import dataclass

from pynetdicom import status as pn

SUCCESS, WARNING, FAILURE = pn.STATUS_SUCCESS.lower(), pn.STATUS_WARNING.lower(), pn.STATUS_FAILURE.lower()
PENDING, CANCEL, UNKNOWN = pn.STATUS_PENDING.lower(), pn.STATUS_CANCEL.lower(), pn.STATUS_UNKNOWN.lower()

# General codes usable by every DIMSE-C service (PS3.7 C.5).
_GENERAL_FAILURES = {
    0x0117: "Invalid SOP Instance",
    0x0122: "Refused: SOP Class not supported",
    0x0124: "Refused: not authorized",
    0x0210: "Duplicate invocation",
    0x0211: "Unrecognized operation",
    0x0212: "Mistyped argument",
}

_ECHO = {0x0000: "Success"}
_STORE = {
    0x0000: "Success",
    0xB000: "Coercion of data elements",
    0xB006: "Elements discarded",
    0xB007: "Data set does not match SOP Class",
}
_FIND = {
    0x0000: "Matching is complete",
    0xFF00: "Matches are continuing; optional keys supported",
    0xFF01: "Matches are continuing; some optional keys not supported",
    0xFE00: "Matching terminated due to Cancel request",
    0xA700: "Out of resources",
}
_RETRIEVE = {
    0x0000: "Sub-operations complete, no failures",
    0xFF00: "Sub-operations are continuing",
    0xFE00: "Sub-operations terminated due to Cancel",
    0xB000: "Sub-operations complete, one or more failures or warnings",
    0xA701: "Out of resources: unable to calculate number of matches",
    0xA702: "Out of resources: unable to perform sub-operations",
}
_MOVE_ONLY = {0xA801: "Move destination unknown"}
_N_SERVICE = {
    0x0000: "Success",
    0x0110: "Processing failure",
    0x0112: "No such SOP Instance",
    0x0118: "No such SOP Class",
    0x0119: "Class-Instance conflict",
    0x0123: "No such action",
    0x0213: "Resource limitation",
    0x0107: "Attribute list error",
}

# Ranges of codes a service defines as one meaning: (mask, value, meaning), checked before the tables.
_STORE_RANGES = [(0xFF00, 0xA700, "Refused: out of resources"),
                 (0xFF00, 0xA900, "Error: data set does not match SOP Class"),
                 (0xF000, 0xC000, "Error: cannot understand")]
_QR_RANGES = [(0xFF00, 0xA900, "Identifier does not match SOP Class"), (0xF000, 0xC000, "Unable to process")]

SERVICES = ("C-ECHO", "C-STORE", "C-FIND", "C-GET", "C-MOVE", "N-ACTION", "N-EVENT-REPORT")


@dataclass(frozen=True)
class Status:
    code: int
    category: str
    meaning: str

    def __str__(self) -> str:
        return f"0x{self.code:04X} ({self.category}: {self.meaning})"


def _defined(code: int, meaning: str) -> Status:
    return Status(code, pn.code_to_category(code).lower(), meaning)


def classify(code: int, service: str = "C-STORE") -> Status:
    """What ``code`` means for ``service``; ``unknown`` when the service does not define it."""
    if service == "C-ECHO":
        table, ranges = _ECHO, []
    elif service == "C-STORE":
        table, ranges = _STORE, _STORE_RANGES
    elif service == "C-FIND":
        table, ranges = _FIND, _QR_RANGES
    elif service in ("C-GET", "C-MOVE"):
        table, ranges = _RETRIEVE | (_MOVE_ONLY if service == "C-MOVE" else {}), _QR_RANGES
    else:
        table, ranges = _N_SERVICE, []
    for mask, value, meaning in ranges:
        if code & mask == value:
            return _defined(code, meaning)
    if code in table:
        return _defined(code, table[code])
    if code in _GENERAL_FAILURES:
        return _defined(code, _GENERAL_FAILURES[code])
    return Status(code, UNKNOWN, f"not a status {service} defines")
