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
from dcmconform.evidence.verdict import Compared, Verdict, check
from dcmconform.exchange.association import RawAssociation
from dcmconform.exchange.sender import FastAssociation, Payload, SendError, uid_prefix
from dcmconform.harness.held import HELD_WINDOW, Ledger
from dcmconform.load.perf import KB, NAGLE_FIX, NAGLE_MS, percentile
from dcmconform.net.probe import ACCEPTED, REJECTED, Observation, Probe
from dcmconform.net.target import Endpoint
from dcmconform.run.options import RunConfig

SMALL = 8 * KB  # a small C-STORE: its response is the Nagle case
STORES = 20
FLOOR_SIZE = 64 * KB
FLOOR_OBJECTS, FLOOR_SECONDS = 60, 3.0
MOST = 12  # associations PERF-003 opens at most (a default pynetdicom AE serves 10)
FREED_AT_ONCE = 1.5  # PERF-003: seconds a node may take to free the slot of an association we ended with A-ABORT
SETTLE_STEP = 1.0  # PERF-003 on a node that holds slots: seconds between two measurements while it frees them
SETTLE_QUIET = 5.0  # ... and it has freed what it held when it served the same this long (at least) after freeing some
# (longer when the associations it held ended further apart: PERF-003's _quiet)
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
def test_association_limit(probe: Probe, verdict: Verdict, held_ledger: Ledger, dcm_config: RunConfig) -> None:
    # What is free right now is the node's limit only on an otherwise idle node: associations that ended
    # without A-RELEASE may still take slots on a node that waits out its own timer before it frees one.
    # So: does it keep the slot of one we end as earlier checks ended theirs (held_ledger)? If it does,
    # measure again until it has freed them (up to --artim-wait), and name what held them.
    first = _free_slots(probe, verdict, armed_first=True)
    if first.answer is None:  # no limit reached: the answer at the limit, this check's subject, was never seen
        verdict.not_applicable(f"served {MOST} associations at once, as many as this check opens: its limit, if "
                               "any, is higher, so its answer at the limit could not be seen")
    blamed = held_ledger.blame()
    ways = _ways(held_ledger)
    held: FreeSlots | None = None
    freed: list[str] = []
    for way in ways or [ABORT]:  # with no earlier association ended so: whether an aborted one is kept
        tried, held = _holds(probe, verdict, way, grace=0.0 if blamed else FREED_AT_ONCE)
        if held is not None:
            break
        if tried:
            freed.append(way)
    if held is None:
        untried = [w for w in ways if w not in freed]
        said = (f"{first.said()}; it freed at once the slot of an association {' and of one '.join(freed)} (it served "
                f"as many again {'right after' if blamed else f'within {FREED_AT_ONCE:g} s'})" if freed else
                f"{first.said()}")
        if untried:
            watched = _settle(probe, verdict, first, dcm_config.artim_wait, patience=SETTLE_QUIET,
                              quiet=_quiet(held_ledger))
            if watched.served > first.served:  # it was freeing slots: held for those associations
                _settled(verdict, watched, f"right after earlier checks had associations {', '.join(untried)}, it "
                                           f"{first.said()}")
                return
            verdict.passed(f"{said}; earlier checks had associations {', '.join(untried)}, which we cannot "
                           f"repeat, and it served no more in the {watched.waited:.0f} s we watched: if it holds "
                           "those slots longer, its limit on an idle node is higher", compared=first.witness())
        else:
            verdict.passed(f"{said}, so no slot was held for an association that had ended: this is its limit",
                           compared=first.witness())
        return
    if not blamed:
        verdict.passed(f"{first.said()}, with no association of this run ended without A-RELEASE in the "
                       f"{HELD_WINDOW:.0f} s before; but {FREED_AT_ONCE:g} s after one more association of ours was {way} it served "
                       f"{held.served} (before: {held.before}): it keeps the slot of an association that did not end in A-RELEASE, so slots "
                       "held for other clients' ended associations would count too: its limit on an idle node may "
                       "be higher", compared=first.witness())
        return
    keeps = (f"it served {held.before}, and right after one more association of ours was {way} it served "
             f"{held.served}: it does not free at once the slot of an association that did not end in A-RELEASE")
    last = _settle(probe, verdict, held, dcm_config.artim_wait, quiet=_quiet(held_ledger))
    earlier = ("right after earlier checks that ended associations without A-RELEASE ("
               + "; ".join(b["text"] for b in blamed[:3])
               + (f"; {len(blamed) - 3} more check{'s' if len(blamed) > 4 else ''}" if len(blamed) > 3 else "")
               + f") it {first.said()}; then, {keeps}")
    _settled(verdict, last, earlier)


def _settled(verdict: Verdict, last: FreeSlots, earlier: str) -> None:
    """PERF-003's pass after it waited for the node to free the slots it held: the figure it settled at, or
    that it did not settle (and the figure at the end, as a lower bound); ``earlier``: what it saw before."""
    if last.settled:
        verdict.passed(f"{last.said()} once it had freed the slots of associations that had ended (it served the "
                       f"same for {last.quiet:.0f} s, longer than any gap between their ends, {last.waited:.0f} s after "
                       f"we began to wait); {earlier}", compared=last.witness())
        return
    verdict.passed(f"its limit on an idle node was not measured: in {last.waited:.0f} s (--artim-wait) its free slots "
                   f"did not stay the same for {last.quiet:.0f} s (the longest gap between the ends of the associations "
                   f"it may have held), and at the end it {last.said()} (its limit is at least {last.served}); "
                   f"{earlier}", compared=last.witness())


# How earlier associations ended (dcmconform.evidence.follow.ENDS), as PERF-003 can end one of its own to see
# whether the node keeps its slot: by an A-ABORT, by an A-ASSOCIATE-RJ, or by closing the connection.
# The node's own A-ABORT or close we cannot repeat at will: a node that keeps those slots (pynetdicom keeps
# the slot of an association it aborted for a while) is watched for SETTLE_QUIET s instead.
ABORT, REJECT, CLOSE = "ended by A-ABORT", "answered A-ASSOCIATE-RJ", "closed without A-RELEASE"
NODE_ABORT, NODE_CLOSE = "ended by the node's A-ABORT", "closed by the node without A-RELEASE"
_AS = {"aborted-by-us": ABORT, "aborted-by-node": NODE_ABORT, "open": ABORT, "rejected": REJECT,
       "closed-by-us": CLOSE, "closed-by-node": NODE_CLOSE}


def _ways(ledger: Ledger) -> list[str]:
    """The ways the recent unreleased associations ended, most first, as PERF-003 repeats them."""
    counts: dict[str, int] = {}
    for entry in ledger.recent():
        for how, n in entry.how:
            counts[_AS.get(how, ABORT)] = counts.get(_AS.get(how, ABORT), 0) + n
    return sorted(counts, key=lambda w: -counts[w])


def _end_one(probe: Probe, way: str) -> bool:
    """Open one association and end it ``way``; False when the node did not let us (no slot, or it
    accepted the request we meant it to reject)."""
    request = probe.request([(1, VERIFICATION, [IMPLICIT_LE])], called="NO-SUCH-AE") if way == REJECT else None
    raw = RawAssociation(probe, [(1, VERIFICATION, [IMPLICIT_LE])], request=request)
    with busy.armed(False):
        answer = raw.open()
    if way == REJECT:
        if answer.kind == ACCEPTED:
            raw.release()
        raw.conn.close()
        rj = answer.pdu
        return answer.kind == REJECTED and not busy.transient(getattr(rj, "result", 0), getattr(rj, "source", 0))
    if answer.kind != ACCEPTED:
        raw.conn.close()
        return False
    if way == ABORT:
        raw.abort("PERF-003: an association ended by A-ABORT, to see whether the node frees its slot at once")
    else:
        raw.conn.transcript.note("PERF-003: a connection closed without A-RELEASE, to see whether the node frees its slot")
        raw.conn.close()
    return True


class FreeSlots:
    """One measurement: associations opened one by one until the node refused one (``answer``: that
    transient rejection; ``None``: it served :data:`MOST`), all released in order at the end."""

    def __init__(self, served: int, answer: Observation | None, waited: float = 0.0, settled: bool = False,
                 quiet: float = 0.0) -> None:
        self.served, self.answer, self.waited, self.settled, self.quiet = served, answer, waited, settled, quiet
        self.before = served  # _holds: what it served right before we ended one association without A-RELEASE

    def said(self) -> str:
        if self.answer is None:
            return f"served {self.served} associations at once (its limit, if any, is higher)"
        return (f"served {self.served} association{'s' if self.served != 1 else ''} at once; association "
                f"{self.served + 1}: {self.answer.describe()}")

    def witness(self) -> Compared:
        if self.answer is None:
            return Compared(f"{MOST} A-ASSOCIATE-RQs, each while the ones before were up",
                            "each answered at once (A-ASSOCIATE-AC, or A-ASSOCIATE-RJ result 2 at the limit)",
                            f"{self.served} A-ASSOCIATE-AC")
        return Compared(f"the answer to A-ASSOCIATE-RQ {self.served + 1} with {self.served} associations up",
                        "A-ASSOCIATE-RJ result 2 (rejected-transient), source 2 or 3", self.answer.describe())


def _free_slots(probe: Probe, verdict: Verdict, armed_first: bool = False) -> FreeSlots:
    """How many associations the node serves at once right now; a hang or a hang-up at the limit fails."""
    held: list[RawAssociation] = []
    try:
        for n in range(1, MOST + 1):
            raw = RawAssociation(probe, [(1, VERIFICATION, [IMPLICIT_LE])])
            # The first measurement's first association stays armed: a node busy before we hold anything is
            # the session's to wait out (dcmconform.base.busy), not a limit of 0. From the second on (and in
            # later measurements), the rejections are what this check looks for: it sees them itself.
            with busy.armed(armed_first and n == 1):
                answer = raw.open()
            if answer.kind == ACCEPTED:
                held.append(raw)
                continue
            raw.conn.close()
            rj = answer.pdu
            if answer.kind == REJECTED and busy.transient(getattr(rj, "result", 0), getattr(rj, "source", 0)):
                return FreeSlots(n - 1, answer)
            verdict.fail(f"with {n - 1} associations up, association {n} got {answer.describe()} instead of "
                         "A-ASSOCIATE-RJ (transient)")
    finally:
        for raw in held:
            raw.release()
    return FreeSlots(MOST, None)


def _holds(probe: Probe, verdict: Verdict, way: str, grace: float) -> tuple[bool, FreeSlots | None]:
    """Whether the node keeps the slot of an association ended ``way``: the free slots right before and
    right after we end one so (and again for up to ``grace`` s: a node's worker may take a moment to end;
    0 while earlier associations' slots may be freed meanwhile, which would hide ours). The measurement
    after, when it served fewer (or had no slot free to try with); ``None`` when it served as many. First:
    whether it could be tried (a node that accepts any called AE title rejects nothing here)."""
    before = _free_slots(probe, verdict)
    if before.served == 0:
        return True, before  # every slot taken: it holds them for the associations that ended before
    if way in (NODE_ABORT, NODE_CLOSE):
        return False, None
    if not _end_one(probe, way):
        return (False, None) if way == REJECT else (True, _free_slots(probe, verdict))
    deadline = time.monotonic() + grace
    while True:
        after = _free_slots(probe, verdict)
        if after.answer is None or after.served >= before.served:
            return True, None
        if time.monotonic() >= deadline:
            after.before = before.served
            return True, after
        time.sleep(min(SETTLE_STEP / 2, max(0.0, deadline - time.monotonic())))


def _quiet(ledger: Ledger) -> float:
    """How long the free slots must stay the same before the node has freed all it held. A node that holds
    each slot for a fixed time frees them in the order and at the gaps their associations ended, ours
    last: longer than the longest gap between those ends (the ledger's recent ones, and ours now). When
    that is longer than the wait, the limit is not measured (said so), never a count taken too early."""
    ends = sorted([e.ended for e in ledger.recent()] + [time.monotonic()])
    gaps = [b - a for a, b in zip(ends, ends[1:], strict=False)]
    return max([SETTLE_QUIET, *(g + SETTLE_STEP for g in gaps)])


def _settle(probe: Probe, verdict: Verdict, start: FreeSlots, wait: float, quiet: float,
            patience: float = 0.0) -> FreeSlots:
    """Measure again every SETTLE_STEP s, for up to ``wait`` s, until the node has freed what it held: it
    serves :data:`MOST`, or served the same for ``quiet`` s after it had freed some (``settled``).
    ``patience``: stop after so many seconds when it has freed none by then (0: wait for it)."""
    began = time.monotonic()
    best, grew_at = start, 0.0
    while True:
        time.sleep(max(0.0, min(SETTLE_STEP, began + wait - time.monotonic())))
        now = _free_slots(probe, verdict)
        if now.served > best.served:
            best, grew_at = now, time.monotonic()
        idle = best.answer is None or bool(grew_at and time.monotonic() - grew_at >= quiet)
        bored = bool(patience and not grew_at and time.monotonic() - began >= patience)
        if idle or bored or time.monotonic() >= began + wait:
            return FreeSlots(best.served, best.answer, time.monotonic() - began, settled=idle, quiet=quiet)


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
