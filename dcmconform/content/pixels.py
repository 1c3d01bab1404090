"""Pixel data by transfer syntax: decode what was sent and what came back, and compare the values.

Decoding is pydicom's, with the pylibjpeg plugins (libjpeg for the JPEG family and JPEG-LS,
OpenJPEG for JPEG 2000, the RLE plugin) and pyjpegls. Lossless pixel data must come back with the
same values whatever the syntax it comes back in (PS3.5 8, 10); lossy pixel data is not compared by
value, but must be marked Lossy Image Compression "01" (PS3.3 C.7.6.1.1.5).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    JPEG2000,
    UID,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLSNearLossless,
)

from dcmconform.base.uids import describe_uid

PIXEL_DATA = 0x7FE00010
LOSSY_SYNTAXES = {JPEGBaseline8Bit, JPEGExtended12Bit, JPEGLSNearLossless, JPEG2000}

IDENTICAL, SAME_VALUES, LOSSY, DIFFER, MISSING, UNDECODABLE = (
    "identical bytes", "same values", "lossy", "differ", "missing", "undecodable")


@dataclass(frozen=True)
class PixelComparison:
    """How the pixel data came back: ``kind`` (one of the constants above) and a sentence of evidence."""

    kind: str
    detail: str

    @property
    def lost(self) -> bool:
        """The lossless pixel data did not come back as sent (missing or other values)."""
        return self.kind in (MISSING, DIFFER)


def values(ds: Dataset, transfer_syntax: str) -> Any:
    """The pixel values of ``ds`` (its pixel data encoded as ``transfer_syntax`` says), as a numpy array."""
    copy = Dataset(ds)
    copy.file_meta = FileMetaDataset()
    copy.file_meta.TransferSyntaxUID = UID(transfer_syntax)
    return copy.pixel_array


def lossy_marked(ds: Dataset) -> bool:
    """Lossy Image Compression (0028,2110) is "01"."""
    return str(ds.get("LossyImageCompression", "")).strip() == "01"


def first_difference(a: Any, b: Any) -> str:
    """Where two arrays of the same shape first differ, and how many values differ."""
    import numpy as np

    where = np.argwhere(a != b)
    index = tuple(int(i) for i in where[0])
    return (f"{len(where)} of {a.size} values differ; first at index {index}: sent {a[index]}, "
            f"received {b[index]}")


def compare_pixels(sent: Dataset, sent_ts: str, got: Dataset, got_ts: str) -> PixelComparison | None:
    """The pixel data of ``got`` against ``sent``'s; ``None`` when ``sent`` has none."""
    if PIXEL_DATA not in sent:
        return None
    how = "" if sent_ts == got_ts else f" (sent as {describe_uid(sent_ts)}, returned as {describe_uid(got_ts)})"
    if PIXEL_DATA not in got:
        return PixelComparison(MISSING, "the pixel data did not come back" + how)
    if sent_ts == got_ts and sent.PixelData == got.PixelData:
        return PixelComparison(IDENTICAL, "identical bytes")
    if sent_ts in LOSSY_SYNTAXES or got_ts in LOSSY_SYNTAXES:
        return PixelComparison(LOSSY, "lossy compression: values not compared" + how)
    try:
        import numpy as np

        a, b = values(sent, sent_ts), values(got, got_ts)
    except Exception as exc:  # noqa: BLE001 - no decoder, or a stream that does not decode: evidence, not a crash
        return PixelComparison(UNDECODABLE, f"could not decode to compare{how}: {exc}")
    if a.shape != b.shape:
        return PixelComparison(DIFFER, f"{a.shape} values sent, {b.shape} received{how}")
    if np.array_equal(a, b):
        return PixelComparison(SAME_VALUES, f"identical values after decoding{how}")
    return PixelComparison(DIFFER, first_difference(a, b) + how)
