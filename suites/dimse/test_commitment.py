"""Storage Commitment Push Model: N-ACTION and the N-EVENT-REPORT that answers it (PS3.4 J.3, PS3.7 10.1.4-5)."""

from __future__ import annotations

from collections.abc import Callable

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import generate_uid

from dcmconform.base.uids import EXPLICIT_LE
from dcmconform.dimse.commands import (
    DATA_SET_PRESENT,
    N_ACTION_RQ,
    N_ACTION_RSP,
    N_EVENT_REPORT_RQ,
    N_EVENT_REPORT_RSP,
    NO_DATA_SET,
)
from dcmconform.dimse.datasets import decode_data_set, encode_data_set
from dcmconform.dimse.pdv import Message
from dcmconform.dimse.status import classify
from dcmconform.evidence.messages import response_problems
from dcmconform.evidence.verdict import Verdict, check
from dcmconform.exchange.association import RawAssociation
from dcmconform.fixtures.catalogue import Catalogue
from dcmconform.fixtures.objects import UID_PREFIX
from dcmconform.net.probe import Probe
from dcmconform.suites.dimse.qr import STORAGE_COMMITMENT, STORAGE_COMMITMENT_INSTANCE, seed
from dcmconform.suites.dimse.storing import Stored


def _reference(sop_class: str, sop_instance: str) -> Dataset:
    item = Dataset()
    item.ReferencedSOPClassUID = sop_class
    item.ReferencedSOPInstanceUID = sop_instance
    return item


@check("DIMSE-023", "Storage commitment reports what it holds: the stored object committed, an unknown one failed",
       "PS3.4 J.3.3 (N-ACTION), J.3.4 (N-EVENT-REPORT), PS3.7 10.1.4, 10.1.1", "MUST", needs="storage-commitment",
       fix="Answer N-ACTION (Request Storage Commitment) with 0x0000, then send an N-EVENT-REPORT with the same "
           "Transaction UID listing each instance you hold in Referenced SOP Sequence and each one you do not "
           "in Failed SOP Sequence (Event Type 2 when any failed). Reporting an instance you do not have as "
           "committed makes the modality delete its only copy.", stores=True)
def test_storage_commitment(store_objects: Callable[..., list[Stored]], dicom_catalogue: Catalogue, probe: Probe,
                            verdict: Verdict) -> None:
    seeded = seed(store_objects, dicom_catalogue, ["ct/explicit-le"])
    if not seeded.ok:
        verdict.not_applicable(f"could not store the object to commit: {seeded.problem()}")
    stored = dicom_catalogue.dataset(dicom_catalogue.variant("ct/explicit-le"))
    unknown = str(generate_uid(UID_PREFIX))
    transaction = str(generate_uid(UID_PREFIX))
    raw = RawAssociation(probe, [(1, STORAGE_COMMITMENT, [EXPLICIT_LE])])
    with raw:
        if 1 not in raw.accepted:
            verdict.not_applicable("the target did not accept Storage Commitment Push Model")
        rq = Dataset()
        rq.CommandField = N_ACTION_RQ
        rq.MessageID = raw.message_id()
        rq.CommandDataSetType = DATA_SET_PRESENT
        rq.RequestedSOPClassUID = STORAGE_COMMITMENT
        rq.RequestedSOPInstanceUID = STORAGE_COMMITMENT_INSTANCE
        rq.ActionTypeID = 1
        request = Dataset()
        request.TransactionUID = transaction
        request.ReferencedSOPSequence = Sequence([_reference(str(stored.SOPClassUID), str(stored.SOPInstanceUID)),
                                                  _reference(str(stored.SOPClassUID), unknown)])
        raw.send(1, rq, encode_data_set(request, EXPLICIT_LE))
        rsp = raw.receive()
        if not isinstance(rsp, Message):
            verdict.fail(f"no N-ACTION-RSP: {rsp.describe()}")
        problems = response_problems(rsp, rq, N_ACTION_RSP)
        if rsp.status != 0x0000:
            status = "no status" if rsp.status is None else classify(int(rsp.status), "N-ACTION")
            verdict.fail(f"N-ACTION-RSP {status}" + (f"; {'; '.join(problems)}" if problems else ""))
        report = raw.receive()
        if isinstance(report, Message) and report.field == N_EVENT_REPORT_RQ and report.command is not None:
            answer = Dataset()
            answer.AffectedSOPClassUID = STORAGE_COMMITMENT
            answer.CommandField = N_EVENT_REPORT_RSP
            answer.MessageIDBeingRespondedTo = report.command.get("MessageID", 0)
            answer.CommandDataSetType = NO_DATA_SET
            answer.Status = 0x0000
            answer.AffectedSOPInstanceUID = report.command.get("AffectedSOPInstanceUID", STORAGE_COMMITMENT_INSTANCE)
            answer.EventTypeID = report.command.get("EventTypeID", 1)
            raw.respond(1, answer)
    if problems:
        verdict.fail("N-ACTION-RSP: " + "; ".join(problems))
    if not isinstance(report, Message) or report.field != N_EVENT_REPORT_RQ:
        got = report.describe() if not isinstance(report, Message) else report.name
        verdict.not_applicable(f"N-ACTION accepted (0x0000), but no N-EVENT-REPORT on this association ({got}); the "
                               "target may report on a new association to our AE, which it must be configured to know")
    assert report.command is not None
    body = decode_data_set(report.dataset or b"", raw.accepted[1]) if report.dataset else Dataset()
    committed = {str(i.get("ReferencedSOPInstanceUID", "")) for i in body.get("ReferencedSOPSequence", [])}
    failed = {str(i.get("ReferencedSOPInstanceUID", "")) for i in body.get("FailedSOPSequence", [])}
    wrong = []
    if str(body.get("TransactionUID", "")) != transaction:
        wrong.append(f"Transaction UID {body.get('TransactionUID', '(absent)')!s} is not ours ({transaction})")
    if unknown in committed:
        wrong.append("an instance the target never received is reported as committed")
    if unknown not in failed:
        wrong.append("the unknown instance is not in Failed SOP Sequence")
    if str(stored.SOPInstanceUID) not in committed:
        wrong.append("the stored instance is not reported as committed")
    if report.command.get("EventTypeID") != 2:
        wrong.append(f"Event Type ID {report.command.get('EventTypeID')!s}, expected 2 (some failed)")
    verdict.judge(not wrong, "N-EVENT-REPORT on the same association: the stored instance committed, the unknown "
                  "one failed, same Transaction UID", "; ".join(wrong),
                  compared=[("N-EVENT-REPORT Transaction UID", f"{transaction} (sent)", str(body.get("TransactionUID", "(absent)"))),
                            ("N-EVENT-REPORT Event Type ID", "2 (some failed)", str(report.command.get("EventTypeID"))),
                            ("stored instance", "in Referenced SOP Sequence (committed)",
                             "committed" if str(stored.SOPInstanceUID) in committed else "not committed"),
                            ("instance never sent", "in Failed SOP Sequence",
                             "failed" if unknown in failed else "not failed")])

