"""UIDs: the few names the suite uses everywhere, and their names for dumps.

Standard UIDs come from pydicom (:mod:`pydicom.uid`: transfer syntaxes, well-known names) and
pynetdicom (:mod:`pynetdicom.sop_class`); no standard UID is written out anywhere else in the
engine, suites, peers or fixtures. What those lack lives here: the application context name and
our own UID root.
"""

from __future__ import annotations

from pydicom import config
from pydicom.uid import (
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)
from pynetdicom.sop_class import SecondaryCaptureImageStorage, Verification

from dcmconform.base.text import printable

APPLICATION_CONTEXT = "1.2.840.10008.3.1.1.1"  # the DICOM application context name (PS3.7 A.2.1)
OUR_ROOT = "1.2.826.0.1.3680043.10.1482"  # dcmconform's UID root: every UID we make starts here

# Short names the checks use everywhere.
VERIFICATION = Verification
SECONDARY_CAPTURE = SecondaryCaptureImageStorage
IMPLICIT_LE = ImplicitVRLittleEndian
EXPLICIT_LE = ExplicitVRLittleEndian
DEFLATED_LE = DeflatedExplicitVRLittleEndian
EXPLICIT_BE = ExplicitVRBigEndian
NATIVE_SYNTAXES = [EXPLICIT_LE, IMPLICIT_LE]


def _dictionary_name(uid: str) -> str | None:
    """pydicom's name for a standard UID, ``None`` for one it does not know."""
    value = uid.rstrip("\x00 ")
    name = UID(value, validation_mode=config.IGNORE).name  # evidence UIDs may be anything
    return None if name == value else name


def uid_name(uid: str) -> str | None:
    """``SecondaryCaptureImageStorage`` for a known UID, ``None`` for an unknown one."""
    name = _dictionary_name(uid)
    if name is None:
        return None
    return "".join(ch for ch in name if ch.isalnum())


def show_uid(uid: str) -> str:
    """The classic toolkit log style (RZDCX, DCMTK): ``=Name`` for known UIDs, the UID itself (escaped) otherwise."""
    name = uid_name(uid)
    return f"={name}" if name else printable(uid, ascii_only=True)


def describe_uid(uid: str) -> str:
    """``Secondary Capture Image Storage (1.2.840.10008.5.1.4.1.1.7)`` for prose."""
    name = _dictionary_name(uid)
    return f"{name} ({uid})" if name else printable(uid, ascii_only=True)
