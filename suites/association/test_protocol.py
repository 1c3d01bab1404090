"""The upper-layer protocol machine (PS3.8 9.1.2, 9.2): timers, unexpected PDUs, lying lengths, aborts.

The acceptor starts the ARTIM timer when a connection opens and stops it when a whole
A-ASSOCIATE-RQ has arrived; when it expires the connection is closed (Sta2 + Evt18: AA-2). A PDU
that is unexpected in the current state (a P-DATA-TF before any association, a second
A-ASSOCIATE-RQ) or unrecognized (an unknown PDU type) is answered with an A-ABORT (AA-1, AA-8),
after which the connection closes. An A-ABORT from the requestor ends that association and
nothing else.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from dcmconform.base.uids import IMPLICIT_LE, SECONDARY_CAPTURE, VERIFICATION
from dcmconform.dimse.pdv import fragments
from dcmconform.evidence.verdict import Level, Requirement, Verdict, check
from dcmconform.fixtures.screen_capture import screen_capture_image
from dcmconform.net.assoc import Liveness
from dcmconform.net.probe import ACCEPTED, CLOSED, RESET, SILENT, Probe, send_all
from dcmconform.run.options import RunConfig
from dcmconform.suites.association.answers import (
    ABORT_BEFORE_CLOSE,
    ABORT_NOT_REJECT,
    FAIL,
    PASS,
    WARN,
    Rule,
    answer_bytes,
    attach_bytes,
    field_bytes,
    judge,
    not_accepted,
    require_alive,
    serves,
)
from dcmconform.suites.association.requests import ECHO, NATIVE
from dcmconform.suites.association.traffic import (
    echo_rq,
    padded_dataset,
    raw_association,
    store_rq,
)
from dcmconform.wire import pdus as pd

Alive = Callable[[], Liveness]
UNKNOWN_PDU = pd.RawPDU(0x08, b"\x00\x00\x00\x00")
# Expected of an unexpected or unrecognized PDU: an A-ABORT, or at least the connection closed.
ABORT_EXPECTED = Rule("an A-ABORT (then the connection closed)", rejected=WARN,
                      accepted=FAIL, aborted=PASS, closed=WARN, silent=FAIL, warns=ABORT_NOT_REJECT)
# ASSOC-059 (a MUST: never act on a partial PDU) warns on a refusal of the partial request: harmless, but an
# answer to bytes the node has not read.
READ_WHOLE_PDU = Requirement(
    "PS3.8 9.3.1", Level.PRACTICE,
    "a node reads a PDU to the end its length names before it answers it; refusing a request whose last 64 "
    "bytes have not arrived does no harm, but answers bytes the node has not read")
# A short wait where silence is the right answer (the node is waiting for bytes that never come).
SHORT_WAIT = 2.0


# Timers -----------------------------------------------------------------------------------------
@check("ASSOC-053", "A connection that sends nothing is closed by the node (ARTIM)",
       "PS3.8 9.1.2, 9.2 (Sta2 + Evt18 ARTIM expired: AA-2)", "SHOULD",
       fix="Start the ARTIM timer when a connection opens and close the connection if no A-ASSOCIATE-RQ has "
           "arrived when it expires (DCMTK, pynetdicom and Orthanc use 30 s). A node that keeps silent "
           "connections open for long (or forever) runs out of connections or threads when a port scanner, a load balancer "
           "health check or a broken sender leaves them behind.")
def test_silent_connection_closed(probe: Probe, verdict: Verdict, alive: Alive, dcm_config: RunConfig) -> None:
    bound = dcm_config.artim_wait
    with probe.connection() as conn:
        if conn.sock is None:
            verdict.fail(f"could not connect: {conn.connect_error.describe() if conn.connect_error else '?'}")
        probe.transcript.note(f"connected; sending nothing, waiting up to {bound:g}s for the node to close")
        kind, seconds = conn.wait_closed(bound)
        probe.transcript.note(f"{kind} after {seconds:.2f}s")
    require_alive(verdict, alive, "a connection that sent nothing (and its closing)")
    if kind in (CLOSED, RESET):
        verdict.passed(f"the node closed a connection that sent nothing after {seconds:.1f}s",
                       compared=("a connection that sent nothing", f"closed by the node within {bound:g}s (ARTIM)",
                                 f"{kind} after {seconds:.1f}s"))
    else:
        verdict.warn(f"a connection that sent nothing was still open after {seconds:.0f}s (the bound of this run; "
                     "set it with --artim-wait)",
                     explanation=f"Measured: still open after {seconds:.0f} s, when we stopped waiting. That fits a "
                                 f"node without an ARTIM timer, and one whose timer is longer than {seconds:.0f} s; "
                                 "a run with a larger --artim-wait tells them apart.")


@check("ASSOC-064", "A TCP connection closed without a PDU leaves the node serving",
       "PS3.8 9.1.2, 9.2 (Sta2 + Evt17 transport connection closed: AA-5)", "MUST",
       fix="Treat a connection that closes before any PDU as nothing at all: a load balancer's health check or "
           "a port scan does exactly this, and a node that crashes or stops listening on it goes down for every "
           "modality the first time the network team adds monitoring.")
def test_bare_connect(probe: Probe, verdict: Verdict, alive: Alive) -> None:
    with probe.connection() as conn:
        if conn.sock is None:
            verdict.fail(f"could not connect: {conn.connect_error.describe() if conn.connect_error else '?'}")
        probe.transcript.note("connected; closing at once, without a PDU (a health check, a port scan)")
    live = require_alive(verdict, alive, "a TCP connection closed without a PDU")
    verdict.passed(f"the node kept serving after a connection closed without a PDU ({live.detail})", live.transcript,
                   compared=("a new association after a connection closed without a PDU", "served", live.detail))


@check("ASSOC-054", "Half an A-ASSOCIATE-RQ, then silence: the node keeps serving other associations",
       "PS3.8 9.1.2, 9.2 (ARTIM runs until a whole A-ASSOCIATE-RQ has arrived)", "PRACTICE",
       fix="Never let one connection that stops halfway through a request block the node: read requests with "
           "a deadline (the ARTIM timer covers a request that never completes) and serve each connection on "
           "its own. A single stalled sender, or a slow-loris attack, must not stop every modality from "
           "storing.")
def test_half_request(probe: Probe, verdict: Verdict, alive: Alive) -> None:
    data = probe.request(ECHO).encode()
    with probe.connection() as conn:
        failed = conn.send(data[: len(data) // 2])
        if failed is not None:
            verdict.fail(f"sending half a request failed: {failed.describe()}")
        probe.transcript.note(f"sent {len(data) // 2} of {len(data)} bytes; now a second association (C-ECHO)")
        started = time.monotonic()
        live = alive()
        took = time.monotonic() - started
        meanwhile = conn.receive(0.05)  # what the stalled connection got in the meantime
    attach_bytes(verdict, answer_bytes(meanwhile))
    if meanwhile.kind == ACCEPTED:
        verdict.fail("the node accepted half an A-ASSOCIATE-RQ")
    if not serves(live):
        require_alive(verdict, alive, "half an A-ASSOCIATE-RQ (and our closing that connection)")
        verdict.warn(f"while one connection held half a request, the node served nobody else ({live.detail}); it "
                     "served again once we closed that connection", live.transcript)
    elif meanwhile.kind != SILENT and took > 1.0:
        verdict.warn(f"the second association was served only after {took:.1f}s, once the node had dropped the "
                     f"stalled connection ({meanwhile.describe()})", live.transcript)
    else:
        state = "still pending" if meanwhile.kind == SILENT else meanwhile.describe()
        verdict.passed(f"another association was served in {took:.2f}s while half a request was pending "
                       f"(the stalled connection: {state})", live.transcript,
                       compared=[("a second association while half a request was pending", "served",
                                  f"{live.detail} in {took:.2f}s"),
                                 ("the stalled connection meanwhile", "no A-ASSOCIATE-AC", state)])


# Unexpected and unknown PDUs ---------------------------------------------------------------------------
@check("ASSOC-055", "A P-DATA-TF before any association is answered with A-ABORT, never processed",
       "PS3.8 9.2 (Table 9-10: Sta2 + Evt10: AA-1)", "MUST",
       fix="Data before an association is a protocol error: send an A-ABORT and close (or at least close). "
           "Never act on it, and never leave the sender waiting.")
def test_pdata_before_association(probe: Probe, verdict: Verdict, alive: Alive) -> None:
    pdata = fragments(echo_rq(), 1, True, 0)[0]
    with probe.connection() as conn:
        observed = conn.send(pdata) or conn.receive()
    require_alive(verdict, alive, "a P-DATA-TF before any association")
    judge(verdict, observed, ABORT_EXPECTED, "a P-DATA-TF (a C-ECHO-RQ) on a new connection, before any A-ASSOCIATE-RQ")


@pytest.mark.parametrize("inside", [
    pytest.param(False, id="before-association", marks=check(
        "ASSOC-056", "An unknown PDU type before any association is answered with A-ABORT",
        "PS3.8 9.2 (Table 9-10: Sta2 + Evt19: AA-1), 9.3.8", "MUST",
        fix="An unrecognized PDU type is answered with an A-ABORT (reason unrecognized-PDU) and the connection "
            "closed. Ignoring it leaves the sender waiting; trusting its length field is how HTTP requests "
            "sent to a DICOM port make nodes allocate gigabytes.")),
    pytest.param(True, id="inside-association", marks=check(
        "ASSOC-057", "An unknown PDU type inside an association is answered with A-ABORT",
        "PS3.8 9.2 (Table 9-10: Sta6 + Evt19: AA-8), 9.3.8", "MUST",
        fix="Inside an association an unrecognized PDU type is a protocol error: send an A-ABORT (source "
            "service-provider, reason unrecognized-PDU) and close.")),
])
def test_unknown_pdu_type(inside: bool, probe: Probe, verdict: Verdict, alive: Alive) -> None:
    where = "inside an association" if inside else "on a new connection"
    if inside:
        with raw_association(probe, probe.request(ECHO)) as (conn, first):
            if first.kind != ACCEPTED:
                not_accepted(verdict, first)
            observed = conn.send(UNKNOWN_PDU) or conn.receive()
            conn.close()
    else:
        with probe.connection() as conn:
            observed = conn.send(UNKNOWN_PDU) or conn.receive()
    require_alive(verdict, alive, f"an unknown PDU type {where}")
    attach_bytes(verdict, field_bytes("the PDU we sent", UNKNOWN_PDU.encode()))
    judge(verdict, observed, ABORT_EXPECTED, f"a PDU of type 08H {where}")


@check("ASSOC-058", "A second A-ASSOCIATE-RQ inside an association is answered with A-ABORT",
       "PS3.8 9.2 (Table 9-10: Sta6 + Evt6: AA-8)", "MUST",
       fix="An A-ASSOCIATE-RQ on an established association is unexpected: abort (A-ABORT) and close. Accepting "
           "it as if the connection were new confuses both ends about which contexts hold.")
def test_second_request(probe: Probe, verdict: Verdict, alive: Alive) -> None:
    with raw_association(probe, probe.request(ECHO)) as (conn, first):
        if first.kind != ACCEPTED:
            not_accepted(verdict, first)
        observed = conn.send(probe.request(ECHO)) or conn.receive()
        conn.close()
    require_alive(verdict, alive, "a second A-ASSOCIATE-RQ inside an association")
    judge(verdict, observed, ABORT_EXPECTED, "a second A-ASSOCIATE-RQ on an established association")


# Lengths that lie ------------------------------------------------------------------------------------------
@check("ASSOC-059", "A PDU length claiming more bytes than sent: the node waits, never acts on a partial PDU",
       "PS3.8 9.3.1, 9.3.2, 9.1.2", "MUST",
       fix="Read exactly the number of bytes the PDU length says before acting on a PDU, with a deadline. "
           "Answering a request before all of it has arrived means the node parses bytes it has not received.")
def test_length_claims_more(probe: Probe, verdict: Verdict, alive: Alive) -> None:
    request = probe.request(ECHO)
    true_length = len(request.encode()) - pd.PDU_HEADER
    request.length = true_length + 64
    with probe.connection() as conn:
        observed = conn.send(request) or conn.receive(SHORT_WAIT)
    require_alive(verdict, alive, "a request whose length field claims 64 more bytes than sent")
    attach_bytes(verdict, field_bytes("the PDU header we sent", request.encode()[:6]))
    judge(verdict, observed, Rule("silence (the node waits for the missing 64 bytes), an A-ABORT, or a close",
                                  rejected=WARN, accepted=FAIL, aborted=PASS, closed=PASS, silent=PASS,
                                  warns=READ_WHOLE_PDU),
          f"an A-ASSOCIATE-RQ whose length field says {true_length + 64} with {true_length} bytes sent")


@check("ASSOC-060", "A PDU length claiming fewer bytes than its items hold is refused, never accepted",
       "PS3.8 9.3.1, 9.3.2, 9.2 (invalid PDU: AA-1)", "MUST",
       fix="The PDU length bounds everything inside the PDU: an item running past it makes the request invalid "
           "(A-ABORT, invalid-PDU-parameter-value). Trusting item lengths over the PDU length reads past the "
           "end of the PDU, the classic over-read.")
def test_length_claims_fewer(probe: Probe, verdict: Verdict, alive: Alive) -> None:
    request = probe.request(ECHO)
    true_length = len(request.encode()) - pd.PDU_HEADER
    request.length = true_length - 10  # cuts into the last user information sub-item
    with probe.connection() as conn:
        observed = conn.send(request) or conn.receive()
    require_alive(verdict, alive, "a request whose length field is 10 bytes short")
    attach_bytes(verdict, field_bytes("the PDU header we sent", request.encode()[:6]))
    judge(verdict, observed, Rule("an A-ABORT (invalid-PDU-parameter-value) or an A-ASSOCIATE-RJ", rejected=PASS,
                                  accepted=FAIL, aborted=PASS, closed=WARN, silent=FAIL,
                                  warns=ABORT_BEFORE_CLOSE),
          f"an A-ASSOCIATE-RQ whose length field says {true_length - 10}, 10 bytes short of its items")


# Aborts from the requestor ---------------------------------------------------------------------------------
@check("ASSOC-061", "After an A-ABORT from the requestor the node keeps serving", "PS3.8 9.1.4, 9.2 (Sta6 + Evt16: AA-3)",
       "MUST",
       fix="An A-ABORT ends that association only: release its resources, close its connection, keep serving "
           "everyone else.")
def test_abort_leaves_node_serving(probe: Probe, verdict: Verdict, alive: Alive) -> None:
    with raw_association(probe, probe.request(ECHO)) as (conn, first):
        if first.kind != ACCEPTED:
            not_accepted(verdict, first)
        conn.send(pd.AAbort(0, 0))
        kind, seconds = conn.wait_closed(SHORT_WAIT)
        probe.transcript.note(f"after our A-ABORT: {kind} after {seconds:.2f}s")
        conn.close()
    live = require_alive(verdict, alive, "our A-ABORT")
    closed = f"closed our connection after {seconds:.2f}s" if kind in (CLOSED, RESET) else "left our connection open"
    verdict.passed(f"after our A-ABORT the node {closed} and serves a new association",
                   compared=("a new association after our A-ABORT", "served", live.detail))


@check("ASSOC-065", "After an A-ABORT from the requestor the node closes the connection",
       "PS3.8 9.2 (Table 9-10: Sta6 + Evt16: AA-3 closes the transport connection)", "MUST",
       fix="On an A-ABORT the association is over: close its TCP connection at once (AA-3). A node that keeps "
           "aborted connections open holds a socket, and often an association slot, for every sender that "
           "aborts, until some idle timer of its own ends them.")
def test_abort_closes_connection(probe: Probe, verdict: Verdict) -> None:
    with raw_association(probe, probe.request(ECHO)) as (conn, first):
        if first.kind != ACCEPTED:
            not_accepted(verdict, first)
        conn.send(pd.AAbort(0, 0))
        kind, seconds = conn.wait_closed(probe.timeout)
        probe.transcript.note(f"after our A-ABORT: {kind} after {seconds:.2f}s")
        conn.close()
    verdict.judge(kind in (CLOSED, RESET), f"after our A-ABORT the node closed the connection in {seconds:.2f}s "
                                           f"({'a reset' if kind == RESET else 'a close'})",
                  f"after our A-ABORT the node left the connection open for {seconds:.1f}s (our wait, --timeout), "
                  "without closing it; we closed it ourselves",
                  compared=("the connection after our A-ABORT", "closed by the node (AA-3)", f"{kind} after {seconds:.2f}s"))


@check("ASSOC-062", "An A-ABORT in the middle of a C-STORE leaves the node serving", "PS3.8 9.1.4, 9.2; PS3.7 E",
       "MUST",
       fix="A sender may abort halfway through a data set (a user cancels, a modality reboots). Drop the partial "
           "object, close that association, keep serving.", stores=True)
def test_abort_during_store(probe: Probe, verdict: Verdict, alive: Alive) -> None:
    contexts = [(1, VERIFICATION, NATIVE), (3, SECONDARY_CAPTURE, [IMPLICIT_LE])]
    with raw_association(probe, probe.request(contexts)) as (conn, first):
        if first.kind != ACCEPTED:
            not_accepted(verdict, first)
        ac = first.expect_accept()
        if not any(pc.context_id == 3 and pc.result == 0 for pc in ac.presentation_contexts):
            verdict.not_applicable("Secondary Capture storage was not accepted")
        image = screen_capture_image()
        data = padded_dataset(image, 20000)
        theirs = ac.maximum_length or 0
        send_all(conn, fragments(store_rq(image.SOPInstanceUID), 3, True, theirs))
        half = fragments(data[: len(data) // 2], 3, False, theirs)
        half[-1].pdvs[-1].control = 0x00  # not the last fragment: the data set stops halfway
        send_all(conn, half)
        conn.send(pd.AAbort(0, 0))
        probe.transcript.note(f"sent the C-STORE command and {len(data) // 2} of {len(data)} data set bytes, then A-ABORT")
        conn.close()
    live = require_alive(verdict, alive, "an A-ABORT in the middle of a C-STORE")
    verdict.passed("after an A-ABORT halfway through a C-STORE data set, the node serves a new association",
                   compared=("a new association after an A-ABORT halfway through a C-STORE", "served", live.detail))


