"""SCU-010..032: what the SCU under test sends, and how it behaves on our answers (one scenario each)."""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Callable

import pytest
from pydicom.uid import UID

from dcmconform.dimse.commands import C_STORE_RQ, NO_DATA_SET
from dcmconform.evidence.verdict import Verdict, check
from dcmconform.scu.trigger import Played
from dcmconform.suites.scu.observed import (
    FILE_META,
    attempts_line,
    data_set,
    exit_code,
    judge_not_stored,
    need_stores,
    sop_mismatch,
)

Scenario = Callable[[str], Played]
PERMANENT_TRIES = 3  # attempts after a permanent rejection before it is a retry storm
TRANSIENT_TRIES = 10  # attempts after a transient rejection within one scenario


# The command set and the data set ----------------------------------------------------------------
@check("SCU-010", "Affected SOP Class and Instance UID equal the data set's", "PS3.7 9.3.1.1", "MUST", role="scu",
       fix="Copy SOP Class UID (0008,0016) and SOP Instance UID (0008,0018) of the object into the C-STORE-RQ's "
           "Affected SOP Class UID and Affected SOP Instance UID.")
def test_affected_uids(scenario: Scenario, verdict: Verdict) -> None:
    played = scenario("normal")
    sent = need_stores(verdict, played)
    bad = [f"message {m.command.get('MessageID') if m.command else '?'}: {problem}"
           for a, m in sent if (problem := sop_mismatch(a, m))]
    verdict.judge(not bad, "every C-STORE-RQ names its data set's SOP class and instance", "; ".join(bad[:3]),
                  played.evidence(),
                  compared=("C-STORE-RQs whose Affected SOP Class and Instance UID equal the data set's",
                            f"all {len(sent)}", str(len(sent) - len(bad))))


@check("SCU-011", "Message IDs are unique within an association", "PS3.7 9.1.1.1", "MUST", role="scu",
       fix="Give each request of an association a new Message ID (a counter).")
def test_unique_message_ids(scenario: Scenario, verdict: Verdict) -> None:
    played = scenario("normal")
    need_stores(verdict, played)
    twice = []
    for attempt in played.attempts:
        counts = Counter(m.command.get("MessageID") for m in attempt.messages if m.command is not None)
        twice += [i for i, n in counts.items() if n > 1]
    verdict.judge(not twice, "every Message ID once per association", f"Message IDs used twice: {twice[:5]}",
                  played.evidence(),
                  compared=("Message IDs per association", "each once", "; ".join(
                      str([m.command.get("MessageID") for m in a.messages if m.command is not None][:12])
                      for a in played.attempts if a.messages)))


@check("SCU-012", "The data set carries no File Meta Information (group 0002)", "PS3.10 7.1", "MUST", role="scu",
       fix="Strip the File Meta Information (group 0002) before sending; it belongs to the file, not the network.")
def test_no_group_0002(scenario: Scenario, verdict: Verdict) -> None:
    played = scenario("normal")
    found = []
    for attempt, message in need_stores(verdict, played):
        ds, _ = data_set(attempt, message)
        found += [str(e.tag) for e in (ds or []) if e.tag.group == FILE_META]
    verdict.judge(not found, "no group 0002 element in any data set", f"group 0002 in the data set: {found[:5]}",
                  played.evidence(),
                  compared=("group 0002 elements in the data sets sent", "none", "none"))


@check("SCU-013", "The data set is encoded in the transfer syntax we accepted", "PS3.8 9.3.3.2", "MUST", role="scu",
       fix="Encode each data set in the transfer syntax the SCP accepted for its presentation context (convert, "
           "or do not send); here only Implicit VR Little Endian was accepted.")
def test_accepted_transfer_syntax(scenario: Scenario, verdict: Verdict) -> None:
    played = scenario("implicit-only")
    sent = need_stores(verdict, played)
    bad = [problem for a, m in sent if (problem := sop_mismatch(a, m))]
    verdict.judge(not bad, "every data set decodes in Implicit VR Little Endian and names its SOP instance",
                  f"a data set not in the accepted transfer syntax: {bad[0] if bad else ''}", played.evidence(),
                  compared=("data sets that decode in Implicit VR Little Endian (the one accepted) and name their "
                            "SOP instance", f"all {len(sent)}", str(len(sent) - len(bad))))


@check("SCU-032", "The C-STORE-RQ command set is complete and valid", "PS3.7 9.3.1.1", "MUST", role="scu",
       fix="Send Affected SOP Class UID, Command Field 0001H, Message ID, Priority (0, 1 or 2), Command Data Set "
           "Type (not 0101H) and Affected SOP Instance UID in every C-STORE-RQ, each UID a valid one (digits and "
           "dots, at most 64 characters: PS3.5 9.1).")
def test_store_command_set(scenario: Scenario, verdict: Verdict) -> None:
    played = scenario("normal")
    problems = []
    sent = need_stores(verdict, played)
    for _, message in sent:
        c = message.command
        assert c is not None
        missing = [k for k in ("AffectedSOPClassUID", "MessageID", "Priority", "CommandDataSetType",
                               "AffectedSOPInstanceUID") if k not in c]
        if missing:
            problems.append(f"missing {', '.join(missing)}")
        if c.get("Priority", 0) not in (0, 1, 2):
            problems.append(f"Priority {c.get('Priority')}")
        if c.get("CommandDataSetType") == NO_DATA_SET or c.get("CommandField") != C_STORE_RQ:
            problems.append("no data set announced")
        for keyword in ("AffectedSOPClassUID", "AffectedSOPInstanceUID"):
            if keyword in c and not valid_uid(c[keyword].value):
                problems.append(f"{c[keyword].name} {str(c[keyword].value)[:80]!r} is not a valid UID (PS3.5 9.1: "
                                "digits and dots, no leading zero in a component, at most 64 characters)")
    verdict.judge(not problems, "every C-STORE-RQ command set complete", "; ".join(problems[:3]), played.evidence(),
                  compared=("C-STORE-RQ command sets with every required element, Priority 0-2, valid UIDs",
                            f"all {len(sent)}", str(len(sent))))


def valid_uid(value: object) -> bool:
    """PS3.5 9.1: a UID of digits and dots, no component with a leading zero, at most 64 bytes (pydicom's test)."""
    if not isinstance(value, str):
        return False
    with warnings.catch_warnings():  # pydicom warns of the invalid value it is asked to test
        warnings.simplefilter("ignore")
        return UID(value).is_valid


# Ending the association ------------------------------------------------------------------------
@check("SCU-014", "The SCU releases (not aborts) after success", "PS3.8 7.2", "SHOULD", role="scu",
       fix="End a successful association with A-RELEASE-RQ and wait for the A-RELEASE-RP; A-ABORT is for errors "
           "(an SCP may discard what an aborted association sent).")
def test_releases(scenario: Scenario, verdict: Verdict) -> None:
    played = scenario("normal")
    need_stores(verdict, played)
    endings = [a.ended for a in played.attempts if a.answer == "accepted"]
    verdict.judge(all(e == "released" for e in endings), "released", f"ended: {', '.join(endings)}",
                  played.evidence(),
                  compared=("how each accepted association ended", "released (A-RELEASE-RQ)", ", ".join(endings)))


@check("SCU-015", "The SCU reports success when every object was stored", "PS3.4 B.2.3", "SHOULD", role="scu",
       fix="Exit 0 (report success) when every C-STORE-RSP was success.")
def test_exit_zero_on_success(scenario: Scenario, verdict: Verdict) -> None:
    played = scenario("normal")
    need_stores(verdict, played)
    code = exit_code(verdict, played)
    verdict.judge(code == 0, "exit code 0", f"exit code {code}", played.evidence(),
                  compared=("the SCU's exit code after every C-STORE-RSP was success", "0", str(code)))


# Rejections --------------------------------------------------------------------------------------
@check("SCU-016", "A permanent rejection (1/1/7) is reported as a failure", "PS3.8 7.1.1.9", "SHOULD", role="scu",
       fix="When the association is rejected, report it to the user (non-zero exit, an error on screen) with the "
           "reason: 'called AE title not recognised' means the destination's AE title is configured wrong.")
def test_rejection_reported(scenario: Scenario, verdict: Verdict) -> None:
    judge_not_stored(verdict, scenario("reject-called-ae"), "A-ASSOCIATE-RJ 1/1/7")


@check("SCU-017", "No retry storm after a permanent rejection (1/1/7)", "PS3.8 7.1.1.9", "SHOULD", role="scu",
       fix="Do not retry a permanent rejection (result 1) automatically: the configuration must change first. "
           "Retrying floods the SCP's log and can lock the AE out.")
def test_no_retry_storm(scenario: Scenario, verdict: Verdict) -> None:
    played = scenario("reject-called-ae")
    tries = len(played.attempts)
    verdict.judge(0 < tries <= PERMANENT_TRIES, attempts_line(played), attempts_line(played)
                  if tries else "the SCU never associated", played.evidence(),
                  compared=("association attempts after A-ASSOCIATE-RJ 1/1/7", f"1 to {PERMANENT_TRIES}", str(tries)))


@check("SCU-018", "A rejected calling AE (1/1/3) is reported and not retried", "PS3.8 7.1.1.9", "SHOULD",
       role="scu", fix="Report 'calling AE title not recognised' (the SCP does not know this device: register it "
                       "there) with a non-zero exit, without retrying.")
def test_calling_rejection(scenario: Scenario, verdict: Verdict) -> None:
    played = scenario("reject-calling-ae")
    tries = len(played.attempts)
    problems = [] if 0 < tries <= PERMANENT_TRIES else [attempts_line(played)]
    if played.run is not None and played.run.exit_code in (0, None):
        problems.append("exit code 0" if played.run.exit_code == 0 else "still running at the deadline")
    verdict.judge(not problems, f"{attempts_line(played)}; reported", "; ".join(problems), played.evidence(),
                  compared=[("association attempts after A-ASSOCIATE-RJ 1/1/3", f"1 to {PERMANENT_TRIES}", str(tries)),
                            ("the SCU's exit code", "non-zero (reported)",
                             "not visible (manual mode)" if played.run is None else str(played.run.exit_code))])


@check("SCU-019", "A transient rejection (2/3/2) is retried moderately, never reported as success",
       "PS3.8 7.1.1.9", "SHOULD", role="scu",
       fix="After a transient rejection (result 2) retry a few times with a delay, then report the failure; "
           "never report the objects as sent.")
def test_transient_rejection(scenario: Scenario, verdict: Verdict) -> None:
    played = scenario("reject-transient")
    problems = [] if 0 < len(played.attempts) <= TRANSIENT_TRIES else [attempts_line(played)]
    if played.run is not None and played.run.exit_code == 0:
        problems.append("exit code 0 although nothing was sent")
    verdict.judge(not problems, attempts_line(played), "; ".join(problems), played.evidence(),
                  compared=[("association attempts after A-ASSOCIATE-RJ 2/3/2", f"1 to {TRANSIENT_TRIES}",
                             str(len(played.attempts))),
                            ("the SCU's exit code", "not 0 (nothing was sent)",
                             "not visible (manual mode)" if played.run is None else str(played.run.exit_code))])


@check("SCU-020", "The SCU never sends on a presentation context we rejected", "PS3.8 9.3.3.2", "MUST", role="scu",
       fix="Send only on presentation contexts the A-ASSOCIATE-AC accepted (result 0); an object whose SOP class "
           "was refused cannot be sent on this association.")
def test_no_send_on_rejected_context(scenario: Scenario, verdict: Verdict) -> None:
    played = scenario("refuse-sop-class")
    used = [(cid, a.refused[cid]) for a in played.attempts for cid in a.pdata_contexts if cid not in a.accepted]
    verdict.judge(not used, "nothing sent on a refused context",
                  f"PDVs on refused context {used[0][0]} (result {used[0][1]})" if used else "", played.evidence(),
                  compared=("PDVs sent on a presentation context we rejected", "none",
                            f"none (refused: {sorted({c for a in played.attempts for c in a.refused})}, "
                            f"PDVs on: {sorted({c for a in played.attempts for c in a.pdata_contexts})})"))


@check("SCU-021", "A refused SOP class is reported as not sent", "PS3.4 B.2.3", "SHOULD", role="scu",
       fix="When the SCP refuses the SOP class of an object, report the object as not sent (non-zero exit).")
def test_refused_class_reported(scenario: Scenario, verdict: Verdict) -> None:
    judge_not_stored(verdict, scenario("refuse-sop-class"), "every presentation context was refused")


# Our maximum length -------------------------------------------------------------------------------
MAX_LENGTHS = [pytest.param("max-512", 512, marks=check(
                   "SCU-022", "Every P-DATA-TF fits our maximum length of 512", "PS3.8 D.1", "MUST", role="scu",
                   fix="Cut P-DATA-TF PDUs to the maximum length the SCP announced in its A-ASSOCIATE-AC.")),
               pytest.param("max-4096", 4096, marks=check(
                   "SCU-023", "Every P-DATA-TF fits our maximum length of 4096", "PS3.8 D.1", "MUST", role="scu",
                   fix="Cut P-DATA-TF PDUs to the maximum length the SCP announced in its A-ASSOCIATE-AC."))]


@pytest.mark.parametrize(("name", "limit"), MAX_LENGTHS)
def test_max_length(scenario: Scenario, verdict: Verdict, name: str, limit: int) -> None:
    played = scenario(name)
    lengths = [n for a in played.attempts for n in a.pdata_lengths]
    over = [n for n in lengths if n > limit]
    if not over:  # one far over it ended the association before its C-STORE-RQ was whole: judged all the same
        need_stores(verdict, played)
    verdict.judge(not over, f"{len(lengths)} P-DATA-TF, the longest {max(lengths, default=0)} bytes",
                  f"{len(over)} P-DATA-TF over {limit} bytes, the longest {max(over, default=0)}", played.evidence(),
                  compared=("longest P-DATA-TF the SCU sent", f"at most {limit} (our maximum length)",
                            f"{max(lengths, default=0)} ({len(lengths)} P-DATA-TF)"))


@check("SCU-035", "A maximum length of 0 (no limit) is understood: every object is sent", "PS3.8 D.1.1", "MUST",
       role="scu", fix="A Maximum Length of 0 in the A-ASSOCIATE-AC means no limit (PS3.8 D.1.1): send the data set "
                       "in P-DATA-TF PDUs of any length (your own usual size); do not treat it as no room at all.")
def test_max_length_zero(scenario: Scenario, verdict: Verdict) -> None:
    played = scenario("max-0")
    sent = need_stores(verdict, played)
    bad = [problem for a, m in sent if (problem := sop_mismatch(a, m))]
    lengths = [n for a in played.attempts for n in a.pdata_lengths]
    verdict.judge(not bad, f"{len(sent)} object(s) sent in {len(lengths)} P-DATA-TF, the longest "
                  f"{max(lengths, default=0)} bytes", bad[0] if bad else "", played.evidence(),
                  compared=("objects sent whole under maximum length 0 (no limit)", f"all {len(sent)} the SCU stored",
                            str(len(sent) - len(bad))))


# Statuses ----------------------------------------------------------------------------------------
WARNINGS = [pytest.param("status-b000", marks=check(
                "SCU-024", "0xB000 (coercion) is treated as stored", "PS3.4 B.2.3", "SHOULD", role="scu",
                fix="A warning status (0xB000) means the object was stored: report it as sent (exit 0), with the "
                    "warning and its Error Comment.")),
            pytest.param("status-b006", marks=check(
                "SCU-033", "0xB006 (elements discarded) is treated as stored", "PS3.4 B.2.3", "SHOULD",
                role="scu", fix="A warning status (0xB006) means the object was stored: report it as sent (exit 0), "
                                "with the warning.")),
            pytest.param("status-b007", marks=check(
                "SCU-025", "0xB007 (data set does not match SOP Class) is treated as stored", "PS3.4 B.2.3",
                "SHOULD", role="scu", fix="A warning status (0xB007) means the object was stored: report it as "
                                          "sent (exit 0), with the warning."))]


@pytest.mark.parametrize("name", WARNINGS)
def test_warning_is_stored(scenario: Scenario, verdict: Verdict, name: str) -> None:
    played = scenario(name)
    need_stores(verdict, played)
    code = exit_code(verdict, played)
    verdict.judge(code == 0, "exit code 0: stored with a warning", f"exit code {code} after a warning status",
                  played.evidence(),
                  compared=(f"the SCU's exit code after status 0x{played.scenario.status:04X}", "0 (stored)", str(code)))


FAILURES = [pytest.param("status-a700", marks=check(
                "SCU-026", "0xA700 (out of resources) is treated as not stored", "PS3.4 B.2.3", "MUST", role="scu",
                fix="A failure status (0xA7xx) means the object was not stored: report it (non-zero exit) or send "
                    "it again later; never mark it as sent.")),
            pytest.param("status-a900", marks=check(
                "SCU-027", "0xA900 (data set does not match SOP Class) is treated as not stored", "PS3.4 B.2.3",
                "MUST", role="scu", fix="A failure status (0xA9xx) means the object was not stored: report it "
                                        "(non-zero exit); never mark it as sent.")),
            pytest.param("status-c000", marks=check(
                "SCU-028", "0xC000 (cannot understand) is treated as not stored", "PS3.4 B.2.3", "MUST",
                role="scu", fix="A failure status (0xCxxx) means the object was not stored: report it (non-zero "
                                "exit); never mark it as sent."))]


@pytest.mark.parametrize("name", FAILURES)
def test_failure_is_not_stored(scenario: Scenario, verdict: Verdict, name: str) -> None:
    played = scenario(name)
    need_stores(verdict, played)
    judge_not_stored(verdict, played, f"a failure status (0x{played.scenario.status:04X})")


@check("SCU-029", "An A-ABORT half-way through a data set is reported as a failure", "PS3.8 7.3.1", "MUST",
       role="scu", fix="When the association is aborted before the C-STORE-RSP, the object was not stored: report "
                       "it (non-zero exit) or send it again.")
def test_abort_reported(scenario: Scenario, verdict: Verdict) -> None:
    judge_not_stored(verdict, scenario("abort-mid-data-set"), "an A-ABORT before the response")


# Timers ------------------------------------------------------------------------------------------
@pytest.mark.scenario("no-response")
@check("SCU-030", "The SCU gives up when no response comes (its own timeout)", "PS3.7 9.1.1", "SHOULD", role="scu",
       fix="Wait for a C-STORE-RSP with a timeout (e.g. 30-60 s), then abort and report the failure; a device "
           "that waits forever blocks its queue.")
def test_response_timeout(scenario: Scenario, verdict: Verdict) -> None:
    played = scenario("no-response")
    need_stores(verdict, played)
    if played.hung:
        verdict.fail(f"still waiting after {played.deadline:g} s (our deadline; the trigger was killed)",
                     played.evidence())
    code = played.run.exit_code if played.run is not None else None
    verdict.judge(played.run is None or code != 0, f"gave up by itself after {played.seconds:.1f} s"
                  + (f", exit code {code}" if played.run is not None else ""),
                  "gave up but exit code 0: reported as sent", played.evidence(),
                  compared=[("the SCU with no C-STORE-RSP coming", f"gives up before our {played.deadline:g} s deadline",
                             f"gave up after {played.seconds:.1f} s"),
                            ("the SCU's exit code", "not 0", "not visible (manual mode)" if played.run is None else str(code))])


@pytest.mark.scenario("no-release-answer")
@check("SCU-031", "The SCU does not hang when its A-RELEASE-RQ is not answered", "PS3.8 9.1.5", "SHOULD",
       role="scu", fix="Run the ARTIM timer after A-RELEASE-RQ: when no A-RELEASE-RP comes, abort and close.")
def test_release_timeout(scenario: Scenario, verdict: Verdict) -> None:
    played = scenario("no-release-answer")
    need_stores(verdict, played)
    verdict.judge(not played.hung, f"closed by itself after {played.seconds:.1f} s",
                  f"still waiting after {played.deadline:g} s (our deadline; the trigger was killed)",
                  played.evidence(),
                  compared=("the SCU with its A-RELEASE-RQ unanswered", f"closes before our {played.deadline:g} s deadline",
                            f"closed after {played.seconds:.1f} s"))


@pytest.mark.scenario("we-release")
@check("SCU-034", "The SCU answers our A-RELEASE-RQ with A-RELEASE-RP", "PS3.8 7.2", "SHOULD", role="scu",
       fix="Either side may release (PS3.8 7.2): when the SCP sends A-RELEASE-RQ, answer A-RELEASE-RP (AR-8 in the "
           "state machine), even with a request of yours crossing it, and report the objects not yet sent as not "
           "sent; do not abort or ignore it.")
def test_answers_our_release(scenario: Scenario, verdict: Verdict) -> None:
    played = scenario("we-release")
    need_stores(verdict, played)
    answers = [a.release_answer or f"nothing ({a.ended})" for a in played.attempts if a.stores()]
    ok = all(x == "A-RELEASE-RP" or x.startswith("A-RELEASE-RQ") for x in answers)
    crossed = sum(a.crossed for a in played.attempts)
    verdict.judge(ok, f"answered {answers[0]}", f"answered our A-RELEASE-RQ with {answers[0]}"
                  + (f"; {crossed} more request(s) of its arrived after our A-RELEASE-RQ" if crossed else ""),
                  played.evidence(),
                  compared=("answer to our A-RELEASE-RQ", "A-RELEASE-RP (or its own A-RELEASE-RQ crossing ours)",
                            ", ".join(answers)))

