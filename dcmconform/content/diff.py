"""What came back against what was sent: the attribute-by-attribute diff (PS3.4 B.4.1, B.4.2).

:func:`diff` lists every element changed, dropped or added (tag, keyword, VR, the two values
shortened and escaped), recursing into sequence items. Some changes are a node's right, whatever its
storage level; each such change carries the clause that allows it (:attr:`Change.allowed`):

- group length elements (gggg,0000) are not compared at all (PS3.5 7.2: retired, may be dropped);
- a zero-length element dropped (PS3.4 B.4.1: a Level 2 SCP may discard zero-length Type 3 attributes);
- Specific Character Set changed while every text reads the same (PS3.5 6.1: another repertoire for the
  same characters; the values are compared decoded);
- what a change of transfer syntax implies (PS3.5 8.2, PS3.3 C.7.6.3.1.2): Photometric Interpretation
  between the YBR forms of a compressed stream and RGB, Planar Configuration;
- Lossy Image Compression and its ratio and method added when the node compressed lossily (PS3.3
  C.7.6.1.1.5, PS3.4 B.4.1.3), and Original Attributes Sequence added, which records a coercion (PS3.3
  C.12.1.1.9).

Every other change is a coercion the node must have announced (0xB000) and documented. Pixel data is
compared by :mod:`dcmconform.content.pixels`, not here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag

from dcmconform.content.pixels import PIXEL_DATA, PixelComparison, compare_pixels

CHANGED, DROPPED, ADDED = "changed", "dropped", "added"
WIDTH = 72  # characters of a value shown in evidence (a whole UID fits)

SPECIFIC_CHARACTER_SET = 0x00080005
ORIGINAL_ATTRIBUTES = 0x04000561
PHOTOMETRIC = 0x00280004
PLANAR_CONFIGURATION = 0x00280006
LOSSY = {0x00282110: "Lossy Image Compression", 0x00282112: "Lossy Image Compression Ratio",
         0x00282114: "Lossy Image Compression Method"}
YBR = {"YBR_FULL", "YBR_FULL_422", "YBR_RCT", "YBR_ICT", "YBR_PARTIAL_420"}

# The clauses that let a node make a change (Change.allowed).
ALLOWED_DROP_EMPTY = "PS3.4 B.4.1: a Level 2 SCP may discard Type 3 attributes of zero length"
ALLOWED_CHARSET = "PS3.5 6.1: the text is the same, written in another character repertoire"
ALLOWED_COLOUR = "PS3.5 8.2, PS3.3 C.7.6.3.1.2: the colour model follows the transfer syntax's encoding"
ALLOWED_LOSSY = "PS3.3 C.7.6.1.1.5, PS3.4 B.4.1.3: a lossily compressed image says so"
ALLOWED_ORIGINAL = "PS3.3 C.12.1.1.9: Original Attributes Sequence records a coercion"


def escape(value: object, width: int = WIDTH) -> str:
    """A value as evidence: bytes as their length (or repr when short), control characters escaped, shortened."""
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, bytes | bytearray):
        text = repr(bytes(value)) if len(value) <= 16 else f"<{len(value)} bytes>"
    else:
        text = str(value).encode("unicode_escape").decode("ascii") if not str(value).isprintable() else str(value)
    return text if len(text) <= width else text[:width - 3] + "..."


@dataclass(frozen=True)
class Change:
    """One element changed, dropped or added; ``allowed`` is the clause that lets the node do it, or ""."""

    kind: str
    path: str  # the sequence items it is inside, "ReferencedSeriesSequence[0]." or ""
    tag: BaseTag
    keyword: str
    vr: str
    sent: str
    got: str
    allowed: str = ""

    @property
    def private(self) -> bool:
        return self.tag.is_private

    @property
    def name(self) -> str:
        keyword = self.keyword or ("private" if self.private else "unknown")
        return f"{self.path}({self.tag.group:04X},{self.tag.element:04X}) {keyword}"

    def line(self) -> str:
        if self.kind == CHANGED:
            text = f"changed {self.name} {self.vr}: {self.sent!r} -> {self.got!r}"
        elif self.kind == DROPPED:
            text = f"dropped {self.name} {self.vr} (sent {self.sent!r})"
        else:
            text = f"added {self.name} {self.vr} = {self.got!r}"
        return text + (f" [allowed: {self.allowed}]" if self.allowed else "")


@dataclass
class Difference:
    """Every element change and the pixel comparison of one object."""

    changes: list[Change] = field(default_factory=list)
    pixels: PixelComparison | None = None

    @property
    def missing(self) -> list[str]:
        return [c.name for c in self.changes if c.kind == DROPPED]

    @property
    def changed(self) -> list[str]:
        return [f"{c.name}: {c.sent} -> {c.got}" for c in self.changes if c.kind == CHANGED]

    @property
    def added(self) -> list[str]:
        return [f"{c.name} = {c.got}" for c in self.changes if c.kind == ADDED]

    @property
    def coerced(self) -> bool:
        """Any element changed, dropped or added (allowed or not)."""
        return bool(self.changes)

    @property
    def unexplained(self) -> list[Change]:
        """The changes no clause allows: coercion, to be announced with 0xB000."""
        return [c for c in self.changes if not c.allowed]

    @property
    def pixels_lost(self) -> bool:
        return self.pixels is not None and self.pixels.lost

    def lines(self) -> list[str]:
        out = [c.line() for c in self.changes]
        if self.pixels is not None:
            out.append(f"pixel data: {self.pixels.detail}")
        return out


def _raw_text(elem: DataElement) -> bytes | None:
    """The bytes of a text element as an Implicit VR reader sees an unknown (private) one: UN."""
    if elem.VR == "UN" and isinstance(elem.value, bytes):
        return elem.value.rstrip(b"\x00 ")
    if isinstance(elem.value, str):
        return elem.value.encode("latin-1", "replace").rstrip(b"\x00 ")
    return None


def _equal(a: DataElement, b: DataElement) -> bool:
    if a.value == b.value:
        return True
    if "UN" in (a.VR, b.VR) and a.VR != b.VR:  # a private element read back in Implicit VR: compare its bytes
        return _raw_text(a) is not None and _raw_text(a) == _raw_text(b)
    # Empty and absent-value forms (None, "", []) mean the same on the wire.
    return not a.value and not b.value


def _change(kind: str, elem: DataElement, path: str, sent: object, got: object, allowed: str = "") -> Change:
    return Change(kind, path, elem.tag, elem.keyword, str(elem.VR), escape(sent), escape(got), allowed)


def _allowed_change(tag: int, sent: Dataset, got: Dataset) -> str:
    if tag == SPECIFIC_CHARACTER_SET:
        return ALLOWED_CHARSET  # the texts themselves are compared decoded: a garbled one is its own change
    if tag == PHOTOMETRIC and {str(sent.get("PhotometricInterpretation", "")),
                               str(got.get("PhotometricInterpretation", ""))} <= YBR | {"RGB"}:
        return ALLOWED_COLOUR
    if tag == PLANAR_CONFIGURATION:
        return ALLOWED_COLOUR
    return ""


def _allowed_addition(tag: int, got: Dataset) -> str:
    if tag in LOSSY:
        return ALLOWED_LOSSY if tag != 0x00282110 or str(got.get("LossyImageCompression", "")) == "01" else ""
    if tag == ORIGINAL_ATTRIBUTES:
        return ALLOWED_ORIGINAL
    if tag == PLANAR_CONFIGURATION:
        return ALLOWED_COLOUR
    return ""


def compare_elements(sent: Dataset, got: Dataset, out: list[Change], path: str = "") -> None:
    """Append to ``out`` each element of ``sent`` changed or dropped in ``got``, and each added."""
    for elem in sent:
        if elem.tag == PIXEL_DATA or elem.tag.element == 0x0000:
            continue
        if elem.tag not in got:
            out.append(_change(DROPPED, elem, path, elem.value, None, "" if elem.value else ALLOWED_DROP_EMPTY))
            continue
        other = got[elem.tag]
        if isinstance(elem.value, Sequence):
            items = other.value if isinstance(other.value, Sequence) else []
            if len(items) != len(elem.value):
                out.append(_change(CHANGED, elem, path, f"{len(elem.value)} item(s)", f"{len(items)} item(s)"))
                continue
            for n, (mine, theirs) in enumerate(zip(elem.value, items, strict=True)):
                compare_elements(mine, theirs, out, f"{path}{elem.keyword or 'private'}[{n}].")
        elif not _equal(elem, other):
            out.append(_change(CHANGED, elem, path, elem.value, other.value, _allowed_change(elem.tag, sent, got)))
    for elem in got:
        if elem.tag not in sent and elem.tag.element != 0x0000 and elem.tag != PIXEL_DATA:
            out.append(_change(ADDED, elem, path, None, elem.value, _allowed_addition(elem.tag, got)))


def diff(sent: Dataset, sent_ts: str, got: Dataset, got_ts: str) -> Difference:
    """The attribute diff and the pixel comparison of ``got`` (read back in ``got_ts``) against ``sent``."""
    result = Difference()
    compare_elements(sent, got, result.changes)
    result.pixels = compare_pixels(sent, sent_ts, got, got_ts)
    return result


def compare(sent: Dataset, sent_ts: str, got: Dataset, got_ts: str) -> Difference:
    """:func:`diff` by the name the DIMSE checks use."""
    return diff(sent, sent_ts, got, got_ts)
