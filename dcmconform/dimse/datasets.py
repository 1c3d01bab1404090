"""Data sets on the wire, encoded and decoded by transfer syntax (PS3.5 10, A).

One place reads the transfer syntax: pydicom's :class:`~pydicom.uid.UID` says whether it is
implicit VR, little endian and deflated.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from io import BytesIO

from pydicom.dataset import Dataset
from pydicom.filereader import read_dataset
from pydicom.uid import UID
from pydicom.valuerep import VR
from pynetdicom.dsutils import encode

from dcmconform.base.limits import MAX_MESSAGE, TargetMisbehaved

HEAD = 65536  # bytes read for the leading elements of a data set
_STEP = 4 * 1024 * 1024  # bytes inflated at a time


def encoding(transfer_syntax: str) -> tuple[bool, bool, bool]:
    """``(implicit VR, little endian, deflated)`` for ``transfer_syntax``; a UID pydicom does not know
    as a transfer syntax (a private one) is taken as explicit VR little endian, the default encoding."""
    ts = UID(transfer_syntax)
    try:
        return ts.is_implicit_VR, ts.is_little_endian, ts.is_deflated
    except ValueError:
        return False, True, False


class InflationBomb(TargetMisbehaved):
    """A Deflated data set that inflates past :data:`~dcmconform.base.limits.MAX_MESSAGE`: not inflated further."""


def inflate(data: bytes, head: int = 0, limit: int = MAX_MESSAGE) -> bytes | bytearray:
    """``data`` (raw deflate, PS3.5 A.5) inflated: its first ``head`` bytes only when ``head`` is given,
    else the whole of it, at most ``limit`` bytes: past that :class:`InflationBomb` (a finding; a
    1.5 MB data set that inflates to 1.5 GB never reaches our memory)."""
    inflater = zlib.decompressobj(-15)
    if head:
        return inflater.decompress(data, head)
    # In steps into one buffer: zlib's own max_length output is built in blocks and then joined (twice
    # the limit at its peak), and a bomb is best found before the limit is ever allocated whole.
    out = bytearray()
    pending: bytes = data
    while pending and not inflater.eof:
        out += inflater.decompress(pending, _STEP)
        pending = inflater.unconsumed_tail
        if len(out) > limit:
            raise InflationBomb(f"a Deflated data set of {len(data)} bytes inflates past {limit} bytes "
                                "(a decompression bomb); not inflated further")
    out += inflater.flush()  # what zlib still held when the input ran out (at most its 32 KiB window)
    return out


def decode_data_set(data: bytes, transfer_syntax: str,
                    stop_when: Callable[[int, str | None, int], bool] | None = None, head: int = 0) -> Dataset:
    """``data`` read as ``transfer_syntax`` says (inflated first when deflated).

    ``head``: read only the first ``head`` bytes (after inflating); ``stop_when``: pydicom's
    early stop, for reading leading elements without the pixel data."""
    implicit, little, deflated = encoding(transfer_syntax)
    plain = inflate(data, head) if deflated else data[:head] if head else data
    return read_dataset(BytesIO(plain), is_implicit_VR=implicit, is_little_endian=little, stop_when=stop_when)


def vr_form_matches(data: bytes, transfer_syntax: str) -> bool:
    """Whether the first element of ``data`` is in the VR form ``transfer_syntax`` says: a VR after the tag
    (explicit) or not (implicit). Decoding alone does not tell: pydicom reads a data set in the other form
    when it finds one."""
    implicit, _, deflated = encoding(transfer_syntax)
    head = inflate(data, 16) if deflated else data[:16]
    if len(head) < 8:
        return True
    explicit = head[4:6].decode("latin-1") in _VRS
    return explicit != implicit


_VRS = {str(vr) for vr in VR}


def encode_data_set(ds: Dataset, transfer_syntax: str) -> bytes:
    """``ds`` as bytes in ``transfer_syntax`` (deflated when it says so)."""
    return encode(ds, *encoding(transfer_syntax)) or b""
