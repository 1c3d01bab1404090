"""The character sets a query check stores names in (PS3.5 6.1, Annexes H, I, J), and how a returned
name is judged: decoded with the Specific Character Set the answer declares, it must be the text we
stored; non-default bytes without a declared set, or an ISO 2022 escape left open, are wrong on their own.

The names are the standard's own examples where it gives one (PS3.5 H.3.1 Japanese, I.2 Korean, J.1
UTF-8, J.3 GB18030) and, for the single-byte sets, the names of the character set test objects that
DICOM toolkits ship (Latin-1, Greek, Cyrillic). Each has a wildcard key: a prefix ending inside the
non-ASCII text, then ``*``.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

from pydicom.charset import decode_bytes

ESC = 0x1B
MULTI_BYTE_G0 = (b"\x1b$B", b"\x1b$@", b"\x1b$(D")  # JIS X 0208 (IR 87), its 1978 form, JIS X 0212 (IR 159)
RETURN_G0 = (b"\x1b(B", b"\x1b(J")  # back to ASCII (IR 6) or JIS X 0201 Roman (IR 14)


@dataclass(frozen=True)
class CharacterSet:
    """One character set as a query check uses it."""

    short: str  # in the check's ID table and the object's Patient ID
    label: str
    value: tuple[str, ...]  # Specific Character Set (0008,0005), as stored
    name: str  # Patient's Name, decoded
    wildcard: str  # a wildcard key that matches ``name``
    clause: str

    @property
    def declared(self) -> str:
        return "\\".join(self.value)

    @property
    def iso2022(self) -> bool:
        return len(self.value) > 1 or self.value[0].startswith("ISO 2022")


SETS = [
    CharacterSet("latin1", "Latin-1 (ISO_IR 100)", ("ISO_IR 100",), "Buc^Jérôme", "Buc^Jér*", "PS3.5 6.1.2.3, Table C.12-2"),
    CharacterSet("greek", "Greek (ISO_IR 126)", ("ISO_IR 126",), "Διονυσιος", "Διον*", "PS3.5 6.1.2.3, Table C.12-2"),
    CharacterSet("cyrillic", "Cyrillic (ISO_IR 144)", ("ISO_IR 144",), "Люкceмбypг", "Люк*", "PS3.5 6.1.2.3, Table C.12-2"),
    CharacterSet("utf8", "Unicode UTF-8 (ISO_IR 192)", ("ISO_IR 192",), "Wang^XiaoDong=王^小東=", "Wang^XiaoDong=王^小*",
                 "PS3.5 Annex J.1"),
    CharacterSet("japanese", "Japanese with ISO 2022 escapes (ISO 2022 IR 87)", ("", "ISO 2022 IR 87"),
                 "Yamada^Tarou=山田^太郎=やまだ^たろう", "Yamada^Tarou=山田^*", "PS3.5 Annex H.3.1"),
    CharacterSet("korean", "Korean (ISO 2022 IR 149)", ("", "ISO 2022 IR 149"), "Hong^Gildong=洪^吉洞=홍^길동",
                 "Hong^Gildong=洪^吉*", "PS3.5 Annex I.2"),
    CharacterSet("gb18030", "Chinese (GB18030)", ("GB18030",), "Wang^XiaoDong=王^小东=", "Wang^XiaoDong=王^小东*",
                 "PS3.5 Annex J.3"),
]
BY_SHORT = {c.short: c for c in SETS}


def values_of(declared: object) -> list[str]:
    """Specific Character Set as a list of its values (pydicom gives a str or a MultiValue)."""
    if declared is None or declared == "":
        return []
    if isinstance(declared, str):
        return declared.split("\\")
    return [str(v) for v in declared]  # type: ignore[attr-defined]


def decode_name(raw: bytes, declared: list[str]) -> str:
    """``raw`` (a PN value's bytes) as text, decoded as ``declared`` says (the default repertoire when empty)."""
    from pydicom.charset import convert_encodings

    encodings = convert_encodings(declared or ["ISO_IR 6"])
    return decode_bytes(raw.rstrip(b" \x00"), encodings, {0x5E, 0x3D})  # ^ and = end an escape's reach


def escape_problems(raw: bytes) -> list[str]:
    """PS3.5 6.1.2.5.3: a multi-byte set designated into G0 (JIS X 0208, ESC $ B) is in force only until
    the value 1 set comes back, which it must before each ``^`` and ``=`` and at the end of the value."""
    problems: list[str] = []
    pos, multi = 0, False
    while pos < len(raw):
        if raw[pos] == ESC:
            if any(raw.startswith(e, pos) for e in MULTI_BYTE_G0):
                multi = True
            elif any(raw.startswith(e, pos) for e in RETURN_G0):
                multi = False
            pos += 3 + (raw.startswith(b"\x1b$(", pos))
            continue
        pos += 2 if multi else 1
    if multi and raw.rstrip(b" "):
        problems.append("the value ends with a multi-byte set still designated: no ESC ( B back to ASCII "
                        "(PS3.5 6.1.2.5.3)")
    return problems


def has_non_default(raw: bytes) -> bool:
    """Whether ``raw`` holds bytes outside the default repertoire (ISO-IR 6: printable ASCII, CR, LF, FF, TAB)."""
    return any(b > 0x7E or (b < 0x20 and b not in (0x09, 0x0A, 0x0C, 0x0D)) for b in raw)


def pn_matches(pattern: str, text: str) -> bool:
    """Whether ``text`` matches the wildcard key ``pattern`` (``*``, ``?``), ignoring case (PN matching may,
    PS3.4 C.2.2.2.1.1) and trailing spaces."""
    rx = fnmatch.translate(pattern.strip()).replace("(?s:", "(?:")
    return re.fullmatch(rx, text.strip(), re.IGNORECASE) is not None


def same_name(a: str, b: str) -> bool:
    """Whether two person names are the same text: trailing spaces and empty trailing components or
    component groups (``=`` and ``^`` at the end) are not significant (PS3.5 6.2.1)."""
    return a.rstrip(" \x00").rstrip("=^") == b.rstrip(" \x00").rstrip("=^")
