"""What the SCU did in a scenario, as the SCU checks read it (requests, C-STOREs, exit code)."""

from __future__ import annotations

from collections.abc import Iterator

from pydicom.dataset import Dataset
from pydicom.uid import UID

from dcmconform.dimse.datasets import decode_data_set, encoding, vr_form_matches
from dcmconform.dimse.pdv import Message
from dcmconform.evidence.verdict import Level, Requirement, Verdict
from dcmconform.scu.scenario import Attempt
from dcmconform.scu.trigger import Played
from dcmconform.wire import pdus as pd

SENDS = Requirement("PS3.8 7.1", Level.MUST, "an SCU told to send opens an association and sends")
FILE_META = 0x0002


def requests(played: Played) -> list[pd.AAssociateRQ]:
    return [a.request for a in played.attempts if a.request is not None]


def first_request(verdict: Verdict, played: Played) -> pd.AAssociateRQ:
    """The SCU's first A-ASSOCIATE-RQ; the check fails when it sent none."""
    found = requests(played)
    if not found:
        verdict.fail(f"the SCU sent no A-ASSOCIATE-RQ within {played.deadline:g} s", played.evidence(), broken=SENDS)
    return found[0]


def stores(played: Played) -> Iterator[tuple[Attempt, Message]]:
    for attempt in played.attempts:
        for message in attempt.stores():
            yield attempt, message


def need_stores(verdict: Verdict, played: Played) -> list[tuple[Attempt, Message]]:
    """The C-STORE-RQs of the scenario; the check fails when there was none."""
    found = list(stores(played))
    if not found:
        verdict.fail("the SCU sent no C-STORE-RQ although its association was accepted", played.evidence(),
                     broken=SENDS)
    return found


def data_set(attempt: Attempt, message: Message) -> tuple[Dataset | None, str]:
    """The data set of ``message`` read in the transfer syntax accepted for its context, or why it cannot be."""
    syntax = attempt.accepted.get(message.context_id)
    if syntax is None:
        return None, f"context {message.context_id} was not accepted"
    if not UID(syntax).is_valid:  # what the SCU proposed (an SCP of ours accepts no such syntax)
        return None, f"context {message.context_id}'s transfer syntax {syntax!r} is not a UID (PS3.5 9.1)"
    if not vr_form_matches(message.dataset or b"", syntax):
        form = "implicit" if encoding(syntax)[0] else "explicit"
        return None, f"the data set is not in {form} VR form, as {UID(syntax).name} wants"
    try:
        ds = decode_data_set(message.dataset or b"", syntax)
        for _element in ds:  # convert every value now: bytes in another encoding fail here
            pass
        return ds, ""
    except Exception as exc:  # noqa: BLE001 - the bytes are the finding
        return None, f"does not decode as {syntax}: {type(exc).__name__}: {exc}"


def sop_mismatch(attempt: Attempt, message: Message) -> str:
    """What in the data set differs from the command's Affected SOP Class/Instance UID ("" when both match)."""
    ds, error = data_set(attempt, message)
    if ds is None:
        return error
    command = message.command
    assert command is not None
    problems = []
    for keyword, affected in (("SOPClassUID", "AffectedSOPClassUID"), ("SOPInstanceUID", "AffectedSOPInstanceUID")):
        if str(ds.get(keyword, "")) != str(command.get(affected, "")):
            problems.append(f"{affected} {command.get(affected, '(absent)')} but {keyword} {ds.get(keyword, '(absent)')}")
    return "; ".join(problems)


def resent(played: Played) -> bool:
    """Some SOP instance was sent twice (the SCU tried again after a failure)."""
    seen: set[str] = set()
    for _, message in stores(played):
        uid = str(message.command.get("AffectedSOPInstanceUID", "")) if message.command is not None else ""
        if uid in seen:
            return True
        seen.add(uid)
    return False


def exit_code(verdict: Verdict, played: Played) -> int | None:
    """The trigger's exit code; ``None`` when it was killed at the deadline. n.a. in manual mode."""
    if played.run is None:
        verdict.not_applicable("manual mode: the device's own report is not visible to us; check that it shows "
                               "what this check expects", played.evidence())
    return played.run.exit_code


def attempts_line(played: Played) -> str:
    span = (played.attempts[-1].started - played.attempts[0].started) if len(played.attempts) > 1 else 0.0
    return f"{len(played.attempts)} association attempt(s) in {span:.1f} s"


def judge_not_stored(verdict: Verdict, played: Played, after: str) -> None:
    """Pass when the SCU reported that the objects were not sent (a non-zero exit) or sent them again."""
    if resent(played):
        verdict.passed("the SCU sent the object again", played.evidence(),
                       compared=(f"what the SCU did after {after}", "reported it not sent, or sent it again",
                                 "sent the same SOP instance again"))
        return
    code = exit_code(verdict, played)
    verdict.judge(code not in (0, None), f"exit code {code}: reported as not sent",
                  f"exit code 0 after {after}: reported as sent" if code == 0
                  else f"still running after {played.deadline:g} s (killed)", played.evidence(),
                  compared=(f"the SCU's exit code after {after}", "non-zero (reported as not sent)", str(code)))

