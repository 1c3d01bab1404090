"""Storage service (C-STORE): the response, its status, and the awkward cases (PS3.4 Annex B, PS3.7 9.1.1)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dcmconform.base.uids import EXPLICIT_LE
from dcmconform.dimse.commands import C_STORE_RQ, store_command
from dcmconform.dimse.pdv import Message
from dcmconform.dimse.status import FAILURE, SUCCESS, UNKNOWN, WARNING, classify
from dcmconform.evidence.messages import hex4, responses_to
from dcmconform.evidence.transcript import Transcript
from dcmconform.evidence.verdict import Level, Requirement, Verdict, check
from dcmconform.exchange.association import RawAssociation
from dcmconform.fixtures.catalogue import Catalogue
from dcmconform.fixtures.objects import CT_IMAGE, MR_IMAGE
from dcmconform.net.assoc import AssociationRefused
from dcmconform.net.probe import ABORTED, CLOSED, RESET, Observation, Probe
from dcmconform.suites.association.answers import ABORT_BEFORE_CLOSE, closed_without_abort
from dcmconform.suites.dimse.storing import STOPPED_READING, Stored, data_set_bytes, evidence_for

# What DIMSE-006 (a MUST: store what was accepted) warns about: an object stored, but changed.
STORED_AS_SENT = Requirement(
    "PS3.4 B.2.3 (Table B.2-1)", Level.PRACTICE,
    "a C-STORE answered with a warning status (B000 coercion, B006 elements discarded, B007 data set does not "
    "match) was stored, but not as sent: legal, but the archive no longer holds the sender's object, and its "
    "Error Comment should say what changed")


@check("DIMSE-005", "Every C-STORE-RSP command set is well formed and answers its request",
       "PS3.7 9.3.1.2, 9.1.1.1, E.1", "MUST",
       fix="Each C-STORE-RSP must carry Message ID Being Responded To equal to the request's Message ID, "
           "Command Field 0x8001, Command Data Set Type 0x0101, a Status, a Command Group Length equal to the "
           "bytes that follow it, and (when present) the request's Affected SOP Class and Instance UIDs.", stores=True)
def test_store_response(store_objects: Callable[..., list[Stored]], verdict: Verdict) -> None:
    results = store_objects()
    sent = [r for r in results if r.sent]
    if not sent:
        verdict.not_applicable("the target accepted none of the storage SOP classes and transfer syntaxes offered",
                               "\n".join(r.line() for r in results))
    bad = [r for r in sent if r.problems or r.response is None]
    lines = [f"{r.variant.name}: " + ("no C-STORE-RSP" if r.response is None else "; ".join(r.problems)) for r in bad]
    verdict.judge(not bad, f"{len(sent)} C-STORE-RSPs, each well formed and answering its request",
                  f"{len(bad)} of {len(sent)} C-STORE-RSPs are wrong: " + " | ".join(lines[:3]),
                  evidence=evidence_for(results, bad),
                  compared=[(f"C-STORE-RSP to {r.variant.name}",
                             f"answers Message ID {r.request.get('MessageID') if r.request is not None else '?'} (sent), "
                             "a well-formed command set with a Status",
                             f"answers Message ID {r.response.responds_to}, status {hex4(r.response.status)}")

                            for r in sent if r.response is not None])


@check("DIMSE-006", "C-STORE of every object in every accepted transfer syntax: success, or a warning that says why",
       "PS3.4 B.2.3 (Table B.2-1), PS3.7 Annex C", "MUST",
       fix="Store what you accepted: a failure status (A7xx out of resources, A9xx data set does not match SOP "
           "class, Cxxx cannot understand, 0122 SOP class not supported...) on a syntax you accepted means the "
           "sender's data is lost. A warning (B000 coercion, B006 elements discarded, B007 data set does not "
           "match) should carry an Error Comment naming what was changed, such as 'set InstanceNumber to 0'.", stores=True)
def test_store_status(store_objects: Callable[..., list[Stored]], verdict: Verdict) -> None:
    results = store_objects()
    sent = [r for r in results if r.sent]
    if not sent:
        verdict.not_applicable("the target accepted none of the storage SOP classes and transfer syntaxes offered",
                               "\n".join(r.line() for r in results))
    failed = [r for r in sent if r.status is None or r.status.category in (FAILURE, UNKNOWN)]
    warned = [r for r in sent if r.status is not None and r.status.category == WARNING]
    fine = [r for r in sent if r.status is not None and r.status.category == SUCCESS]
    stopped = sum(r.not_sent == STOPPED_READING for r in results)
    skipped = len(results) - len(sent) - stopped
    tally = f"{len(fine)} success, {len(warned)} warning, {len(failed)} failed of {len(sent)} stored" + (
        f" ({skipped} not accepted by the target)" if skipped else "") + (
        f"; {stopped} more not tried: the target stopped answering" if stopped else "")
    evidence = evidence_for(results, failed + warned)
    if failed:
        verdict.fail(f"{tally}: " + "; ".join(r.line(0) for r in failed[:3]), evidence)
    if warned:
        uncommented = [r for r in warned if not r.comment]
        detail = "; ".join(r.line(0) for r in warned[:3])
        why = (f" {len(uncommented)} warning(s) without an Error Comment: the target does not say what it changed."
               if uncommented else "")
        verdict.warn(f"{tally}: {detail}.{why}", evidence, broken=STORED_AS_SENT)
        return
    verdict.passed(tally, evidence,
                   compared=[(f"C-STORE-RSP Status for {r.variant.name}", "0x0000 (success)", str(r.status)) for r in fine])


def _verdict_on_refusal(verdict: Verdict, raw: RawAssociation, got: Message | Observation, what: str,
                        refusals_ok: str) -> None:
    """Judge the answer to a C-STORE the target should refuse: a failure status or an abort is right."""
    if isinstance(got, Message):
        code = got.status
        status = classify(int(code), "C-STORE") if code is not None else None
        if status is not None and status.category in (FAILURE, WARNING) and status.code != 0x0000:
            verdict.passed(f"{what}: refused with {status}",
                           compared=(f"answer to {what}", "a failure or warning status, or the association ended",
                                     str(status)))
            return
        verdict.judge(False, "", f"{what}: answered {status or 'without a Status'}; {refusals_ok}")
        return
    if got.kind == ABORTED:
        verdict.passed(f"{what}: the target ended the association ({got.describe()}); nothing stored",
                       compared=(f"answer to {what}", "a failure or warning status, or an A-ABORT", got.describe()))
        return
    if got.kind in (CLOSED, RESET):
        verdict.warn(f"{what}: the target ended the association, but {closed_without_abort(got)}",
                     broken=ABORT_BEFORE_CLOSE)
    verdict.judge(False, "", f"{what}: no answer ({got.describe()})")


@check("DIMSE-008", "The same SOP Instance UID stored twice gets a status both times, and the association goes on",
       "PS3.4 B.4.1, PS3.7 9.1.1", "MUST",
       fix="Senders re-send (a retry after a lost response, a second route). Answer the second C-STORE of an "
           "instance you already have with a status, success (replace or keep) or a failure code, and keep "
           "serving; never abort the association or stop answering.", stores=True)
def test_duplicate_instance(association: Callable[..., Any], dicom_catalogue: Catalogue, transcript: Transcript,
                            alive: Callable[[], Any], verdict: Verdict) -> None:
    variant = dicom_catalogue.variant("ct/explicit-le")
    path = dicom_catalogue.path(variant)
    try:
        with association([(variant.sop_class_uid, [variant.transfer_syntax])]) as assoc:
            if not assoc.accepted_contexts:
                verdict.not_applicable("the target did not accept CT Image Storage in Explicit VR Little Endian")
            for _ in range(2):
                if assoc.is_established:
                    assoc.send_c_store(path)
    except AssociationRefused as exc:
        verdict.not_applicable(f"no association: {exc}")
    pairs = responses_to(transcript, C_STORE_RQ)
    answers = [p[1] for p in pairs]
    if len(answers) < 2 or answers[1] is None:
        after = alive()
        verdict.fail("the second C-STORE of the same instance got no response"
                     + ("" if after.alive else f", and the target no longer serves ({after.detail})"), after.transcript)
    statuses = [classify(int(a.status), "C-STORE") if a is not None and a.status is not None else None for a in answers]
    unknown = [s for s in statuses if s is None or s.category == UNKNOWN]
    verdict.judge(not unknown, f"first {statuses[0]}, second {statuses[1]}",
                  f"C-STORE statuses {', '.join(str(s) for s in statuses)}: not a status C-STORE defines",
                  compared=[(f"C-STORE-RSP Status, {which} store of the same instance", "a status C-STORE defines",
                             str(s)) for which, s in zip(("first", "second"), statuses, strict=False)])


@check("DIMSE-009", "A data set that does not match its SOP class is refused or warned about",
       "PS3.4 B.2.3 (0xA9xx, 0xB007), PS3.7 9.1.1", "SHOULD",
       fix="Check that the data set's SOP Class UID (0008,0016) and SOP Instance UID (0008,0018) are the "
           "command's Affected SOP Class/Instance UID; answer 0xA900 (or 0xB007 if you store it anyway) rather "
           "than filing a CT under MR Image Storage.", stores=True)
def test_data_set_mismatch(probe: Probe, dicom_catalogue: Catalogue, verdict: Verdict) -> None:
    ct = dicom_catalogue.variant("ct/explicit-le")
    sent = dicom_catalogue.dataset(ct)
    raw = RawAssociation(probe, [(1, MR_IMAGE, [EXPLICIT_LE])])
    with raw:
        if 1 not in raw.accepted:
            verdict.not_applicable("the target did not accept MR Image Storage in Explicit VR Little Endian")
        raw.send(1, store_command(MR_IMAGE, str(sent.SOPInstanceUID), raw.message_id()),
                 data_set_bytes(dicom_catalogue.path(ct)))
        got = raw.receive()
    _verdict_on_refusal(verdict, raw, got, "a CT data set sent as MR Image Storage",
                        "the target took a data set whose SOP Class UID is not the one it was sent as")


@check("DIMSE-010", "A C-STORE of a SOP class not negotiated is never sent by us, and refused by the target",
       "PS3.7 9.1.1, PS3.8 7.1.1.13 (presentation context)", "SHOULD",
       fix="A C-STORE must travel on a presentation context negotiated for its SOP class. When a requestor "
           "sends MR Image Storage on the context accepted for CT, answer 0x0122 (SOP class not supported) or "
           "abort; do not store it.", stores=True)
def test_sop_class_not_negotiated(association: Callable[..., Any], probe: Probe, dicom_catalogue: Catalogue,
                                  transcript: Transcript, verdict: Verdict) -> None:
    mr = dicom_catalogue.variant("mr/explicit-le")
    mr_path = dicom_catalogue.path(mr)
    try:
        with association([(CT_IMAGE, [EXPLICIT_LE])]) as assoc:
            if not assoc.accepted_contexts:
                verdict.not_applicable("the target did not accept CT Image Storage in Explicit VR Little Endian")
            try:
                assoc.send_c_store(mr_path)
            except ValueError as exc:  # our side refuses, as a sender's "DIMSE No valid Presentation Context ID"
                transcript.note(f"our SCU refused to send MR Image Storage on this association: {exc}")
            else:
                raise AssertionError("pynetdicom sent a C-STORE without a presentation context for it")
    except AssociationRefused as exc:
        verdict.not_applicable(f"no association: {exc}")
    raw = RawAssociation(probe, [(1, CT_IMAGE, [EXPLICIT_LE])])
    with raw:
        if 1 not in raw.accepted:
            verdict.not_applicable("the target did not accept CT Image Storage in Explicit VR Little Endian")
        sent = dicom_catalogue.dataset(mr)
        raw.send(1, store_command(MR_IMAGE, str(sent.SOPInstanceUID), raw.message_id()), data_set_bytes(mr_path))
        got = raw.receive()
    _verdict_on_refusal(verdict, raw, got, "MR Image Storage sent on the context accepted for CT",
                        "the target took a SOP class it never agreed to on that context")
