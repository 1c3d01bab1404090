"""The embedded SCP's archive: what it stored, found again with C-FIND and sent back with C-GET.

pynetdicom does the DIMSE work (responses, pending statuses, C-CANCEL bookkeeping, C-STORE
sub-operations in a transfer syntax the requestor accepted); this module holds only what it
leaves to the application, as event handlers:

- ``on_store`` (EVT_C_STORE) writes the data set as received (``event.encoded_dataset()``, no
  re-encoding) under the folder and indexes its attributes, bulk data left out;
- ``on_find`` (EVT_C_FIND, Patient and Study Root) matches the identifier against the index
  (PS3.4 C.2.2.2: single value, universal, wild card ``*`` ``?``, range ``a-b`` ``a-`` ``-b`` on
  DA/TM/DT, list of UIDs), one pending response per entity at the Query/Retrieve Level, and
  stops with 0xFE00 on a C-CANCEL (``event.is_cancelled``);
- ``on_get`` (EVT_C_GET) yields the matching files, read back in the syntax they were stored in:
  pynetdicom sends each on the requestor's context for exactly that syntax when it accepted one
  (and converts only between uncompressed syntaxes otherwise).

Matching is on the instances' own attributes, hierarchical keys included (a STUDY query naming a
Modality finds the studies with a series of that modality). No C-MOVE: it needs destinations.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydicom import dcmread
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pynetdicom.sop_class import (
    PatientRootQueryRetrieveInformationModelFind,
    PatientRootQueryRetrieveInformationModelGet,
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelGet,
)

PATIENT_ROOT = ("PATIENT", "STUDY", "SERIES", "IMAGE")
LEVELS = {
    PatientRootQueryRetrieveInformationModelFind: PATIENT_ROOT,
    PatientRootQueryRetrieveInformationModelGet: PATIENT_ROOT,
    StudyRootQueryRetrieveInformationModelFind: PATIENT_ROOT[1:],
    StudyRootQueryRetrieveInformationModelGet: PATIENT_ROOT[1:],
}
UNIQUE = {"PATIENT": "PatientID", "STUDY": "StudyInstanceUID", "SERIES": "SeriesInstanceUID",
          "IMAGE": "SOPInstanceUID"}
NOT_MATCHED = {"QueryRetrieveLevel", "SpecificCharacterSet", "RetrieveAETitle", "InstanceAvailability"}
BULK_VRS = {"OB", "OD", "OF", "OL", "OV", "OW", "UN"}
RANGE_VRS = {"DA", "TM", "DT"}
WILDCARD_VRS = {"AE", "CS", "LO", "LT", "PN", "SH", "ST", "UC", "UR", "UT"}
INVALID_IDENTIFIER = 0xA900  # "Identifier does not match SOP Class" (PS3.4 C.4.1.1.4, C.4.3.1.4)


def _values(elem: DataElement) -> list[str]:
    value = elem.value
    items = value if isinstance(value, MultiValue | list) else [value]
    return [str(v).strip() for v in items if v is not None and str(v).strip()]


def key_matches(key: DataElement, record: Dataset) -> bool:
    """Does the instance ``record`` match one query key (PS3.4 C.2.2.2)?"""
    wanted = _values(key)
    if key.VR == "SQ" or not wanted:
        return True  # universal matching (sequence matching: the sequence is only a return key)
    have = _values(record[key.tag]) if key.tag in record else []
    for pattern in wanted:
        if key.VR in RANGE_VRS and "-" in pattern:
            low, _, high = pattern.partition("-")
            hit = any((not low or v >= low) and (not high or v <= high) for v in have)
        elif key.VR in WILDCARD_VRS and ("*" in pattern or "?" in pattern):
            regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
            hit = any(re.fullmatch(regex, v, re.DOTALL) for v in have)
        else:
            hit = pattern in have  # single value; for UI, each value of a list of UIDs
        if hit:
            return True
    return False


def answer(query: Dataset, record: Dataset, level: str) -> Dataset:
    """The pending response's identifier: every requested key, with the record's value or empty."""
    out = Dataset()
    if "SpecificCharacterSet" in record:
        out.SpecificCharacterSet = record.SpecificCharacterSet
    for key in query:
        if key.keyword in ("QueryRetrieveLevel", "SpecificCharacterSet"):
            continue
        out.add(record[key.tag] if key.tag in record else DataElement(key.tag, key.VR, None))
    out.QueryRetrieveLevel = level
    return out


class Archive:
    """The instances stored under ``folder``, indexed in memory by SOP Instance UID."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()  # pynetdicom runs each association in its own thread
        self._index: dict[str, tuple[Path, Dataset]] = {}
        folder.mkdir(parents=True, exist_ok=True)
        for path in sorted(folder.glob("*.dcm")):  # a restarted peer keeps what it stored before
            self._add(path, dcmread(path, stop_before_pixels=True))

    def _add(self, path: Path, ds: Dataset) -> None:
        header = Dataset({e.tag: e for e in ds if e.VR not in BULK_VRS})
        with self._lock:
            self._index[str(ds.SOPInstanceUID)] = (path, header)

    def matches(self, query: Dataset, level: str) -> list[tuple[Path, Dataset]]:
        """One (file, attributes) per entity at ``level`` that has a matching instance."""
        keys = [k for k in query if k.keyword not in NOT_MATCHED]
        with self._lock:
            records = list(self._index.values())
        found: dict[str, tuple[Path, Dataset]] = {}
        for path, record in records:
            if all(key_matches(k, record) for k in keys):
                found.setdefault(str(record.get(UNIQUE[level], "")), (path, record))
        return list(found.values())

    # pynetdicom event handlers ------------------------------------------------------------
    def on_store(self, event: Any) -> int:
        ds = event.dataset  # decoding first: a data set pydicom cannot read is refused (0xC211)
        name = "".join(c for c in str(ds.SOPInstanceUID) if c.isdigit() or c == ".") or "unnamed"
        path = self.folder / f"{name}.dcm"
        path.write_bytes(event.encoded_dataset())
        self._add(path, ds)
        return 0x0000

    def _level(self, event: Any) -> str | None:
        level = str(event.identifier.get("QueryRetrieveLevel", ""))
        return level if level in LEVELS[event.request.AffectedSOPClassUID] else None

    def on_find(self, event: Any) -> Iterator[tuple[int, Dataset | None]]:
        level = self._level(event)
        if level is None:
            yield INVALID_IDENTIFIER, None
            return
        query = event.identifier
        for _path, record in self.matches(query, level):
            if event.is_cancelled:
                yield 0xFE00, None
                return
            yield 0xFF00, answer(query, record, level)

    def on_get(self, event: Any) -> Iterator[int | tuple[int, Dataset | None]]:
        level = self._level(event)
        if level is None:
            yield 1  # pynetdicom wants a sub-operation count first (and then reports 1 failed)
            yield INVALID_IDENTIFIER, None
            return
        wanted = self.matches(event.identifier, "IMAGE")  # every instance under each matching entity
        yield len(wanted)
        for path, _record in wanted:
            if event.is_cancelled:
                yield 0xFE00, None
                return
            yield 0xFF00, dcmread(path)  # file meta says the syntax it came in: pynetdicom keeps it
