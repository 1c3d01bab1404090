"""Modality Worklist C-FIND (PS3.4 K.4, K.6.1): what a modality asks for its scheduled steps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from dcmconform.evidence.transcript import Transcript
from dcmconform.evidence.verdict import Verdict, check
from dcmconform.suites.dimse.qr import WORKLIST_FIND, find

SPS_KEYS = ("Modality", "ScheduledStationAETitle", "ScheduledProcedureStepStartDate",
            "ScheduledProcedureStepStartTime", "ScheduledPerformingPhysicianName",
            "ScheduledProcedureStepDescription", "ScheduledProcedureStepID")
TOP_KEYS = ("AccessionNumber", "PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyInstanceUID",
            "RequestedProcedureID", "RequestedProcedureDescription")


def worklist_query() -> Dataset:
    """The broad query a modality sends: every scheduled step, the usual return keys empty."""
    ds = Dataset()
    for keyword in TOP_KEYS:
        setattr(ds, keyword, "")
    sps = Dataset()
    for keyword in SPS_KEYS:
        setattr(sps, keyword, "")
    ds.ScheduledProcedureStepSequence = Sequence([sps])
    return ds


@check("DIMSE-022", "Modality Worklist C-FIND returns each scheduled step with the requested return keys",
       "PS3.4 K.4.1.3, K.6.1.2 (Table K.6-1)", "MUST", needs="worklist",
       fix="Answer a worklist query with one pending response per matching Scheduled Procedure Step, each "
           "identifier carrying every requested key (empty when unknown) including the Scheduled Procedure Step "
           "Sequence with one item holding the requested sub-keys, then a final 0x0000.")
def test_worklist(association: Callable[..., Any], transcript: Transcript, verdict: Verdict) -> None:
    result = find(association, WORKLIST_FIND, worklist_query(), transcript)
    if not result.accepted:
        verdict.not_applicable(result.detail)
    if not result.matches and not result.problems:
        verdict.not_applicable(f"the worklist is empty ({result.describe()}): nothing to judge")
    problems = list(result.problems)
    for n, match in enumerate(result.matches, start=1):
        missing = [k for k in TOP_KEYS if k not in match]
        sps = match.get("ScheduledProcedureStepSequence")
        if not sps:
            missing.append("ScheduledProcedureStepSequence (or it has no item)")
        else:
            missing += [f"ScheduledProcedureStepSequence>{k}" for k in SPS_KEYS if k not in sps[0]]
        if missing:
            problems.append(f"item {n} lacks {', '.join(missing)}")
    verdict.judge(not problems, f"worklist: {result.describe()}, every requested key present", "; ".join(problems[:6]),
                  compared=[("worklist items returned", "at least one", str(len(result.matches))),
                            ("requested keys in every item", ", ".join(TOP_KEYS + SPS_KEYS), "all present")])

