"""A DIMSE status as both commands word it: its meaning, its category, and what a failure status asks for."""

from __future__ import annotations

from pynetdicom import status as dimse_status

from dcmconform.diagnosis.attempt import FAILURE, SUCCESS, WARNING


def status_words(status: int | None, command: str = "C-STORE") -> str:
    if status is None:
        return "no status"
    table = dimse_status.STORAGE_SERVICE_CLASS_STATUS if command == "C-STORE" else dimse_status.VERIFICATION_SERVICE_CLASS_STATUS
    entry = table.get(status) or dimse_status.GENERAL_STATUS.get(status)
    meaning = (entry[1] or entry[0]) if entry else dimse_status.code_to_category(status)
    return f"0x{status:04X} {meaning}"


def status_category(status: int) -> str:
    category = dimse_status.code_to_category(status)
    return {"Success": SUCCESS, "Warning": WARNING, "Failure": FAILURE, "Cancel": FAILURE}.get(category, FAILURE)


def store_failure_advice(status: int | None) -> str:
    """What a C-STORE failure status asks of whoever runs the node (worded for the sender's side)."""
    if status is None:
        return "The node sent no status. Look at its log for this instance."
    if 0xA700 <= status <= 0xA7FF:
        return "The node is out of resources (usually disk space or a licence limit); ask its admin to free space."
    if 0xA900 <= status <= 0xA9FF:
        return "The node says the object does not match its SOP class: validate it (dciodvfy) and fix the sender."
    if 0xC000 <= status <= 0xCFFF:
        return ("The node cannot understand the object: check its encoding and transfer syntax, and send the same "
                "file with another tool (DCMTK storescu) to see whether the file or the sender is at fault.")
    if status == 0x0122:
        return "The node says it does not support this SOP class, although it accepted the presentation context."
    if status == 0x0124:
        return "The node refuses this for our calling AE title (not authorized); ask its admin for the permission."
    return "Look at the node's log for this instance; the status and Error Comment say what it disliked."
