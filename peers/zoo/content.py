"""What the zoo does to the content of what it stores and gives back, one defect at a time (the content
checks, suites/content). The clean zoo stores the data set byte for byte and sends it back in the syntax
it was stored in; these switches change that:

- coerce-silently: changes Study Description on store and still answers 0x0000;
- coerce-silently-no-get: the same, on a zoo that offers no C-GET (its contexts rejected, result 3), so the
  content checks read the object back by C-MOVE (and must still see the change);
- drop-private-elements: stores the object without its private elements, answering 0x0000;
- introduce-iod-error: empties Modality (Type 1) on store, answering 0xB000 with an Error Comment (so the
  change is announced, and the object is no longer valid);
- transcode-changes-pixels: sends an object a requestor takes only uncompressed decompressed, one pixel
  value changed;
- transcode-drops-lossy-flag: sends an object a requestor takes only uncompressed decompressed, without
  Lossy Image Compression (0028,2110).
"""

from __future__ import annotations

from collections.abc import Callable

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from dcmconform.dimse.datasets import decode_data_set, encode_data_set

STORE_DEFECTS = ("coerce-silently", "coerce-silently-no-get", "drop-private-elements", "introduce-iod-error")
NO_GET = "coerce-silently-no-get"  # negotiation.py rejects the C-GET models with it
TRANSCODE_DEFECTS = ("transcode-changes-pixels", "transcode-drops-lossy-flag")
COERCED_DESCRIPTION = "COERCED BY THE ZOO"


def _recode(data: bytes, ts: str, change: Callable[[Dataset], None]) -> bytes:
    ds = decode_data_set(data, ts)
    change(ds)
    return encode_data_set(ds, ts)


def on_store(defects: set[str] | frozenset[str], data: bytes, ts: str) -> tuple[bytes, int, str]:
    """The data set the zoo keeps, the status to answer and its Error Comment ("" for none)."""
    if "coerce-silently" in defects or NO_GET in defects:
        def describe(ds: Dataset) -> None:
            ds.StudyDescription = COERCED_DESCRIPTION
        return _recode(data, ts, describe), 0x0000, ""
    if "drop-private-elements" in defects:
        return _recode(data, ts, lambda ds: ds.remove_private_tags()), 0x0000, ""
    if "introduce-iod-error" in defects:
        def empty_modality(ds: Dataset) -> None:
            ds.Modality = ""
        return _recode(data, ts, empty_modality), 0xB000, "Modality coerced"
    return data, 0x0000, ""


def transcoded(defects: set[str] | frozenset[str], data: bytes, ts: str, accepted: list[str]) -> tuple[bytes, str] | None:
    """With a transcoding defect on, ``data`` (in ``ts``) decompressed into the first of Explicit/Implicit VR
    Little Endian in ``accepted``, the defect applied; ``None`` when the zoo sends nothing of the kind."""
    if not any(d in defects for d in TRANSCODE_DEFECTS):
        return None
    out = next((t for t in (ExplicitVRLittleEndian, ImplicitVRLittleEndian) if t in accepted), None)
    if out is None or out == ts:
        return None
    ds = decode_data_set(data, ts)
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ts
    if "PixelData" in ds and ds["PixelData"].is_undefined_length:
        ds.decompress(generate_instance_uid=False)
    if "transcode-changes-pixels" in defects and "PixelData" in ds:
        pixels = bytearray(ds.PixelData)
        pixels[len(pixels) // 2] ^= 0x01
        ds.PixelData = bytes(pixels)
    if "transcode-drops-lossy-flag" in defects and "LossyImageCompression" in ds:
        del ds.LossyImageCompression
    del ds.file_meta
    return encode_data_set(ds, out), out
