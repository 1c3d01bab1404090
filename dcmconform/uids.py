"""UID names for dumps, taken from pydicom's UID dictionary (no hand-kept table)."""

from __future__ import annotations

from pydicom._uid_dict import UID_dictionary

VERIFICATION = "1.2.840.10008.1.1"
SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
IMPLICIT_LE = "1.2.840.10008.1.2"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
DEFLATED_LE = "1.2.840.10008.1.2.1.99"
EXPLICIT_BE = "1.2.840.10008.1.2.2"
NATIVE_SYNTAXES = [EXPLICIT_LE, IMPLICIT_LE]


def _dictionary_name(uid: str) -> str | None:
    entry = UID_dictionary.get(uid.rstrip("\x00 "))
    return entry[0] if entry else None


def printable(text: str) -> str:
    """Raw field text with control and non-ASCII bytes shown as escapes."""
    return "".join(c if 32 <= ord(c) < 127 else f"\\x{ord(c):02x}" for c in text)


def uid_name(uid: str) -> str | None:
    """``SecondaryCaptureImageStorage`` for a known UID, ``None`` for an unknown one."""
    name = _dictionary_name(uid)
    if name is None:
        return None
    return "".join(ch for ch in name if ch.isalnum())


def show_uid(uid: str) -> str:
    """The seed's log style: ``=Name`` for known UIDs, the UID itself (escaped) otherwise."""
    name = uid_name(uid)
    return f"={name}" if name else printable(uid)


def describe_uid(uid: str) -> str:
    """``Secondary Capture Image Storage (1.2.840.10008.5.1.4.1.1.7)`` for prose."""
    name = _dictionary_name(uid)
    return f"{name} ({uid})" if name else printable(uid)
