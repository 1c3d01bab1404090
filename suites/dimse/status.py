"""DIMSE status codes and what they mean, per service (PS3.7 Annex C, PS3.4 B.2.3, C.4, J.3).

:func:`classify` answers ``(category, meaning)``; the category is one of success, warning,
failure, pending, cancel or unknown (a code the service does not define).
"""

from __future__ import annotations

from dataclasses import dataclass

SUCCESS, WARNING, FAILURE, PENDING, CANCEL, UNKNOWN = "success", "warning", "failure", "pending", "cancel", "unknown"

# General codes usable by every DIMSE-C service (PS3.7 C.5).
_GENERAL_FAILURES = {
    0x0117: "Invalid SOP Instance",
    0x0122: "Refused: SOP Class not supported",
    0x0124: "Refused: not authorized",
    0x0210: "Duplicate invocation",
    0x0211: "Unrecognized operation",
    0x0212: "Mistyped argument",
}

_STORE = {
    0x0000: (SUCCESS, "Success"),
    0xB000: (WARNING, "Coercion of data elements"),
    0xB006: (WARNING, "Elements discarded"),
    0xB007: (WARNING, "Data set does not match SOP Class"),
}
_FIND = {
    0x0000: (SUCCESS, "Matching is complete"),
    0xFF00: (PENDING, "Matches are continuing; optional keys supported"),
    0xFF01: (PENDING, "Matches are continuing; some optional keys not supported"),
    0xFE00: (CANCEL, "Matching terminated due to Cancel request"),
    0xA700: (FAILURE, "Out of resources"),
}
_RETRIEVE = {
    0x0000: (SUCCESS, "Sub-operations complete, no failures"),
    0xFF00: (PENDING, "Sub-operations are continuing"),
    0xFE00: (CANCEL, "Sub-operations terminated due to Cancel"),
    0xB000: (WARNING, "Sub-operations complete, one or more failures or warnings"),
    0xA701: (FAILURE, "Out of resources: unable to calculate number of matches"),
    0xA702: (FAILURE, "Out of resources: unable to perform sub-operations"),
}
_MOVE_ONLY = {0xA801: (FAILURE, "Move destination unknown")}
_N_SERVICE = {
    0x0000: (SUCCESS, "Success"),
    0x0110: (FAILURE, "Processing failure"),
    0x0112: (FAILURE, "No such SOP Instance"),
    0x0118: (FAILURE, "No such SOP Class"),
    0x0119: (FAILURE, "Class-Instance conflict"),
    0x0123: (FAILURE, "No such action"),
    0x0213: (FAILURE, "Resource limitation"),
    0x0107: (WARNING, "Attribute list error"),
}

SERVICES = ("C-ECHO", "C-STORE", "C-FIND", "C-GET", "C-MOVE", "N-ACTION", "N-EVENT-REPORT")


@dataclass(frozen=True)
class Status:
    code: int
    category: str
    meaning: str

    def __str__(self) -> str:
        return f"0x{self.code:04X} ({self.category}: {self.meaning})"


def classify(code: int, service: str = "C-STORE") -> Status:
    """What ``code`` means for ``service``; ``unknown`` when the service does not define it."""
    if service == "C-ECHO":
        table = {0x0000: (SUCCESS, "Success")}
    elif service == "C-STORE":
        table = dict(_STORE)
        high = code & 0xFF00
        if high == 0xA700:
            return Status(code, FAILURE, "Refused: out of resources")
        if high == 0xA900:
            return Status(code, FAILURE, "Error: data set does not match SOP Class")
        if code & 0xF000 == 0xC000:
            return Status(code, FAILURE, "Error: cannot understand")
    elif service == "C-FIND":
        table = dict(_FIND)
    elif service in ("C-GET", "C-MOVE"):
        table = dict(_RETRIEVE) | (_MOVE_ONLY if service == "C-MOVE" else {})
    else:
        table = dict(_N_SERVICE)
    if service in ("C-FIND", "C-GET", "C-MOVE"):
        if code & 0xFF00 == 0xA900:
            return Status(code, FAILURE, "Identifier does not match SOP Class")
        if code & 0xF000 == 0xC000:
            return Status(code, FAILURE, "Unable to process")
    if code in table:
        category, meaning = table[code]
        return Status(code, category, meaning)
    if code in _GENERAL_FAILURES:
        return Status(code, FAILURE, _GENERAL_FAILURES[code])
    return Status(code, UNKNOWN, f"not a status {service} defines")
