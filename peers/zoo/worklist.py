"""Modality Worklist: C-FIND (PS3.4 K) over two fixed synthetic scheduled procedure steps.

Override: mwl-missing-sps leaves the Scheduled Procedure Step Sequence out of the responses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from dcmconform.dimse.commands import C_FIND_RSP
from dcmconform.peers.zoo.query import matches, pending_responses
from dcmconform.base.uids import OUR_ROOT

if TYPE_CHECKING:
    from dcmconform.peers.zoo.scp import ZooConnection


def worklist_items() -> list[Dataset]:
    """Two scheduled procedure steps for synthetic patients (no patient data)."""
    items = []
    for n, (modality, date) in enumerate([("CT", "20240315"), ("MR", "20240316")], start=1):
        sps = Dataset()
        sps.Modality = modality
        sps.ScheduledStationAETitle = "DCMCONFORM"
        sps.ScheduledProcedureStepStartDate = date
        sps.ScheduledProcedureStepStartTime = "090000"
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


def _wl_match(item: Dataset, identifier: Dataset) -> bool:
    """Every key matches (PS3.4 C.2.2.2), those in the Scheduled Procedure Step Sequence against its item."""
    for elem in identifier:
        if elem.keyword == "ScheduledProcedureStepSequence" and elem.value:
            sps = item.ScheduledProcedureStepSequence[0]
            for sub in elem.value[0]:
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
    pending_responses(conn, context_id, command, answers, ts, C_FIND_RSP)


