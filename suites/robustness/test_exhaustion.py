"""Resource exhaustion with hard caps: a few connections that stall in the middle of a PDU header
(ROBUST-001), a connection that stops reading what the node sends (ROBUST-002) and a burst of
associations at once (ROBUST-003) must not lock legitimate senders out. Each check holds at most a
few dozen connections for a few seconds and closes them before it ends. A node at its association limit that answers the
legitimate association with a transient A-ASSOCIATE-RJ does what PS3.8 9.3.4 asks (PERF-003 judges
the limit itself): that is a pass with the level named, not a lockout."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable

from dcmconform.base import busy
from dcmconform.base.uids import IMPLICIT_LE, VERIFICATION
from dcmconform.dimse.commands import echo_command, encode_command
from dcmconform.dimse.pdv import Split, message_pdus
from dcmconform.evidence.verdict import Verdict, check
from dcmconform.exchange.association import RawAssociation
from dcmconform.net.assoc import Liveness
from dcmconform.net.probe import ACCEPTED, CLOSED, REJECTED, Connection, Observation, Probe
from dcmconform.wire import pdus as pd

STALLED = 8  # connections held at most (under a default pynetdicom AE's limit of 10)
STEPS = (1, 2, 4, STALLED)  # a legitimate association is tried after this many stalled connections


@check("ROBUST-001", "Connections stalled in the middle of a PDU header do not lock out a legitimate association",
       "PS3.8 9.1.5 (ARTIM: a connection without a whole A-ASSOCIATE-RQ is closed), 9.2", "SHOULD",
       fix="Read each connection's first PDU with a deadline (the ARTIM timer) on its own thread or event, and "
           "do not spend a worker, a table slot or an association slot on a connection before its "
           "A-ASSOCIATE-RQ has arrived whole. A handful of half-open connections (a port scanner, a flaky "
           "network, a slow-loris attack) must not stop every modality from storing.")
def test_stalled_headers(probe: Probe, verdict: Verdict, alive: Callable[[], Liveness]) -> None:
    stalled: list[Connection] = []
    half = pd.AReleaseRQ().encode()[:3]  # 3 of the 6 bytes of a PDU header
    try:
        for n in range(1, STALLED + 1):
            conn = probe.connection().open()
            if conn.sock is None:
                verdict.fail(f"with {n - 1} stalled connections, connection {n} failed: "
                             f"{conn.connect_error.describe() if conn.connect_error else 'not connected'}")
            stalled.append(conn)
            failed = conn.send(half)
            if failed is not None:
                verdict.fail(f"with {n - 1} stalled connections, sending 3 bytes on connection {n} failed: "
                             f"{failed.describe()}")
            if n not in STEPS:
                continue
            probe.transcript.note(f"{n} connection(s) hold 3 bytes of a PDU header; now a legitimate association")
            with busy.armed(False):  # probing a limit: a transient rejection here is the check's answer
                live = alive()
            rj = live.at_limit()
            if rj is not None:
                verdict.passed(f"with {n} connection(s) stalled after 3 bytes of a PDU header (and whatever else it "
                               f"held), the node answered a new association {rj.describe()}: its association limit, "
                               "answered as PS3.8 9.3.4 says (the sender retries); not a lockout", live.transcript,
                               compared=(f"a new association with {n} connection(s) stalled",
                                         "served, or a transient A-ASSOCIATE-RJ (PS3.8 9.3.4)", rj.describe()))
                return
            if not live.alive:
                verdict.fail(f"with {n} connection(s) stalled after 3 bytes of a PDU header, a legitimate "
                             f"association got no service: {live.detail}", live.transcript)
    finally:
        for conn in stalled:
            conn.close()
    verdict.passed(f"with up to {STALLED} connections stalled after 3 bytes of a PDU header, a legitimate "
                   "association and C-ECHO were served each time",
                   compared=(f"a new association and C-ECHO with {', '.join(map(str, sorted(STEPS)))} connections stalled",
                             "served each time", f"served each time (last: {live.detail})"))


# ROBUST-002: a slow reader ------------------------------------------------------------------------
FLOOD_REQUESTS = 5000  # C-ECHO-RQs sent at most on the connection that reads nothing (about 400 KB)
FLOOD_SECONDS = 2.0  # for at most this long
FLOOD_BATCH = 200  # C-ECHO-RQs per write
FLOOD_STUCK = 0.5  # a write that waits this long: the node stopped reading (it waits to send to us)
SMALL_WINDOW = 4096  # our receive buffer on that connection: the node's answers pile up at once


def _flood(raw: RawAssociation) -> tuple[int, str]:
    """C-ECHO-RQs on ``raw``'s context 1, never reading the answers, until the node stops reading them
    or the caps; how many went out and why the flood stopped."""
    sock = raw.conn.sock
    assert sock is not None
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SMALL_WINDOW)
    sent = 0
    started = time.monotonic()
    while sent < FLOOD_REQUESTS:
        if time.monotonic() - started >= FLOOD_SECONDS:
            return sent, f"{FLOOD_SECONDS:g} s passed"
        batch = b"".join(pdu.encode() for n in range(sent, sent + FLOOD_BATCH)
                         for pdu in message_pdus(1, encode_command(echo_command(n % 0xFFFF + 1)), None,
                                                 Split(pdu_max=raw.peer_max or 16384)))
        sock.settimeout(FLOOD_STUCK)
        try:
            sock.sendall(batch)
        except TimeoutError:
            return sent, "the node stopped reading it (it waits to send its answers to a reader that reads nothing)"
        except OSError as exc:
            return sent, f"the node ended that connection ({exc.strerror or exc})"
        sent += FLOOD_BATCH
    return sent, f"the cap of {FLOOD_REQUESTS} requests"


@check("ROBUST-002", "A connection that stops reading what the node sends does not stop it serving others",
       "PS3.8 9.1 (each association is its own TCP connection); practice (a slow or wedged reader)", "SHOULD",
       fix="Never wait on one connection's send while holding what others need (a global lock, the only "
           "dispatcher thread, a shared event loop blocked in a write): give each association its own thread "
           "or non-blocking writes with a per-association queue and deadline, and abort an association whose "
           "peer has not read for longer than the network timeout. One wedged workstation must not stop "
           "every modality from storing.")
def test_slow_reader(probe: Probe, verdict: Verdict, alive: Callable[[], Liveness]) -> None:
    raw = RawAssociation(probe, [(1, VERIFICATION, [IMPLICIT_LE])])
    answer = raw.open()
    try:
        if answer.kind != ACCEPTED:
            verdict.not_applicable(f"no Verification association to read slowly on: {answer.describe()}")
        sent, why = _flood(raw)
        probe.transcript.note(f"{sent} C-ECHO-RQs sent on one association whose answers we never read; stopped: "
                              f"{why}. Now a legitimate association, with that connection still open")
        live = alive()
        said = (f"one association sent {sent} C-ECHO-RQs and read none of the answers (the flood stopped: {why})")
        if not live.alive:
            verdict.fail(f"{said}; meanwhile a new association got no service: {live.detail}", live.transcript,
                         explanation=_slow_reader_causes(why, sent))
        verdict.passed(f"{said}; meanwhile a new association and C-ECHO were served",
                       compared=(f"a new association while one association sent {sent} C-ECHO-RQs and read nothing",
                                 "served", live.detail))
    finally:
        raw.conn.close()


def _slow_reader_causes(why: str, sent: int) -> str:
    """What fits the evidence: whether the node went on reading the flood decides which causes are left."""
    if why.startswith("the node stopped reading"):
        return ("The node stopped reading our connection once its answers to us could not be sent (we read none), "
                "and while that send waited it served nobody: a write that blocks while holding what every "
                "association needs (a global lock, the only dispatcher thread, a shared event loop).")
    if why.startswith("the node ended"):
        return ("The node ended the flooding connection, and still did not serve a new association right after: "
                "look at its log for what ending it cost (a crash, a worker left wedged, a restart in progress).")
    return (f"The node read all {sent} requests of the flooding connection (it never stopped reading it), yet did "
            "not serve a new association meanwhile: not a blocked write, but something else the flood used up "
            "(a worker pool or queue filled with one association's requests, a per-host or total connection "
            "limit, CPU). Its log and its limits settings say which.")


# ROBUST-003: many associations at once --------------------------------------------------------------
BURST = 24  # A-ASSOCIATE-RQs sent at the same moment (PERF-003 holds up to 12, opened one by one)
BURST_SETTLE = 0.5  # seconds before asking whether the node still serves


def _one_of_burst(probe: Probe, start: threading.Barrier, answers: list[Observation]) -> None:
    conn = probe.connection().open()
    try:
        with contextlib.suppress(threading.BrokenBarrierError):  # a connect that took too long: send anyway
            start.wait(probe.timeout + 1)
        if conn.sock is None:
            answers.append(conn.connect_error or Observation(CLOSED, detail="not connected"))
            return
        answer = conn.send(probe.request([(1, VERIFICATION, [IMPLICIT_LE])])) or conn.receive()
        answers.append(answer)
        if answer.kind == ACCEPTED:
            probe.release(conn)  # at once: this check asks for answers, PERF-003 for how many it holds
    finally:
        conn.close()


def _tally(answers: list[Observation]) -> str:
    counts = Counter(a.describe() if a.kind != ACCEPTED else "accepted" for a in answers)
    return ", ".join(f"{n} {what}" for what, n in counts.most_common())


@check("ROBUST-003", f"{BURST} association requests at the same moment are each answered (accepted or a transient "
       "A-ASSOCIATE-RJ), and the node goes on serving", "PS3.8 9.3.4 (A-ASSOCIATE-RJ: rejected-transient), 9.2",
       "SHOULD",
       fix="When many requests arrive at once (every modality retrying after a network outage), answer each: "
           "accept what you can serve and answer the rest at once with A-ASSOCIATE-RJ result 2 (rejected-transient), "
           "source 3, reason 2 (local-limit-exceeded). Size the listen backlog and the worker pool for the burst, "
           "and never let the thread or descriptor limit take the whole process down.")
def test_association_burst(probe: Probe, verdict: Verdict, alive: Callable[[], Liveness]) -> None:
    answers: list[Observation] = []
    start = threading.Barrier(BURST)
    with busy.armed(False):  # probing a limit: the transient rejections are this check's answers
        threads = [threading.Thread(target=_one_of_burst, args=(probe, start, answers), daemon=True)
                   for _ in range(BURST)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 3 * probe.timeout + 2
        for thread in threads:
            thread.join(max(0.1, deadline - time.monotonic()))
        time.sleep(BURST_SETTLE)
        live = alive()
    unanswered = [a for a in answers if a.kind not in (ACCEPTED, REJECTED)]
    rejected = [a for a in answers if a.kind == REJECTED]
    lasting = [a for a in rejected if not busy.transient(getattr(a.pdu, "result", 0), getattr(a.pdu, "source", 0))]
    accepted = sum(a.kind == ACCEPTED for a in answers)
    said = f"{BURST} requests at once: {_tally(answers) or 'no answer at all'}"
    level = f"it served {accepted} of the burst"
    rj = live.at_limit()
    if rj is not None:
        live = Liveness(True, f"a new association got {rj.describe()}: still at its limit, answered", live.transcript)
    if not live.alive:
        verdict.fail(f"{said}; {level}, then stopped serving: {live.detail}", live.transcript)
    missing = BURST - len(answers)
    if unanswered or missing:
        verdict.fail(f"{said}" + (f", {missing} still waiting" if missing else "")
                     + f"; {level}: a request must get an A-ASSOCIATE-AC or -RJ, not silence or a hang-up")
    if lasting:
        verdict.fail(f"{said}; {level}: a node at its limit answers A-ASSOCIATE-RJ result 2 (transient), "
                     "not a permanent rejection")
    verdict.passed(f"{said}; {level}; after it: {live.detail}",
                   compared=[(f"answers to {BURST} A-ASSOCIATE-RQs at once",
                              "each an A-ASSOCIATE-AC or a transient A-ASSOCIATE-RJ", _tally(answers)),
                             ("a new association after the burst", "served (or a transient A-ASSOCIATE-RJ)", live.detail)])

