"""Performance: response latency, sustained throughput, the association limit and latency under load.

Short enough for the default run (a few seconds each). The sends use the fast path
(:mod:`dcmconform.exchange.sender`): each association's negotiation is in the check's transcript, the
objects themselves are not (their figures are the evidence). Figures depend on the machine;
each check judges against a bound far from what a healthy node shows.
"""

from __future__ import annotations

import threading
import time

from dcmconform.base import busy
from dcmconform.base.uids import IMPLICIT_LE, VERIFICATION
from dcmconform.evidence.verdict import Verdict, check
from dcmconform.exchange.association import RawAssociation
from dcmconform.exchange.sender import FastAssociation, Payload, SendError, uid_prefix
from dcmconform.load.perf import KB, NAGLE_FIX, NAGLE_MS, percentile
from dcmconform.net.probe import ACCEPTED, REJECTED, Probe
from dcmconform.net.target import Endpoint
from dcmconform.run.options import RunConfig

SMALL = 8 * KB  # a small C-STORE: its response is the Nagle case
STORES = 20
FLOOR_SIZE = 64 * KB
FLOOR_OBJECTS, FLOOR_SECONDS = 60, 3.0
MOST = 12  # associations PERF-003 opens at most (a default pynetdicom AE serves 10)
LOADED = 4  # parallel associations of PERF-004
TRANSIENT = ("A-ASSOCIATE-RJ result 2, source 2", "A-ASSOCIATE-RJ result 2, source 3")  # AAssociateRJ.describe()
ECHOES = 25
GROWTH = 2.0  # PERF-004: with LOADED associations, each echo may take up to GROWTH x LOADED x the lone one


def _figures(values: list[float]) -> str:
    return ", ".join(f"{v:.1f}" for v in values)


@check("PERF-001", "Small C-STORE responses come back at once, not after a 40 ms delayed-ACK stall (Nagle)",
       "PS3.8 9.1 (TCP transport); practice", "PRACTICE", fix=NAGLE_FIX, stores=True)
def test_store_response_latency(probe: Probe, target: Endpoint, dcm_config: RunConfig, verdict: Verdict) -> None:
    payload = Payload.store(SMALL, uid_prefix())
    times: list[float] = []
    with FastAssociation(target, dcm_config.calling_aet, dcm_config.timeout, payload, probe) as fast:
        refused = fast.open()
        if refused:
            verdict.not_applicable(f"no Secondary Capture storage association: {refused}")
        for n in range(STORES):
            started = time.perf_counter()
            try:
                fast.send(n)
            except SendError as exc:
                verdict.fail(f"C-STORE {n + 1} of {STORES} ({SMALL // KB} KB): {exc}")
            times.append((time.perf_counter() - started) * 1000)
    p50, p95 = percentile(times, 50), percentile(times, 95)
    said = f"C-STORE of {SMALL // KB} KB: response after p50 {p50:.1f} ms, p95 {p95:.1f} ms over {STORES} objects"
    verdict.judge(p50 < NAGLE_MS, said, f"{said} (>= {NAGLE_MS:.0f} ms): responses wait for a delayed ACK",
                  evidence="response times (ms): " + _figures(times),
                  compared=(f"median C-STORE-RSP time ({SMALL // KB} KB, {STORES} objects)", f"under {NAGLE_MS:.0f} ms",
                            f"{p50:.1f} ms"))


@check("PERF-002", "Sustained C-STORE throughput of 64 KB objects reaches the floor (--perf-floor)",
       "practice (a modality's or router's send rate)", "PRACTICE",
       fix="The node stores 64 KB objects slower than the floor you set. Look for a per-object fsync or "
           "database commit, synchronous forwarding or compression on receipt, a small TCP receive buffer, "
           "or a rate limit; move the slow work after the C-STORE-RSP.", stores=True)
def test_sustained_throughput(probe: Probe, target: Endpoint, dcm_config: RunConfig, verdict: Verdict) -> None:
    payload = Payload.store(FLOOR_SIZE, uid_prefix())
    floor = dcm_config.perf_floor
    sent = 0
    with FastAssociation(target, dcm_config.calling_aet, dcm_config.timeout, payload, probe) as fast:
        refused = fast.open()
        if refused:
            verdict.not_applicable(f"no Secondary Capture storage association: {refused}")
        started = time.monotonic()
        while sent < FLOOR_OBJECTS and time.monotonic() - started < FLOOR_SECONDS:
            try:
                fast.send(sent)
            except SendError as exc:
                verdict.fail(f"C-STORE {sent + 1} ({FLOOR_SIZE // KB} KB): {exc}")
            sent += 1
        seconds = time.monotonic() - started
    mb_per_s = sent * payload.size / (1024 * 1024) / seconds
    said = f"{sent} C-STOREs of {payload.size // KB} KB in {seconds:.2f} s: {mb_per_s:.1f} MB/s ({sent / seconds:.0f}/s)"
    verdict.judge(mb_per_s >= floor, f"{said}, floor {floor:g} MB/s", f"{said}, under the floor of {floor:g} MB/s",
                  compared=(f"C-STORE throughput ({payload.size // KB} KB objects)", f"at least {floor:g} MB/s (--perf-floor)",
                            f"{mb_per_s:.1f} MB/s"))


@check("PERF-003", "At its association limit the node answers A-ASSOCIATE-RJ (transient), it does not hang or hang up",
       "PS3.8 9.3.4 (A-ASSOCIATE-RJ: rejected-transient, local-limit-exceeded), 9.2", "SHOULD",
       fix="When every association slot is taken, answer a new A-ASSOCIATE-RQ at once with A-ASSOCIATE-RJ "
           "result 2 (rejected-transient), source 3, reason 2 (local-limit-exceeded): the sender then retries "
           "later. A request left unanswered, or a connection closed without a PDU, looks to the sender like a "
           "broken network and stalls or loses its work queue.")
def test_association_limit(probe: Probe, verdict: Verdict) -> None:
    held: list[RawAssociation] = []
    outcome, limit_answer = "", ""
    try:
        for n in range(1, MOST + 1):
            raw = RawAssociation(probe, [(1, VERIFICATION, [IMPLICIT_LE])])
            # The first association stays armed: a node busy before we hold anything is the session's to
            # wait out (dcmconform.base.busy), not a limit of 0. From the second on, the rejections are what
            # this check looks for: it sees them itself.
            with busy.armed(n == 1):
                answer = raw.open()
            if answer.kind == ACCEPTED:
                held.append(raw)
                continue
            raw.conn.close()
            rj = answer.pdu
            if answer.kind == REJECTED and busy.transient(getattr(rj, "result", 0), getattr(rj, "source", 0)):
                limit_answer = answer.describe()
                outcome = (f"served {n - 1} associations at once; association {n}: {answer.describe()} (what was "
                           "free then: slots the node still held for earlier connections count against its limit, "
                           "so its limit on an idle node may be higher)")
                break
            verdict.fail(f"with {n - 1} associations up, association {n} got {answer.describe()} instead of "
                         "A-ASSOCIATE-RJ (transient)")
    finally:
        for raw in held:
            raw.release()
    if not outcome:  # no limit reached: the answer at the limit, this check's subject, was never seen
        verdict.not_applicable(f"served {MOST} associations at once, as many as this check opens: its limit, if "
                               "any, is higher, so its answer at the limit could not be seen")
    verdict.passed(outcome, compared=(f"answer to an A-ASSOCIATE-RQ with every free slot held ({len(held)} "
                                      "associations up)", "A-ASSOCIATE-RJ rejected-transient (result 2)", limit_answer))


def _echo_loop(endpoint: Endpoint, calling: str, timeout: float, probe: Probe, count: int, opened: threading.Barrier,
               out: list[float], refusals: list[str], problems: list[str]) -> None:
    fast = FastAssociation(endpoint, calling, timeout, Payload.echo(), probe)
    try:
        with busy.armed(False):  # a thread: the check raises NodeBusy for it (_busy)
            refused = fast.open()
        if refused:
            refusals.append(refused)
            opened.abort()  # the load cannot be made: the others stop waiting for this one
            return
        opened.wait(2 * timeout + 1)  # longer than any open() can take, so a slow open is not a broken wait
        for n in range(count):
            started = time.perf_counter()
            fast.send(n)
            out.append((time.perf_counter() - started) * 1000)
    except threading.BrokenBarrierError:
        return  # another association was refused (its refusal is recorded) or never opened
    except SendError as exc:
        problems.append(str(exc) or type(exc).__name__)
    finally:
        fast.close()


def _echoes(endpoint: Endpoint, cfg: RunConfig, probe: Probe,
            associations: int) -> tuple[list[float], list[str], list[str]]:
    """C-ECHO round trips (ms) of ``associations`` associations echoing at once, the answers of those
    not accepted, and what went wrong on those that were."""
    times: list[float] = []
    refusals: list[str] = []
    problems: list[str] = []
    opened = threading.Barrier(associations)
    threads = [threading.Thread(target=_echo_loop, daemon=True,
                                args=(endpoint, cfg.calling_aet, cfg.timeout, probe, ECHOES, opened, times, refusals,
                                      problems))
               for _ in range(associations)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + cfg.timeout * (ECHOES + 2)
    for thread in threads:
        thread.join(max(0.1, deadline - time.monotonic()))
    return times, refusals, problems


def _busy(refused: list[str]) -> None:
    """A transient rejection among ``refused``: the node is busy, the session's to wait out (and run the
    check again), not this check's finding."""
    transient = [r for r in refused if r.startswith(TRANSIENT)]
    if transient:
        raise busy.NodeBusy(transient[0], first=False)


@check("PERF-004", f"Latency under load: with {LOADED} associations at once, responses are not slower than "
       f"sharing the node {LOADED} ways", "practice (a busy hospital sends from many modalities at once)", "PRACTICE",
       fix="Each response takes much longer when several associations are up than the work shared among them "
           "explains: look for a global lock held while waiting (database, disk, logging), a thread pool "
           "smaller than the associations it accepts, or per-association polling with sleeps.")
def test_latency_under_load(probe: Probe, target: Endpoint, dcm_config: RunConfig, verdict: Verdict) -> None:
    alone, refused, problems = _echoes(target, dcm_config, probe, 1)
    _busy(refused)
    if refused or problems or not alone:
        verdict.not_applicable(f"no Verification association: {'; '.join(refused + problems) or 'no answer'}")
    loaded, refused, problems = _echoes(target, dcm_config, probe, LOADED)
    _busy(refused)
    if refused:
        verdict.not_applicable(f"the node did not serve {LOADED} associations at once ({'; '.join(refused)[:300]}); "
                               "PERF-003 judges its limit")
    if problems:
        verdict.fail(f"with {LOADED} associations up: {'; '.join(problems)[:300]}")
    if not loaded:  # neither refused nor failing, just not all up in time: a node (or machine) busy right now
        raise busy.NodeBusy(f"no answer to {LOADED} association requests at once within {2 * dcm_config.timeout + 1:.0f} s",
                            first=False)  # the session waits for it to serve and runs the check again
    one, many = percentile(alone, 50), percentile(loaded, 50)
    bound = max(one * GROWTH * LOADED, 5.0)  # 5 ms: below that, scheduling noise
    said = f"C-ECHO p50 {one:.2f} ms alone, {many:.2f} ms with {LOADED} associations at once"
    verdict.judge(many <= bound, f"{said} (bound {bound:.1f} ms)",
                  f"{said}: more than {GROWTH:g} x {LOADED} x the lone figure ({bound:.1f} ms)",
                  evidence=f"alone (ms): {_figures(alone)}\nloaded (ms): {_figures(loaded)}",
                  compared=(f"median C-ECHO round trip with {LOADED} associations at once",
                            f"at most {bound:.1f} ms ({GROWTH:g} x {LOADED} x {one:.2f} ms alone, or 5 ms)", f"{many:.2f} ms"))

