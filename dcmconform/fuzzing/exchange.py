"""One input on the wire: send it (its prelude first) on its connections and read what the node says
until it has said it (:func:`send_case`), for the fuzzer (:mod:`.engine`) and ``replay``."""

from __future__ import annotations

import contextlib
import socket
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dcmconform.base import busy
from dcmconform.evidence.transcript import Transcript
from dcmconform.fuzzing.inputs import ASSOCIATED, Case, good_request
from dcmconform.net.probe import ABORTED, ACCEPTED, DATA, OTHER_PDU, REJECTED, RELEASED, SILENT, Connection
from dcmconform.wire import pdus as pd

if TYPE_CHECKING:
    from dcmconform.fuzzing.engine import Target

MAX_ANSWERS = 4  # PDUs read back after one input
REPEAT_WAIT = 0.05  # seconds to read answers on the second and later connections of one input


@dataclass
class Sent:
    """What one input did on the wire: whether it went out whole, the answers, in words, and whether
    every connection's exchange ended in a PDU from the node (``answered``: it was serving then)."""

    ok: bool
    answers: list[str] = field(default_factory=list)
    answered: bool = False


# What ends an exchange: the node said what it will say (a PDU that closes the dialogue), or it
# closed, reset or sent what is no PDU. ACCEPTED and DATA end it too once every PDU of the input
# had its answer (see :func:`expected_answers`); SILENT ends it at ``--input-wait``.
FINAL_PDUS = (REJECTED, ABORTED, RELEASED)


def expected_answers(payload: bytes) -> int:
    """How many answers the input can draw at most: its whole PDUs as the node frames them (by their
    length fields), at least one, at most :data:`MAX_ANSWERS`."""
    pos = count = 0
    while pos + pd.PDU_HEADER <= len(payload) and count < MAX_ANSWERS:
        end = pos + pd.PDU_HEADER + pd.header(payload[pos:])[1]
        if end > len(payload):
            break
        count, pos = count + 1, end
    return max(count, 1)


def cut_short(payload: bytes) -> bool:
    """Whether the input ends inside a PDU: its last header (or the header itself) promises more bytes
    than follow. A node can only wait for the rest; what it does about the end of the stream shows at once."""
    pos = 0
    while pos < len(payload):
        if pos + pd.PDU_HEADER > len(payload):
            return True
        pos += pd.PDU_HEADER + pd.header(payload[pos:])[1]
    return pos > len(payload)


def send_case(target: Target, case: Case, wait: float, transcript: Transcript) -> Sent:
    """Send ``case`` (its prelude first) on ``case.connections`` connections, one after the other, and
    read answers until the node has said what it will say: a PDU that ends the exchange (A-ASSOCIATE-RJ,
    A-ABORT, A-RELEASE-RP, or one answer to each PDU of the input), a close, a reset, bytes that are no
    PDU, or ``wait`` seconds of silence (:data:`REPEAT_WAIT` on the second and later connections: the
    same input again, what it does to the node counts, its answers were seen). Then close (A-ABORT
    first where an association is up).

    An input that ends inside a PDU (:func:`cut_short`) is followed at once by the end of our stream
    (a half-close): the node can only wait for bytes that never come, so silence tells nothing, and
    waiting it out cost most of the run's time; the node's reaction to the PDU cut short (an A-ABORT,
    a close, a crash) is read as for any input."""
    sent = Sent(True, answered=True)
    expected = expected_answers(case.payload)
    cut = cut_short(case.payload)
    wait = target.silence(wait)
    for n in range(case.connections):
        if n:
            wait = min(wait, REPEAT_WAIT)
        with Connection(target.endpoint, target.timeout, transcript) as conn:
            target.sent(connections=1)
            if conn.sock is None:
                return Sent(False, [conn.connect_error.describe() if conn.connect_error else "not connected"])
            if case.prelude == ASSOCIATED:
                request = good_request(target.endpoint.ae_title, target.calling_aet)
                observed = conn.send(request) or conn.receive()
                target.sent(data=len(request.encode()))
                if observed.answered:
                    target.latencies.append(observed.elapsed)
                if observed.kind != ACCEPTED:
                    return Sent(False, [f"the good association before the input got {observed.describe()}"])
            failed = conn.send(case.payload)
            target.sent(data=len(case.payload))
            if failed is not None:
                sent.answers.append(failed.describe())
                sent.answered = False
                continue
            if cut:
                half_close(conn, "the input ends inside a PDU: we closed our side at once")
            pdus = 0
            silent = False
            while True:
                observed = conn.receive(timeout=wait)
                sent.answers.append(observed.describe())
                rj = observed.pdu
                if isinstance(rj, pd.AAssociateRJ) and busy.transient(rj.result, rj.source):
                    sent.answered = False  # at its association limit: the input was not judged; the oracle waits
                    break
                if observed.kind in FINAL_PDUS:
                    if not pdus:
                        target.latencies.append(observed.elapsed)
                    break
                if observed.kind not in (DATA, OTHER_PDU, ACCEPTED):
                    sent.answered = False  # silence, a close, a reset, garbage: ask the oracle
                    silent = observed.kind == SILENT
                    break
                if not pdus:
                    target.latencies.append(observed.elapsed)
                pdus += 1
                if pdus >= expected:
                    break
            if conn.established and not cut:
                with contextlib.suppress(OSError):
                    conn.send(pd.AAbort(0, 0))
            if silent and not cut:
                wait_for_close(conn, wait)
    return sent


def wait_for_close(conn: Connection, wait: float) -> None:
    """After an input the node said nothing to: close our side and wait (``wait`` seconds at most) for
    the node to close its own, so that the oracle asks once the node has taken in the end of the input
    (a node that breaks on a connection closed mid-PDU does so before we ask, not after)."""
    if not half_close(conn):
        return
    kind, seconds = conn.wait_closed(wait)
    conn.transcript.note(f"we closed our side; the node {'did not close its own' if kind == SILENT else kind} "
                         f"within {seconds:.3f}s")


def half_close(conn: Connection, why: str = "") -> bool:
    """End our side of the stream (the node reads the end of it; its answers still reach us)."""
    if conn.sock is None:
        return False
    try:
        conn.sock.shutdown(socket.SHUT_WR)
    except OSError:
        return False
    if why:
        conn.transcript.note(why)
    return True
