"""Element-by-element comparison of what we stored with what came back (nothing lost, PS3.4 B.4.1).

Pixel data is compared byte for byte when the syntax is the same, and value for value after
decoding when the target transcoded between lossless syntaxes; lossy pixel data is not compared.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import JPEG2000, JPEGBaseline8Bit, JPEGExtended12Bit, JPEGLSNearLossless

from dcmconform.base.uids import describe_uid

PIXEL_DATA = 0x7FE00010
LOSSY = {JPEGBaseline8Bit, JPEGExtended12Bit, JPEGLSNearLossless, JPEG2000}


@dataclass
class Difference:
    missing: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    pixels: str = ""
    pixels_lost: bool = False

    @property
    def coerced(self) -> bool:
        return bool(self.missing or self.changed or self.added)

    def lines(self) -> list[str]:
        out = [f"missing {m}" for m in self.missing] + [f"changed {c}" for c in self.changed]
        out += [f"added {a}" for a in self.added]
        if self.pixels:
            out.append(f"pixel data: {self.pixels}")
        return out


def _name(elem: DataElement, path: str) -> str:
    keyword = elem.keyword or "private/unknown"
    return f"{path}({elem.tag.group:04X},{elem.tag.element:04X}) {keyword}"


def _short(value: object) -> str:
    text = repr(value) if isinstance(value, bytes) and len(value) <= 16 else str(value)
    if isinstance(value, bytes) and len(value) > 16:
        text = f"<{len(value)} bytes>"
    return text if len(text) <= 60 else text[:57] + "..."


def _values_equal(a: DataElement, b: DataElement) -> bool:
    if a.value == b.value:
        return True
    # Empty and absent-value forms (None, "", []) mean the same on the wire.
    return not a.value and not b.value


def compare_elements(sent: Dataset, got: Dataset, diff: Difference, path: str = "") -> None:
    for elem in sent:
        if elem.tag == PIXEL_DATA or elem.tag.element == 0x0000:
            continue
        if elem.tag not in got:
            diff.missing.append(_name(elem, path))
            continue
        other = got[elem.tag]
        if isinstance(elem.value, Sequence):
            items = other.value if isinstance(other.value, Sequence) else []
            if len(items) != len(elem.value):
                diff.changed.append(f"{_name(elem, path)}: {len(elem.value)} item(s) -> {len(items)}")
                continue
            for n, (mine, theirs) in enumerate(zip(elem.value, items, strict=True)):
                compare_elements(mine, theirs, diff, f"{path}{elem.keyword}[{n}].")
        elif not _values_equal(elem, other):
            diff.changed.append(f"{_name(elem, path)}: {_short(elem.value)!s} -> {_short(other.value)!s}")
    for elem in got:
        if elem.tag not in sent and elem.tag.element != 0x0000:
            diff.added.append(f"{_name(elem, path)} = {_short(elem.value)}")


def _array(ds: Dataset, ts: str) -> object:
    from pydicom.dataset import FileMetaDataset

    copy = Dataset(ds)
    copy.file_meta = FileMetaDataset()
    copy.file_meta.TransferSyntaxUID = ts
    return copy.pixel_array


def compare_pixels(sent: Dataset, sent_ts: str, got: Dataset, got_ts: str, diff: Difference) -> None:
    if PIXEL_DATA not in sent:
        return
    if PIXEL_DATA not in got:
        diff.pixels, diff.pixels_lost = "missing", True
        return
    if sent_ts == got_ts and sent.PixelData == got.PixelData:
        diff.pixels = "identical bytes"
        return
    lossy = sent_ts in LOSSY or got_ts in LOSSY
    if lossy:
        diff.pixels = (f"lossy; sent as {describe_uid(sent_ts)}, returned as {describe_uid(got_ts)}; "
                       "values not compared")
        return
    try:
        import numpy as np

        a, b = _array(sent, sent_ts), _array(got, got_ts)
    except Exception as exc:  # noqa: BLE001 - no decoder here is a fact to report, not a verdict
        diff.pixels = f"returned as {describe_uid(got_ts)}; could not decode to compare ({exc})"
        return
    if np.array_equal(a, b):  # type: ignore[arg-type]
        how = "identical values after decoding" + ("" if sent_ts == got_ts else f" (transcoded to {describe_uid(got_ts)})")
        diff.pixels = how
    else:
        diff.pixels, diff.pixels_lost = f"pixel values differ (returned as {describe_uid(got_ts)})", True


def compare(sent: Dataset, sent_ts: str, got: Dataset, got_ts: str) -> Difference:
    diff = Difference()
    compare_elements(sent, got, diff)
    compare_pixels(sent, sent_ts, got, got_ts, diff)
    return diff
