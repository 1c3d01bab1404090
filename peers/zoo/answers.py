"""What the zoo's query and worklist answers hold: returned keys, character sets, worklist keys
(PS3.4 C.4.1.1.3.2, C.6, K.6; PS3.5 6.1), each rule breakable by one defect.

Two hooks, one line each: :func:`query_answers` after :mod:`.query` built its answers, and
:func:`worklist_answers` after :mod:`.worklist` built its own. Clean, they only give an answer whose
text is not in the default repertoire the Specific Character Set of the object it came from
(C.4.1.1.3.2). Each defect (defects.yaml, section "returned keys, character sets, worklist") breaks
one rule: drop the unique key, answer another level, drop a requested required key, add an unrequested
key, write an element with a wrong VR, omit or garble the character set, ignore a name key in a
non-default character set, drop a worklist Type 1 value, return unrequested keys in the Scheduled
Procedure Step item, or ignore a worklist matching key (or match start date and time apart).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING

from pydicom import dcmread
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import Tag

from dcmconform.content.keys import PATIENT_ROOT_FIND, REQUIRED, UNIQUE

if TYPE_CHECKING:
    from dcmconform.peers.zoo.scp import ZooConnection

NAME = Tag(0x00100010)
SPS = "ScheduledProcedureStepSequence"


def _non_ascii(ds: Dataset) -> bool:
    for elem in ds:
        if elem.VR == "SQ":
            if any(_non_ascii(item) for item in elem.value):
                return True
        elif elem.VR in ("PN", "LO", "SH", "ST", "LT", "UT", "UC") and any(ord(c) > 127 for c in str(elem.value or "")):
            return True
    return False


def _stored_character_set(record: dict[str, object]) -> object:
    """The Specific Character Set of the file ``record`` was indexed from (ISO_IR 192 when unknown)."""
    path = record.get("_path")
    try:
        value = dcmread(path, stop_before_pixels=True, specific_tags=["SpecificCharacterSet"]).get(  # type: ignore[arg-type]
            "SpecificCharacterSet") if path else None
    except Exception:  # noqa: BLE001 - an unreadable file: answer in UTF-8
        value = None
    return value or "ISO_IR 192"


def _raw_name(ds: Dataset, data: bytes) -> None:
    ds[NAME] = RawDataElement(NAME, "PN", len(data), data, 0, False, True)


def _character_sets(d: frozenset[str], out: Dataset, identifier: Dataset, record: dict[str, object]) -> None:
    if not _non_ascii(out):
        return
    if "SpecificCharacterSet" not in out:
        out.SpecificCharacterSet = _stored_character_set(record)
    name = str(out.get("PatientName", "") or "")
    if "find-omits-character-set" in d:
        del out.SpecificCharacterSet  # the text goes out in the stored set, undeclared
        out.PatientName = name
        _raw_name(out, name.encode("utf-8"))
    elif "find-garbles-character-set" in d and name:
        out.SpecificCharacterSet = "ISO_IR 100"  # declares Latin-1, sends UTF-8 bytes
        _raw_name(out, name.encode("utf-8"))


def _returned_keys(d: frozenset[str], out: Dataset, identifier: Dataset, level: str) -> None:
    if "find-drops-unique-key" in d and UNIQUE.get(level, "") in out:
        delattr(out, UNIQUE[level])
    if "find-wrong-level-in-answer" in d:
        out.QueryRetrieveLevel = "PATIENT" if level != "PATIENT" else "STUDY"
    if "find-drops-required-key" in d:
        asked = [k for k in REQUIRED.get((PATIENT_ROOT_FIND, level), ()) if k in identifier and k in out]
        if asked:
            delattr(out, asked[0])
    if "find-adds-unrequested-key" in d and "InstitutionName" not in identifier:
        out.InstitutionName = "DCMCONFORM ZOO HOSPITAL"
    if "find-wrong-vr" in d and "QueryRetrieveLevel" in out:
        out["QueryRetrieveLevel"].VR = "LO"


def query_answers(conn: ZooConnection, identifier: Dataset, found: list[dict[str, object]], answers: list[Dataset],
                  level: str, again: Callable[[Dataset], list[dict[str, object]]] | None = None,
                  build: Callable[[dict[str, object]], Dataset] | None = None) -> list[Dataset]:
    """The query's answers as the zoo sends them. ``again(identifier)`` re-runs the matching (for the
    defect that ignores a name key in a non-default character set), ``build(record)`` makes an answer."""
    d = conn.d
    name = str(identifier.get("PatientName", "") or "")
    if ("find-ignores-non-ascii-name" in d and again and build and any(ord(c) > 127 for c in name)):
        loose = copy.deepcopy(identifier)
        loose.PatientName = ""
        found = again(loose)
        answers = [build(r) for r in found]
    for out, record in zip(answers, found, strict=False):
        _character_sets(d, out, identifier, record)
        _returned_keys(d, out, identifier, level)
    return answers


# Worklist ------------------------------------------------------------------------------------
WORKLIST_IGNORES = {  # defect -> the key it does not match on, inside the SPS item
    "mwl-ignores-station-ae": "ScheduledStationAETitle",
    "mwl-ignores-modality": "Modality",
    "mwl-ignores-start-date": "ScheduledProcedureStepStartDate",
}


def _without(identifier: Dataset, keyword: str) -> Dataset:
    loose = copy.deepcopy(identifier)
    seq = loose.get(SPS)
    if seq and keyword in seq[0]:
        delattr(seq[0], keyword)
    return loose


def worklist_answers(conn: ZooConnection, identifier: Dataset, answers: list[Dataset], items: list[Dataset],
                     match: Callable[[Dataset, Dataset], bool], build: Callable[[Dataset, Dataset], Dataset]) -> list[Dataset]:
    """The worklist answers as the zoo sends them; ``match(item, identifier)`` and ``build(item, identifier)``
    are the worklist's own, re-run by the defects that ignore a matching key."""
    d = conn.d
    for defect, keyword in WORKLIST_IGNORES.items():
        if defect in d:
            loose = _without(identifier, keyword)
            answers = [build(i, identifier) for i in items if match(i, loose)]
    if "mwl-dates-and-times-apart" in d:  # SPS start date and time each matched alone, not as one date-time
        dates, times = _without(identifier, "ScheduledProcedureStepStartTime"), \
            _without(identifier, "ScheduledProcedureStepStartDate")
        answers = [build(i, identifier) for i in items if match(i, dates) and match(i, times)]
    for out in answers:
        if "mwl-empties-type1-key" in d and "RequestedProcedureID" in out:
            out.RequestedProcedureID = None
        seq = out.get(SPS)
        if "mwl-sequence-unrequested-keys" in d and seq:
            seq[0].ScheduledStationName = "ZOO-STATION"
            seq[0].ScheduledProcedureStepLocation = "ZOO ROOM 1"
    return answers
