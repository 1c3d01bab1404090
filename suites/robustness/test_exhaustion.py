"""Resource exhaustion with hard caps: a few connections that stall in the middle of a PDU header
must not lock legitimate senders out. Each check holds at most :data:`STALLED` connections for
a few seconds and closes them before it ends. A node at its association limit that answers the
legitimate association with a transient A-ASSOCIATE-RJ does what PS3.8 9.3.4 asks (PERF-003 judges
the limit itself): that is a pass with the level named, not a lockout."""

from __future__ import annotations

from collections.abc import Callable

from dcmconform import busy
from dcmconform.assoc import Liveness, rejection
from dcmconform.probe import Connection, Probe
from dcmconform.verdict import Verdict, check
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
            rj = None if live.alive else rejection(live.transcript)
            if rj is not None and busy.transient(rj.result, rj.source):
                verdict.passed(f"with {n} connection(s) stalled after 3 bytes of a PDU header (and whatever else it "
                               f"held), the node answered a new association {rj.describe()}: its association limit, "
                               "answered as PS3.8 9.3.4 says (the sender retries); not a lockout", live.transcript)
                return
            if not live.alive:
                verdict.fail(f"with {n} connection(s) stalled after 3 bytes of a PDU header, a legitimate "
                             f"association got no service: {live.detail}", live.transcript)
    finally:
        for conn in stalled:
            conn.close()
    verdict.passed(f"with up to {STALLED} connections stalled after 3 bytes of a PDU header, a legitimate "
                   "association and C-ECHO were served each time")
