"""Retrieve: C-MOVE to an unknown destination, C-GET with SCP/SCU role selection (PS3.4 C.4.2, C.4.3)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pynetdicom import build_role, evt

from dcmconform.assoc import AssociationRefused
from dcmconform.fixtures.catalogue import Catalogue
from dcmconform.suites.dimse.messages import messages, response_problems
from dcmconform.suites.dimse.qr import QR_SYNTAXES, STUDY_ROOT_GET, STUDY_ROOT_MOVE, keys, seed
from dcmconform.suites.dimse.status import classify
from dcmconform.suites.dimse.storing import Stored
from dcmconform.transcript import RECEIVED, SENT, Transcript
from dcmconform.verdict import Verdict, check
from dcmconform.wire import pdus as pd

C_MOVE_RQ, C_MOVE_RSP, C_GET_RQ, C_GET_RSP = 0x0021, 0x8021, 0x0010, 0x8010
UNKNOWN_AE = "NOSUCHAE_DCMC"


def _final(transcript: Transcript, request_field: int, response_field: int) -> tuple[Any, list[str]]:
    """The last response to the first request of that kind, and what is wrong with each response."""
    msgs = messages(transcript)
    request = next((m for m in msgs if m.direction == SENT and m.field == request_field), None)
    if request is None or request.command is None:
        return None, ["the request was not sent"]
    responses = [m for m in msgs if m.direction == RECEIVED and m.field == response_field]
    problems = []
    for rsp in responses:
        problems += response_problems(rsp, request.command, response_field, data_set=rsp.expects_data_set)
    return (responses[-1] if responses else None), problems


@check("DIMSE-020", "C-MOVE to a destination AE the target does not know is refused with 0xA801",
       "PS3.4 C.4.2.1.3.1 (Table C.4-2), C.4.2.3.1", "MUST",
       fix="When the Move Destination is not an AE title you know (and so cannot reach), answer the C-MOVE with "
           "status 0xA801 'Refused: Move Destination unknown', not success and not a generic failure, so the "
           "user learns that the destination must be configured.")
def test_move_unknown_destination(store_objects: Callable[..., list[Stored]], dicom_catalogue: Catalogue,
                                  association: Callable[..., Any], transcript: Transcript, verdict: Verdict) -> None:
    seeded = seed(store_objects, dicom_catalogue, ["ct/explicit-le"])
    if not seeded.ok:
        verdict.not_applicable(f"could not store an object to move: {seeded.problem()}")
    try:
        with association([(STUDY_ROOT_MOVE, QR_SYNTAXES)]) as assoc:
            if not assoc.accepted_contexts:
                verdict.not_applicable("the target did not accept Study Root C-MOVE")
            for _ in assoc.send_c_move(keys("STUDY", StudyInstanceUID=seeded.study_uid), UNKNOWN_AE, STUDY_ROOT_MOVE):
                pass
    except AssociationRefused as exc:
        verdict.not_applicable(f"no association: {exc}")
    final, problems = _final(transcript, C_MOVE_RQ, C_MOVE_RSP)
    if final is None or final.status is None:
        aborted = any(e.direction == RECEIVED and e.data[:1] == b"\x07" for e in transcript.events)
        how = "the target aborted the association (A-ABORT) instead of answering" if aborted else "no C-MOVE-RSP with a status"
        verdict.fail(f"C-MOVE to {UNKNOWN_AE}: {how}" + (f" ({'; '.join(problems)})" if problems else ""))
    status = classify(int(final.status), "C-MOVE")
    if problems:
        verdict.fail(f"C-MOVE-RSP {status}: " + "; ".join(problems))
    verdict.judge(status.code == 0xA801, f"C-MOVE to unknown AE {UNKNOWN_AE}: {status}",
                  f"C-MOVE to unknown AE {UNKNOWN_AE} answered {status} instead of 0xA801")


@check("DIMSE-021", "C-GET with SCP/SCU role selection returns the study's objects on our association, counts right",
       "PS3.4 C.4.3, PS3.7 D.3.3.4 (role selection)", "MUST",
       fix="Grant the SCP role the requestor proposes for the storage SOP classes it wants back, send each "
           "matching object as a C-STORE sub-operation on the same association, and end with a final status "
           "(0x0000 when all sub-operations succeeded) whose Completed/Failed/Warning counts add up to what was sent.")
def test_get_with_roles(store_objects: Callable[..., list[Stored]], dicom_catalogue: Catalogue,
                        association: Callable[..., Any], transcript: Transcript, verdict: Verdict) -> None:
    names = ["ct/explicit-le", "mr/explicit-le"]
    seeded = seed(store_objects, dicom_catalogue, names)
    if not seeded.ok:
        verdict.not_applicable(f"could not store the objects to get: {seeded.problem()}")
    variants = [dicom_catalogue.variant(n) for n in names]
    received: list[str] = []

    def on_store(event: Any) -> int:
        received.append(str(event.request.AffectedSOPInstanceUID))
        return 0x0000

    contexts = [(STUDY_ROOT_GET, QR_SYNTAXES)] + [(v.sop_class_uid, [v.transfer_syntax, *QR_SYNTAXES]) for v in variants]
    roles = [build_role(v.sop_class_uid, scp_role=True) for v in variants]
    try:
        with association(contexts, ext_neg=roles, evt_handlers=[(evt.EVT_C_STORE, on_store)]) as assoc:
            if not any(str(c.abstract_syntax) == STUDY_ROOT_GET for c in assoc.accepted_contexts):
                verdict.not_applicable("the target did not accept Study Root C-GET")
            for _ in assoc.send_c_get(keys("STUDY", StudyInstanceUID=seeded.study_uid), STUDY_ROOT_GET):
                pass
    except AssociationRefused as exc:
        verdict.not_applicable(f"no association: {exc}")
    ac = next((pd.decode_pdu(e.data, tolerant=True) for e in transcript.events
               if e.direction == RECEIVED and e.data[:1] == b"\x02"), None)
    granted = {r.sop_class_uid: r.scp_role for r in ac.role_selections} if isinstance(ac, pd.AAssociateAC) else {}
    final, problems = _final(transcript, C_GET_RQ, C_GET_RSP)
    wanted = {str(dicom_catalogue.dataset(v).SOPInstanceUID) for v in variants}
    not_granted = [v.name for v in variants if not granted.get(v.sop_class_uid)]
    if not_granted:
        problems.append(f"the SCP role we proposed was not granted for {', '.join(not_granted)}")
    if final is None or final.status is None:
        verdict.fail("no final C-GET-RSP" + (f": {'; '.join(problems)}" if problems else ""))
    status = classify(int(final.status), "C-GET")
    command = final.command
    done = int(command.get("NumberOfCompletedSuboperations", -1))
    failed = int(command.get("NumberOfFailedSuboperations", 0) or 0)
    missing = wanted - set(received)
    if missing:
        problems.append(f"{len(missing)} of our {len(wanted)} objects never came as C-STORE sub-operations")
    if status.code != 0x0000:
        problems.append(f"final status {status}")
    if done != len(received) or failed:
        problems.append(f"final counts say {done} completed, {failed} failed; {len(received)} C-STORE sub-operations came")
    verdict.judge(not problems, f"C-GET of our study: {len(received)} objects received, final {status}, "
                  f"{done} completed", "; ".join(problems))
