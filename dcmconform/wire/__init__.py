"""The DICOM upper-layer wire format: PDUs and items as plain dataclasses.

The encoder writes whatever it is given; the decoder is strict and raises only
:class:`WireError`. See :mod:`dcmconform.wire.pdus` and :mod:`dcmconform.wire.items`.
"""

from dcmconform.wire.errors import Truncated, WireError
from dcmconform.wire.items import *  # noqa: F403
from dcmconform.wire.items import APPLICATION_CONTEXT, RESULT_NAMES, Item, decode_items
from dcmconform.wire.pdus import *  # noqa: F403
from dcmconform.wire.pdus import PDU, PDU_NAMES, associate_rq, decode_pdu, header

__all__ = ["APPLICATION_CONTEXT", "PDU", "PDU_NAMES", "RESULT_NAMES", "Item", "Truncated", "WireError",
           "associate_rq", "decode_items", "decode_pdu", "header"]
