"""Names of SOP classes and transfer syntaxes: as toolkits print them in their logs (to a UID), and as
our findings print them (from a UID)."""

from __future__ import annotations

import re

from pydicom import uid
from pynetdicom import sop_class

# Names in logs -> UIDs ---------------------------------------------------------------------

# DCMTK's names of the transfer syntaxes, where they differ from pydicom's
_DCMTK_ALIASES = {
    "littleendianimplicit": uid.ImplicitVRLittleEndian,
    "littleendianexplicit": uid.ExplicitVRLittleEndian,
    "bigendianexplicit": uid.ExplicitVRBigEndian,
    "deflatedlittleendianexplicit": uid.DeflatedExplicitVRLittleEndian,
    "jpegbaseline": uid.JPEGBaseline8Bit,
    "jpegextendedprocess24": uid.JPEGExtended12Bit,
    "jpeglosslessnonhierarchicalprocess14": uid.JPEGLossless,
    "jpeglosslessnonhierarchical1storderprediction": uid.JPEGLosslessSV1,
    "jpeglslossless": uid.JPEGLSLossless,
    "jpeglslossy": uid.JPEGLSNearLossless,
    "jpeg2000losslessonly": uid.JPEG2000Lossless,
    "jpeg2000": uid.JPEG2000,
    "rlelossless": uid.RLELossless,
}
_BY_NAME: dict[str, str] = {}
UID_TEXT = re.compile(r"^[0-9]+(?:\.[0-9]+)+$")


def _key(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _known_uids() -> list[uid.UID]:
    """Every standard UID pydicom and pynetdicom name as constants (SOP classes, transfer syntaxes)."""
    found: dict[str, uid.UID] = {}
    for module in (uid, sop_class):
        for value in vars(module).values():
            if isinstance(value, uid.UID) and value.keyword:  # in the DICOM dictionary
                found.setdefault(str(value), value)
    return sorted(found.values(), key=lambda u: tuple(int(part) for part in u.split(".")))


def _names() -> dict[str, str]:
    if not _BY_NAME:
        for known in _known_uids():
            for label in (known.name, known.keyword):
                if label:
                    _BY_NAME.setdefault(_key(label), str(known))
                    _BY_NAME.setdefault(_key(label).removesuffix("sopclass"), str(known))
        _BY_NAME.update(_DCMTK_ALIASES)
    return _BY_NAME


def resolve(text: str) -> str:
    """The UID for a name as toolkits print it (``=SecondaryCaptureImageStorage``,
    ``=Secondary Capture Image Storage``, ``FINDModalityWorklistInformationModel``); a UID as is;
    an unknown name without its ``=``."""
    value = text.strip().lstrip("=").strip()
    if value.startswith("[") and value.endswith("]"):
        value = value[1:-1]
    if UID_TEXT.match(value):
        return value
    table = _names()
    key = _key(value)
    for candidate in (key, key.removesuffix("sopclass")):
        if candidate in table:
            return table[candidate]
    for verb in ("find", "move", "get"):  # DCMTK puts the verb first
        if key.startswith(verb) and key[len(verb):] + verb in table:
            return table[key[len(verb):] + verb]
    return value


# Names in findings ------------------------------------------------------------------------

_UID_LIKE = re.compile(r"^[0-9]+(\.[0-9]+)*$")


def name(uid_or_name: str) -> str:
    """``Secondary Capture Image Storage`` for a known UID; anything else as given."""
    text = uid_or_name.strip().lstrip("=")
    if not text:
        return "(unnamed)"
    if not _UID_LIKE.match(text):
        return text
    return uid.UID(text).name.removesuffix(" SOP Class")


def names(items: list[str], limit: int = 6) -> str:
    """``A, B and C``; long lists end with ``and 12 more``."""
    shown = [name(i) for i in items]
    if not shown:
        return "nothing"
    if len(shown) > limit:
        return ", ".join(shown[:limit]) + f" and {len(shown) - limit} more"
    if len(shown) == 1:
        return shown[0]
    return ", ".join(shown[:-1]) + " and " + shown[-1]
