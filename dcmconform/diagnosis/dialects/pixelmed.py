"""PixelMed's tools (and any Java tool's exception lines): a ``com.pixelmed...Exception`` or ``java....Exception``
that says what happened, ``A-ASSOCIATE-RJ indication - rejected-permanent by DICOM UL Service User, ...``."""

from __future__ import annotations

from dcmconform.diagnosis import attempt as at
from dcmconform.diagnosis.dialects.common import reject_reason, reject_source
from dcmconform.diagnosis.reader import Dialect, LogReader


def java_exception(r: LogReader, t: str, low: str) -> bool:
    """PixelMed: "com.pixelmed.network.DicomNetworkException: A-ASSOCIATE-RJ indication - rejected-permanent
    by DICOM UL Service User, called AE Title not recognized"."""
    if low.startswith("com.pixelmed"):
        r.formats.add("PixelMed")
    if "no presentation context for" in low:
        return False  # "... No presentation context for Abstract Syntax 1.2.840...": a request not sent
    cur = r.attempt()
    if "a-associate-rj" in low:
        cur.outcome = at.REJECTED
        cur.connect = at.CONNECTED
        cur.reject = (1 if "permanent" in low else 2, reject_source(low.split(" by ", 1)[-1]) or 1,
                      reject_reason(low) or 1)
    elif "connection refused" in low:
        cur.connect = at.REFUSED
    cur.errors.append(t)
    return True


PIXELMED = Dialect("PixelMed", lambda line: False)  # named by its first exception (java_exception)
