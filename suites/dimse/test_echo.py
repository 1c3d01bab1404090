"""Verification service (C-ECHO), PS3.4 Annex A and PS3.7 9.1.5."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from dcmconform.base.uids import IMPLICIT_LE, NATIVE_SYNTAXES, VERIFICATION
from dcmconform.dimse.commands import C_ECHO_RQ, C_ECHO_RSP, echo_command
from dcmconform.dimse.pdv import Message
from dcmconform.evidence.messages import hex4, response_compared, response_problems, responses_to
from dcmconform.evidence.transcript import Transcript
from dcmconform.evidence.verdict import Verdict, check
from dcmconform.exchange.association import RawAssociation
from dcmconform.load.perf import NAGLE_FIX, NAGLE_MS
from dcmconform.net.assoc import AssociationRefused, echo
from dcmconform.net.probe import ACCEPTED, Probe


@check("DIMSE-001", "C-ECHO returns status 0x0000 (Success)", "PS3.7 9.3.5.2, PS3.4 A.4", "MUST",
       fix="A node that accepts the Verification SOP Class must answer C-ECHO-RQ with status 0x0000.")
def test_c_echo(association: Callable[..., Any], transcript: Transcript, verdict: Verdict) -> None:
    try:
        with association([(VERIFICATION, NATIVE_SYNTAXES)]) as assoc:
            if not any(c.abstract_syntax == VERIFICATION for c in assoc.accepted_contexts):
                verdict.not_applicable("the target did not accept the Verification SOP Class")
            answer = echo(assoc, transcript)
    except AssociationRefused as exc:
        verdict.fail(f"no association for C-ECHO: {exc}")
    verdict.judge(answer.success, "C-ECHO status 0x0000",
                  answer.describe() if answer.problem or answer.status is not None
                  else "no C-ECHO response before the deadline",
                  compared=("C-ECHO-RSP Status", "0x0000", answer.describe()))


@check("DIMSE-002", "The C-ECHO-RSP command set is well formed and answers our Message ID",
       "PS3.7 9.3.5.2, 9.1.5.1, E.1", "MUST",
       fix="The C-ECHO-RSP must carry Message ID Being Responded To equal to the request's Message ID, "
           "Command Field 0x8030, Command Data Set Type 0x0101, a Status, and a Command Group Length equal to "
           "the bytes that follow it. A requestor matches responses to requests by that ID.")
def test_c_echo_response(association: Callable[..., Any], transcript: Transcript, verdict: Verdict) -> None:
    try:
        with association([(VERIFICATION, NATIVE_SYNTAXES)]) as assoc:
            if not assoc.accepted_contexts:
                verdict.not_applicable("the target did not accept the Verification SOP Class")
            assoc.send_c_echo(msg_id=4242)
    except AssociationRefused as exc:
        verdict.fail(f"no association for C-ECHO: {exc}")
    pairs = responses_to(transcript, C_ECHO_RQ)
    if not pairs or pairs[0][1] is None:
        verdict.fail("no C-ECHO-RSP came back")
    request, response = pairs[0]
    assert request.command is not None and response is not None
    problems = response_problems(response, request.command, C_ECHO_RSP)
    verdict.judge(not problems, "C-ECHO-RSP answers Message ID 4242; group length, command field and data set type right",
                  "C-ECHO-RSP: " + "; ".join(problems),
                  compared=response_compared(response, request.command, C_ECHO_RSP, status="present"))


@check("DIMSE-003", "Several C-ECHOs on one association are each answered, in order, with their own Message ID",
       "PS3.7 9.3.5, PS3.8 9.1.3", "MUST",
       fix="An association carries any number of DIMSE operations until it is released; answer every "
           "request, each response naming the Message ID of its request.")
def test_several_echoes(association: Callable[..., Any], transcript: Transcript, verdict: Verdict) -> None:
    ids = [1, 2, 77, 1000, 65535]
    try:
        with association([(VERIFICATION, NATIVE_SYNTAXES)]) as assoc:
            if not assoc.accepted_contexts:
                verdict.not_applicable("the target did not accept the Verification SOP Class")
            for msg_id in ids:
                status = assoc.send_c_echo(msg_id=msg_id)
                if not status or not assoc.is_established:
                    break
    except AssociationRefused as exc:
        verdict.fail(f"no association for C-ECHO: {exc}")
    pairs = responses_to(transcript, C_ECHO_RQ)
    problems = []
    for request, response in pairs:
        assert request.command is not None
        msg_id = request.command.MessageID
        if response is None:
            problems.append(f"C-ECHO-RQ {msg_id}: no response")
            continue
        wrong = response_problems(response, request.command, C_ECHO_RSP)
        if response.status != 0x0000:
            wrong.append(f"status {response.status}")
        problems += [f"C-ECHO-RQ {msg_id}: {w}" for w in wrong]
    if len(pairs) < len(ids):
        problems.append(f"only {len(pairs)} of {len(ids)} C-ECHO-RQs could be sent: the association ended")
    verdict.judge(not problems, f"{len(ids)} C-ECHOs (Message IDs {ids}) each answered with status 0x0000 and its own ID",
                  "; ".join(problems),
                  compared=[("C-ECHO-RSPs received", f"{len(ids)} (requests sent)", str(sum(r is not None for _, r in pairs)))]
                  + [(f"C-ECHO-RSP to Message ID {rq.command.MessageID}", "its Message ID, status 0x0000",
                      f"{rsp.command.get('MessageIDBeingRespondedTo')}, status {hex4(rsp.status)}")
                     for rq, rsp in pairs if rq.command is not None and rsp is not None and rsp.command is not None])



@check("DIMSE-004", "Small responses come back at once, not after a 40 ms delayed-ACK stall (Nagle)",
       "PS3.8 9.1 (TCP transport); practice", "PRACTICE",
       fix=NAGLE_FIX)
def test_prompt_responses(probe: Probe, verdict: Verdict) -> None:
    raw = RawAssociation(probe, [(1, VERIFICATION, [IMPLICIT_LE])])
    times: list[float] = []
    with raw:
        if raw.answer is None or raw.answer.kind != ACCEPTED or 1 not in raw.accepted:
            verdict.not_applicable(f"no Verification association: {raw.answer.describe() if raw.answer else 'none'}")
        for _ in range(9):
            rq = echo_command(raw.message_id())
            started = time.monotonic()
            raw.send(1, rq)
            got = raw.receive()
            if not isinstance(got, Message):
                verdict.fail(f"C-ECHO {rq.MessageID} got no response: {got.describe()}")
            took = (time.monotonic() - started) * 1000
            wrong = response_problems(got, rq, C_ECHO_RSP)
            if wrong:  # a round trip is timed only to its own response (DIMSE-002 judges the response itself)
                verdict.not_applicable(f"the answer to C-ECHO-RQ {rq.MessageID} is not its C-ECHO-RSP "
                                       f"({'; '.join(wrong)}): no round trip to time")
            times.append(took)
    median = statistics.median(times)
    figures = "round trips (ms): " + ", ".join(f"{t:.1f}" for t in times)
    verdict.judge(median < NAGLE_MS, f"median C-ECHO round trip {median:.1f} ms over {len(times)} echoes, each "
                  "answered by its own C-ECHO-RSP",
                  f"median C-ECHO round trip {median:.1f} ms over {len(times)} echoes (>= {NAGLE_MS:.0f} ms): "
                  "responses wait for a delayed ACK", evidence=figures,
                  compared=[("C-ECHO-RSPs, each answering its own C-ECHO-RQ", f"{len(times)} (sent)", str(len(times))),
                            ("median C-ECHO round trip", f"under {NAGLE_MS:.0f} ms", f"{median:.1f} ms")])
