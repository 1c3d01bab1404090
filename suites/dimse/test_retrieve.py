"""Retrieve: C-MOVE to an unknown destination and to our own storage SCP, C-GET with SCP/SCU role
selection (PS3.4 C.4.2, C.4.3)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pynetdicom import build_role, evt

from dcmconform.base.limits import TargetMisbehaved
from dcmconform.content.diff import compare
from dcmconform.dimse.commands import C_GET_RQ, C_GET_RSP, C_MOVE_RQ, C_MOVE_RSP
from dcmconform.dimse.datasets import decode_data_set
from dcmconform.dimse.pdv import Message
from dcmconform.dimse.status import PENDING, classify
from dcmconform.evidence.messages import messages, response_problems
from dcmconform.evidence.transcript import RECEIVED, SENT, Transcript
from dcmconform.evidence.verdict import Verdict, check
from dcmconform.fixtures.catalogue import Catalogue
from dcmconform.net.assoc import AssociationRefused, bounded
from dcmconform.net.target import MoveDestination
from dcmconform.run.options import RunConfig
from dcmconform.suites.dimse.movescp import MoveSCP
from dcmconform.suites.dimse.qr import QR_SYNTAXES, STUDY_ROOT_GET, STUDY_ROOT_MOVE, keys, seed
from dcmconform.suites.dimse.storing import Stored
from dcmconform.wire import pdus as pd

UNKNOWN_AE = "NOSUCHAE_DCMC"


def _responses(transcript: Transcript, request_field: int, response_field: int) -> tuple[list[Message], list[str]]:
    """Every response to the first request of that kind, and what is wrong with each of them."""
    msgs = messages(transcript)
    request = next((m for m in msgs if m.direction == SENT and m.field == request_field), None)
    if request is None or request.command is None:
        return [], ["the request was not sent"]
    responses = [m for m in msgs if m.direction == RECEIVED and m.field == response_field]
    problems = []
    for rsp in responses:
        problems += response_problems(rsp, request.command, response_field, data_set=rsp.expects_data_set)
    return responses, problems


def _final(transcript: Transcript, request_field: int, response_field: int) -> tuple[Any, list[str]]:
    """The last response to the first request of that kind, and what is wrong with each response."""
    responses, problems = _responses(transcript, request_field, response_field)
    return (responses[-1] if responses else None), problems


def _aborted(transcript: Transcript) -> bool:
    return any(e.direction == RECEIVED and pd.type_of(e.data) == pd.PduType.A_ABORT for e in transcript.events)


@check("DIMSE-020", "C-MOVE to a destination AE the target does not know is refused with 0xA801",
       "PS3.4 C.4.2.1.3.1 (Table C.4-2), C.4.2.3.1", "MUST", needs="c-move",
       fix="When the Move Destination is not an AE title you know (and so cannot reach), answer the C-MOVE with "
           "status 0xA801 'Refused: Move Destination unknown', not success and not a generic failure, so the "
           "user learns that the destination must be configured.", stores=True)
def test_move_unknown_destination(store_objects: Callable[..., list[Stored]], dicom_catalogue: Catalogue,
                                  association: Callable[..., Any], transcript: Transcript, verdict: Verdict) -> None:
    seeded = seed(store_objects, dicom_catalogue, ["ct/explicit-le"])
    if not seeded.ok:
        verdict.not_applicable(f"could not store an object to move: {seeded.problem()}")
    try:
        with association([(STUDY_ROOT_MOVE, QR_SYNTAXES)]) as assoc:
            if not assoc.accepted_contexts:
                verdict.not_applicable("the target did not accept Study Root C-MOVE")
            for _ in bounded(assoc.send_c_move(keys("STUDY", StudyInstanceUID=seeded.study_uid), UNKNOWN_AE, STUDY_ROOT_MOVE),
                             assoc, "C-MOVE"):
                pass
    except AssociationRefused as exc:
        verdict.not_applicable(f"no association: {exc}")
    final, problems = _final(transcript, C_MOVE_RQ, C_MOVE_RSP)
    if final is None or final.status is None:
        how = ("the target aborted the association (A-ABORT) instead of answering" if _aborted(transcript)
               else "no C-MOVE-RSP with a status")
        verdict.fail(f"C-MOVE to {UNKNOWN_AE}: {how}" + (f" ({'; '.join(problems)})" if problems else ""))
    status = classify(int(final.status), "C-MOVE")
    if problems:
        verdict.fail(f"C-MOVE-RSP {status}: " + "; ".join(problems))
    verdict.judge(status.code == 0xA801, f"C-MOVE to unknown AE {UNKNOWN_AE}: {status}",
                  f"C-MOVE to unknown AE {UNKNOWN_AE} answered {status} instead of 0xA801",
                  compared=(f"C-MOVE-RSP Status for Move Destination {UNKNOWN_AE} (unknown, sent)",
                            "0xA801 (Refused: Move Destination unknown)", f"0x{status.code:04X}"))


@check("DIMSE-021", "C-GET with SCP/SCU role selection returns the study's objects on our association, counts right",
       "PS3.4 C.4.3, PS3.7 D.3.3.4 (role selection)", "MUST", needs="c-get",
       fix="Grant the SCP role the requestor proposes for the storage SOP classes it wants back, send each "
           "matching object as a C-STORE sub-operation on the same association, and end with a final status "
           "(0x0000 when all sub-operations succeeded) whose Completed/Failed/Warning counts add up to what was sent.", stores=True)
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
            for _ in bounded(assoc.send_c_get(keys("STUDY", StudyInstanceUID=seeded.study_uid), STUDY_ROOT_GET), assoc, "C-GET"):
                pass
    except AssociationRefused as exc:
        verdict.not_applicable(f"no association: {exc}")
    ac = next((pd.decode_pdu(e.data, tolerant=True) for e in transcript.events
               if e.direction == RECEIVED and pd.type_of(e.data) == pd.PduType.A_ASSOCIATE_AC), None)
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
                  f"{done} completed", "; ".join(problems),
                  compared=[("objects received as C-STORE sub-operations", f"{len(wanted)} (stored)",
                             f"{len(set(received) & wanted)} of ours, {len(received)} in all"),
                            ("final C-GET-RSP Status", "0x0000", f"0x{status.code:04X}"),
                            ("Number of Completed Sub-operations", f"{len(received)} (received)", str(done))])


COUNTS = ("NumberOfRemainingSuboperations", "NumberOfCompletedSuboperations", "NumberOfFailedSuboperations",
          "NumberOfWarningSuboperations")


def _counts(rsp: Message) -> dict[str, int | None]:
    """The sub-operation counts of a C-MOVE/C-GET response (``None`` where absent)."""
    command = rsp.command
    assert command is not None
    return {k: (int(command.get(k)) if command.get(k) is not None else None) for k in COUNTS}


def _count_problems(responses: list[Message], total: int, delivered: int) -> list[str]:
    """PS3.4 C.4.2.1.6-9: each pending response carries all four counts, adding up to the objects to move;
    the final one counts as completed what was delivered (our SCP answered every C-STORE with 0x0000),
    and accounts for every object (a failure before reaching us is the target's to count as failed)."""
    problems = []
    pendings = [r for r in responses if r.status is not None and classify(int(r.status), "C-MOVE").category == PENDING]
    for n, rsp in enumerate(pendings, start=1):
        counts = _counts(rsp)
        absent = [k.removeprefix("NumberOf").removesuffix("Suboperations") for k, v in counts.items() if v is None]
        if absent:
            problems.append(f"pending response {n} has no Number of {'/'.join(absent)} Sub-operations")
        elif sum(v or 0 for v in counts.values()) != total:
            problems.append(f"pending response {n} counts {counts['NumberOfRemainingSuboperations']} remaining + "
                            f"{counts['NumberOfCompletedSuboperations']} completed + "
                            f"{counts['NumberOfFailedSuboperations']} failed + {counts['NumberOfWarningSuboperations']} "
                            f"warning, not the {total} objects of the study")
    final = responses[-1] if responses else None
    if final is None or any(final is p for p in pendings):
        return problems
    counts = _counts(final)
    done = counts["NumberOfCompletedSuboperations"]
    if done is None:
        problems.append("the final response has no Number of Completed Sub-operations")
    elif done != delivered:
        problems.append(f"the final response counts {done} completed sub-operation(s); {delivered} C-STORE(s) "
                        "came to our SCP and were answered 0x0000")
    failed, warned = counts["NumberOfFailedSuboperations"] or 0, counts["NumberOfWarningSuboperations"] or 0
    if warned:
        problems.append(f"the final response counts {warned} sub-operation(s) with a warning; our SCP answered "
                        "every C-STORE with 0x0000")
    if done is not None and done + failed + warned != total:
        problems.append(f"the final response accounts for {done + failed + warned} sub-operation(s) "
                        f"({done} completed, {failed} failed, {warned} warning), not the {total} objects of the study")
    if counts["NumberOfRemainingSuboperations"]:
        problems.append(f"the final response still counts {counts['NumberOfRemainingSuboperations']} remaining")
    return problems


@check("DIMSE-024", "C-MOVE to our own storage SCP delivers the study's objects, sub-operation counts right",
       "PS3.4 C.4.2", "MUST", needs="c-move",
       fix="For a C-MOVE, open an association to the Move Destination (the AE title, host and port configured "
           "for it) and send every object the request names as a C-STORE sub-operation; report progress with "
           "pending responses (0xFF00) carrying the Remaining, Completed, Failed and Warning counts, and end with "
           "a final status (0x0000 when every sub-operation succeeded) whose Completed count is the number of "
           "objects delivered. Success without delivering, or counts that do not match, leave the user without "
           "the images and without knowing it.", stores=True)
def test_move_to_our_scp(store_objects: Callable[..., list[Stored]], dicom_catalogue: Catalogue,
                         association: Callable[..., Any], transcript: Transcript, verdict: Verdict,
                         move_destination: MoveDestination, dcm_config: RunConfig) -> None:
    if move_destination.port is None:
        verdict.not_applicable(move_destination.missing)
    names = ["ct/explicit-le", "mr/explicit-le"]
    seeded = seed(store_objects, dicom_catalogue, names)
    if not seeded.ok:
        verdict.not_applicable(f"could not store the objects to move: {seeded.problem()}")
    variants = [dicom_catalogue.variant(n) for n in names]
    wanted = {str(dicom_catalogue.dataset(v).SOPInstanceUID): v for v in variants}
    aet, timeout = move_destination.ae_title, dcm_config.timeout
    ours = Transcript(f"our storage SCP {aet} (the Move Destination)")
    scp = MoveSCP(move_destination, timeout, ours)
    try:
        scp.start()
    except OSError as exc:
        raise RuntimeError(f"our storage SCP cannot listen on port {move_destination.port}: {exc} "
                           "(give a free port with --move-port)") from None
    overrun = ""
    try:
        try:
            with association([(STUDY_ROOT_MOVE, QR_SYNTAXES)]) as assoc:
                if not assoc.accepted_contexts:
                    verdict.not_applicable("the target did not accept Study Root C-MOVE")
                # Each response is awaited for --timeout at most; the whole C-MOVE gets a budget too,
                # so a target that keeps sending pending responses cannot hold the check forever.
                budget = timeout * (3 + 2 * len(wanted))
                try:
                    for _ in bounded(assoc.send_c_move(keys("STUDY", StudyInstanceUID=seeded.study_uid), aet,
                                                       STUDY_ROOT_MOVE), assoc, "C-MOVE", budget):
                        pass
                except TargetMisbehaved as exc:
                    overrun = f"{exc}"
        except AssociationRefused as exc:
            verdict.not_applicable(f"no association: {exc}")
        # A target may answer before its sub-operation association is closed: wait (bounded) for the
        # objects still missing while that association is open.
        scp.wait(lambda s: set(wanted) <= {a.sop_instance_uid for a in s.arrivals} or not s.connections, timeout)
    finally:
        scp.stop()
    responses, problems = _responses(transcript, C_MOVE_RQ, C_MOVE_RSP)
    arrivals = list(scp.arrivals)
    table = _arrival_table(dicom_catalogue, wanted, arrivals, scp.connected)
    evidence = [table, ours]
    if overrun:
        problems.append(overrun)
    final = responses[-1] if responses else None
    final_status = classify(int(final.status), "C-MOVE") if final is not None and final.status is not None else None
    if final_status is None or final_status.category == PENDING:
        how = ("the target aborted the association (A-ABORT)" if _aborted(transcript)
               else "no final C-MOVE-RSP with a status")
        verdict.fail(f"C-MOVE to {aet}: {how}; {len(arrivals)} object(s) came to our SCP"
                     + (f" ({'; '.join(problems)})" if problems else ""), evidence)
    comment = final.command.get("ErrorComment", "") if final.command is not None else ""
    if final_status.code != 0x0000:
        problems.append(f"final status {final_status}" + (f' ("{comment}")' if comment else ""))
    got = {a.sop_instance_uid for a in arrivals}
    missing = [v.name for uid, v in wanted.items() if uid not in got]
    if missing:
        problems.append(f"{len(missing)} of our {len(wanted)} objects never came to our SCP ({', '.join(missing)})")
    extra = sorted(got - set(wanted))
    if extra:
        problems.append(f"{len(extra)} object(s) that are not in our study came to our SCP")
    if len(arrivals) != len(got):
        problems.append(f"{len(arrivals) - len(got)} object(s) came more than once")
    for a in arrivals:
        v = wanted.get(a.sop_instance_uid)
        if v is not None and a.sop_class_uid != v.sop_class_uid:
            problems.append(f"{v.name} came as SOP class {a.sop_class_uid}, stored as {v.sop_class_uid}")
        if v is not None and _content_lost(dicom_catalogue, v, a):
            problems.append(f"{v.name} came with its pixel data lost or its data set unreadable")
    problems += _count_problems(responses, len(wanted), len(arrivals))
    pending = len(responses) - 1
    done = _counts(final)["NumberOfCompletedSuboperations"]
    verdict.judge(not problems, f"C-MOVE of our study to {aet}: {len(got)} of {len(wanted)} objects came to our SCP, "
                  f"{pending} pending response(s), final {final_status}, {done} completed",
                  f"C-MOVE to {aet}: " + "; ".join(problems), evidence,
                  compared=[(f"objects that came to our SCP ({aet})", f"{len(wanted)} (our study)", str(len(got))),
                            ("final C-MOVE-RSP Status", "0x0000", f"0x{final_status.code:04X}"),
                            ("Number of Completed Sub-operations", f"{len(arrivals)} (arrived)", str(done))])



def _content_lost(catalogue: Catalogue, variant: Any, arrival: Any) -> bool:
    try:
        got = decode_data_set(arrival.data, arrival.transfer_syntax)
        return compare(catalogue.dataset(variant), variant.transfer_syntax, got, arrival.transfer_syntax).pixels_lost
    except Exception:  # noqa: BLE001 - a data set we cannot read is the finding
        return True


def _arrival_table(catalogue: Catalogue, wanted: dict[str, Any], arrivals: list[Any], connections: int) -> str:
    """One line per object we stored and per C-STORE that came: syntax, move originator, what differs."""
    by_uid = {a.sop_instance_uid: a for a in arrivals}
    lines = [f"our storage SCP: {connections} association(s) from the target, {len(arrivals)} C-STORE(s)"]
    for uid, v in wanted.items():
        a = by_uid.get(uid)
        if a is None:
            lines.append(f"{v.name:<16} did not come")
            continue
        try:
            diff = compare(catalogue.dataset(v), v.transfer_syntax, decode_data_set(a.data, a.transfer_syntax),
                           a.transfer_syntax)
            detail = "; ".join(diff.lines()) or "identical"
        except Exception as exc:  # noqa: BLE001 - reported, judged in the check
            detail = f"data set does not decode: {exc}"
        lines.append(f"{v.name:<16} came in {a.transfer_syntax} from {a.calling_ae!r}, move originator "
                     f"{a.originator_aet or '(none)'} / {a.originator_id if a.originator_id is not None else '(none)'}: "
                     f"{detail}")
    for a in arrivals:
        if a.sop_instance_uid not in wanted:
            lines.append(f"{'(not ours)':<16} {a.sop_class_uid} {a.sop_instance_uid}")
    lines.append("attribute differences are listed, not judged here (DIMSE-007 judges coercion)")
    return "\n".join(lines)
