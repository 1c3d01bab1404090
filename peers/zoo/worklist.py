"""Modality Worklist: C-FIND (PS3.4 K) over two fixed synthetic scheduled procedure steps.

Override: mwl-missing-sps leaves the Scheduled Procedure Step Sequence out of the responses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from dcmconform.base.uids import OUR_ROOT
from dcmconform.dimse.commands import C_FIND_RSP
from dcmconform.net.target import DEFAULT_CALLING_AET
from dcmconform.peers.zoo import answers as zoo_answers
from dcmconform.peers.zoo.query import matches, pending_responses

if TYPE_CHECKING:
    from dcmconform.peers.zoo.scp import ZooConnection


def worklist_items() -> list[Dataset]:
    """Two scheduled procedure steps for synthetic patients (no patient data)."""
    items = []
    steps = [("CT", "20240315", "090000", DEFAULT_CALLING_AET), ("MR", "20240316", "143000", "ZOO-MR")]
    for n, (modality, date, time, station) in enumerate(steps, start=1):
        sps = Dataset()
        sps.Modality = modality
        sps.ScheduledStationAETitle = station
        sps.ScheduledProcedureStepStartDate = date
        sps.ScheduledProcedureStepStartTime = time
        sps.ScheduledPerformingPhysicianName = ""
        sps.ScheduledProcedureStepDescription = f"dcmconform worklist step {n}"
        sps.ScheduledProcedureStepID = f"SPS{n}"
        item = Dataset()
        item.SpecificCharacterSet = "ISO_IR 100"
        item.AccessionNumber = f"ZOOACC{n}"
        item.PatientName = f"DCMCONFORM^WORKLIST{n}"
        item.PatientID = f"ZOO-WL-{n}"
        item.PatientBirthDate = "19700101"
        item.PatientSex = "O"
        item.StudyInstanceUID = f"{OUR_ROOT}.99.7.{n}"
        item.RequestedProcedureID = f"RP{n}"
        item.RequestedProcedureDescription = f"dcmconform requested procedure {n}"
        item.ScheduledProcedureStepSequence = Sequence([sps])
        items.append(item)
    return items


DATE, TIME = "ScheduledProcedureStepStartDate", "ScheduledProcedureStepStartTime"


def _date_time(sps: Dataset, key: Dataset) -> bool | None:
    """A date range and a time range on the step's start match as one date-time range (PS3.4 K.6-1, C.2.2.2.5.4:
    built into the worklist); ``None`` when the key does not hold both as ranges."""
    date, time = str(key.get(DATE, "") or ""), str(key.get(TIME, "") or "")
    if "-" not in date or "-" not in time:
        return None
    value = str(sps.get(DATE, "") or "") + str(sps.get(TIME, "") or "").split(".")[0].ljust(6, "0")
    (d1, _, d2), (t1, _, t2) = date.partition("-"), time.partition("-")
    low = d1 + t1.ljust(6, "0") if d1 else ""
    high = d2 + (t2.ljust(6, "0") if t2 else "235959") if d2 else ""
    return len(value) >= 14 and (not low or value >= low) and (not high or value <= high)


def _wl_match(item: Dataset, identifier: Dataset) -> bool:
    """Every key matches (PS3.4 C.2.2.2), those in the Scheduled Procedure Step Sequence against its item."""
    for elem in identifier:
        if elem.keyword == "ScheduledProcedureStepSequence" and elem.value:
            sps = item.ScheduledProcedureStepSequence[0]
            combined = _date_time(sps, elem.value[0])
            if combined is False:
                return False
            for sub in elem.value[0]:
                if combined is not None and sub.keyword in (DATE, TIME):
                    continue
                if sub.keyword in sps and not matches(str(sps[sub.keyword].value or ""), str(sub.value or ""),
                                                      sub.keyword, False):
                    return False
        elif (elem.keyword in item and not isinstance(elem.value, Sequence)
              and not matches(str(item[elem.keyword].value or ""), str(elem.value or ""), elem.keyword, False)):
            return False
    return True


def _wl_answer(item: Dataset, identifier: Dataset, drop_sps: bool) -> Dataset:
    out = Dataset()
    for elem in identifier:
        if elem.keyword == "ScheduledProcedureStepSequence":
            if drop_sps:
                continue
            sps_out = Dataset()
            sps = item.ScheduledProcedureStepSequence[0]
            for sub in (elem.value[0] if elem.value else Dataset()):
                sps_out.add(sps.get(sub.tag, sub))
            out.ScheduledProcedureStepSequence = Sequence([sps_out])
        elif elem.tag in item:
            out.add(item[elem.tag])
        elif elem.tag.group != 0x0000:
            out.add(elem)
    out.SpecificCharacterSet = "ISO_IR 100"
    return out


def worklist(conn: ZooConnection, context_id: int, command: Dataset, identifier: Dataset, ts: str) -> None:
    """Worklist C-FIND (PS3.4 K.4.1): a pending response per matching item, sequence keys matched
    inside the Scheduled Procedure Step. Override: mwl-missing-sps."""
    drop = "mwl-missing-sps" in conn.d
    answers = [_wl_answer(i, identifier, drop) for i in worklist_items() if _wl_match(i, identifier)]
    answers = zoo_answers.worklist_answers(conn, identifier, answers, worklist_items(), _wl_match, lambda i, q: _wl_answer(i, q, drop))
    pending_responses(conn, context_id, command, answers, ts, C_FIND_RSP)


