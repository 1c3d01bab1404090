"""The fuzzer: send inputs of one phase (:mod:`.inputs`), ask after each whether the node still
serves (the liveness oracle), let hypothesis shrink what hurt it, keep everything bounded.

The oracle: a new association from our calling AE and a C-ECHO on it (raw bytes, one association),
within ``--timeout``. It names the symptom: ``crash`` (the connection is refused afterwards; for a
managed peer, the process is gone with its exit status), ``hang`` (no answer to a new association
by the deadline), ``stopped`` (any other way the node no longer serves: a close, an abort, a
rejection, a failed C-ECHO). A transient rejection (``busy``, PS3.8 9.3.4: 2/2 or 2/3) is
waited out like the session's health gate does, and counted, not a finding.

Speed without losing the oracle's truth: after an input the fuzzer reads until the node has said
what it will say (a PDU that ends the exchange, a close, a reset, garbage) and waits for silence
only as long as the node's own recent answer times say (``--input-wait`` at most; then it closes
its side and waits for the node's close). An input the node answered shows it serving, so the
oracle asks only after an unanswered input, and at least every ``check_every`` inputs. When it
then finds the node down, each input since it last asked is tried alone on the recovered node; if
an earlier one is the culprit, the phase starts again with the same seed asking after every input,
so that hypothesis meets that input again and shrinks it by its own verdict. While hypothesis
generates, up to ``parallel`` inputs (and the oracle's ask) are in flight at once in worker threads
(:mod:`.exchange` sends each); an ask covers the inputs back before it started.

A node we cannot restart (``--target``) is waited for after each failure, up to ``recover_wait``
seconds (a service manager restarting it); a managed peer (``--peer``) is restarted. Hypothesis
needs a verdict that depends on the input alone, so a failure met on a node that had served other
inputs since it last came back is tried once more on the node just recovered: if the node then
survives the same input, the failure was cumulative (earlier inputs did it) and is recorded as an
unconfirmed event, not a finding of that input.

Bounds: the whole run stops at its budget (each phase gets its share of what is left), each input
waits at most ``input_wait`` seconds for answers, and the run stops at ``max_connections``
connections or ``max_bytes`` bytes sent. Ctrl-C stops it with the findings so far.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis.errors import Flaky
from hypothesis.strategies import SearchStrategy

from dcmconform.base import busy
from dcmconform.base.text import printable
from dcmconform.dimse.commands import C_ECHO_RSP, echo_command
from dcmconform.dimse.pdv import Message
from dcmconform.evidence.dump import describe_bytes, hexdump
from dcmconform.evidence.transcript import Transcript
from dcmconform.exchange.association import RawAssociation
from dcmconform.fuzzing.exchange import Sent, send_case
from dcmconform.fuzzing.inputs import ASSOCIATED, CONTEXTS, PHASES, Case, cases, good_request
from dcmconform.net.probe import (
    ACCEPTED,
    CLOSED,
    REFUSED,
    RESET,
    SILENT,
    UNREACHABLE,
    Probe,
)
from dcmconform.net.target import Endpoint
from dcmconform.wire import pdus as pd

CRASH, HANG, STOPPED = "crash", "hang", "stopped"
BUSY = "busy"  # a transient A-ASSOCIATE-RJ (dcmconform.base.busy): waited out, not a finding
LATENCY_SAMPLES = 64  # recent answer times kept to set the silence wait (Target.silence)
SILENCE_FACTOR = 2.0
MIN_SILENCE = 0.02  # seconds
MIN_SETTLE = 0.02  # seconds
SETTLE = 0.2  # seconds before a second look at a node that closed or reset a new connection
MAX_PARALLEL = 32  # inputs in flight at most, whatever Limits.parallel says
REGROW_AFTER = 20  # oracle asks the node served before one more input may be in flight again after a busy answer
FAST_FORWARD_MARGIN = 50  # calls past a culprit's place in the first pass before a rerun stops skipping
EXCHANGE_LINES = 400  # lines of the finding's exchange (its transcript's dump) kept in the report
REPORT_SCHEMA = "dcmconform-fuzz/1"


@dataclass(frozen=True)
class Limits:
    budget: float = 60.0  # seconds for the whole run
    input_wait: float = 0.5  # seconds of silence after one input before it counts as unanswered
    check_every: int = 10  # the oracle asks at least after this many inputs (and after any unanswered one)
    recover_wait: float = 30.0  # seconds to wait for a node to serve again after a failure
    max_connections: int = 20000
    max_bytes: int = 64 * 1024 * 1024
    max_examples: int = 5000  # inputs per phase, whatever the time left
    parallel: int = 4  # inputs in flight at once while hypothesis generates (1: one at a time); halved on a busy node


@dataclass
class Health:
    ok: bool
    symptom: str = ""
    detail: str = ""


class Target:
    """The node under test: an endpoint we cannot restart (waited for after a failure)."""

    def __init__(self, endpoint: Endpoint, calling_aet: str, timeout: float) -> None:
        self.endpoint = endpoint
        self.calling_aet = calling_aet
        self.timeout = timeout
        self.connections = 0
        self.bytes_sent = 0
        self.checks = 0  # times the oracle asked (one association + C-ECHO each)
        self.max_length = 0  # the maximum length received its A-ASSOCIATE-AC announced (0: unknown, unlimited)
        self.latencies: deque[float] = deque(maxlen=LATENCY_SAMPLES)  # seconds to the node's first answers
        self._count = threading.Lock()  # inputs run in several threads at once (Limits.parallel)

    def sent(self, connections: int = 0, data: int = 0) -> None:
        """Count connections opened and bytes sent (from any thread)."""
        with self._count:
            self.connections += connections
            self.bytes_sent += data

    def settle(self) -> None:
        """Pause before the oracle asks about an unanswered input: what a node does after a connection
        ends (freeing, counting, dying) runs a moment after its close. The node's 90th-percentile answer
        time, between :data:`MIN_SETTLE` and :data:`SETTLE`."""
        recent = sorted(self.latencies)
        typical = recent[int(0.9 * (len(recent) - 1))] if recent else SETTLE
        time.sleep(min(SETTLE, max(MIN_SETTLE, typical)))

    def silence(self, wait: float) -> float:
        """How long silence after an input lasts before it counts as no answer: ``wait`` (``--input-wait``)
        at most; once the node has answered :data:`LATENCY_SAMPLES` // 8 times (inputs, the good
        associations before them, the oracle), :data:`SILENCE_FACTOR` times the 90th percentile of its
        recent answer times, but at least :data:`MIN_SILENCE`. An input cut short this way is judged by
        the oracle, like any unanswered one: it can cost an answer in the report, never a verdict."""
        if len(self.latencies) < LATENCY_SAMPLES // 8:
            return wait
        recent = sorted(self.latencies)
        return min(wait, max(MIN_SILENCE, SILENCE_FACTOR * recent[int(0.9 * (len(recent) - 1))]))

    def health(self) -> Health:
        """The liveness oracle: a new association from our calling AE and a C-ECHO on it, in raw bytes.
        What the association gets names the symptom when the node does not serve."""
        self.checks += 1
        raw = self._associate()
        observed = raw.answer
        assert observed is not None
        if observed.answered:
            self.latencies.append(observed.elapsed)
        if observed.kind in (CLOSED, RESET):  # a process dying as we connect: the listener goes a moment later
            time.sleep(SETTLE)
            raw = self._associate()
            observed = raw.answer
            assert observed is not None
        try:
            if observed.kind == REFUSED:
                return Health(False, CRASH, "a new connection is refused: nothing listens any more" + self.exit_detail())
            if observed.kind in (SILENT, UNREACHABLE):
                return Health(False, HANG, f"no answer to a new association within {self.timeout:g}s")
            rj = observed.pdu
            if isinstance(rj, pd.AAssociateRJ) and busy.transient(rj.result, rj.source):
                return Health(False, BUSY, f"a new association got {observed.describe()}")
            if observed.kind != ACCEPTED:
                return Health(False, STOPPED, f"a new association got {observed.describe()}")
            self.max_length = raw.peer_max
            answer = raw.send(CONTEXTS[0][0], echo_command(1)) or raw.receive(self.timeout)
            if isinstance(answer, Message):
                command = answer.command
                if (command is not None and answer.field == C_ECHO_RSP and command.get("Status") == 0x0000
                        and command.get("MessageIDBeingRespondedTo") == 1):
                    return Health(True)
                status = "" if command is None or command.get("Status") is None else f" status 0x{command.Status:04X}"
                return Health(False, STOPPED, f"a C-ECHO-RQ on a new association got {answer.name}{status}")
            return Health(False, STOPPED, f"a C-ECHO-RQ on a new association got {answer.describe()}")
        finally:
            if raw.established:
                raw.release()
            raw.conn.close()

    def _associate(self) -> RawAssociation:
        probe = Probe(self.endpoint, self.calling_aet, self.timeout, Transcript("health"))
        raw = RawAssociation(probe, CONTEXTS, request=good_request(self.endpoint.ae_title, self.calling_aet))
        self.sent(connections=1)
        raw.open()
        return raw

    def exit_detail(self) -> str:
        return ""

    def recover(self, wait: float) -> bool:
        """Wait up to ``wait`` seconds for the node to serve again."""
        deadline = time.monotonic() + wait
        pause = 0.02
        while True:
            if self.health().ok:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(pause)
            pause = min(pause * 2, 0.2)  # a node at its association limit frees a slot within milliseconds

    def managed(self) -> bool:
        return False


class ManagedTarget(Target):
    """A reference peer we started: restarted (on a new port) after a failure."""

    def __init__(self, peer: Any, calling_aet: str, timeout: float) -> None:
        super().__init__(peer.endpoint, calling_aet, timeout)
        self.peer = peer

    def exit_detail(self) -> str:
        status = self.peer.exit_status()
        return f" (the process ended: {status})" if status else ""

    def recover(self, wait: float) -> bool:
        if self.peer.exit_status() is None and super().recover(min(wait, self.timeout)):
            return True
        self.endpoint = self.peer.restart()
        return super().recover(wait)

    def managed(self) -> bool:
        return True


@dataclass
class Finding:
    phase: str
    case: Case
    symptom: str
    detail: str
    answers: list[str]
    transcript: Transcript
    confirmed: bool = True

    def key(self) -> tuple[int, int, bytes]:
        return (self.case.connections, len(self.case.payload), self.case.payload)

    def headline(self) -> str:
        words = {CRASH: "the node crashed", HANG: "the node hung", STOPPED: "the node stopped serving"}
        return f"{words.get(self.symptom, self.symptom)} after a {len(self.case.payload)}-byte input ({self.phase})"

    def as_json(self) -> dict[str, Any]:
        title, lines = describe_bytes(self.case.payload, good_request("X", "Y") if self.case.prelude == ASSOCIATED
                                      else None)
        return {**self.case.as_json(), "symptom": self.symptom, "detail": printable(self.detail),
                "answers": [printable(a) for a in self.answers[:8]], "confirmed": self.confirmed,
                "headline": printable(self.headline()), "hex": self.case.payload.hex(),
                "dump": [title, *lines], "hexdump": hexdump(self.case.payload),
                "exchange": self.transcript.dump().splitlines()[:EXCHANGE_LINES]}


@dataclass
class PhaseResult:
    name: str
    inputs: int = 0
    finding: Finding | None = None
    unconfirmed: list[str] = field(default_factory=list)  # cumulative failures, in words
    busy: int = 0  # times the node answered a transient rejection after an input (waited out)
    stopped: str = ""  # why it ended before its examples ran out
    seconds: float = 0.0  # how long the phase ran
    checks: int = 0  # times the liveness oracle asked

    def rate(self) -> float:
        return self.inputs / self.seconds if self.seconds > 0 else 0.0

    def as_json(self) -> dict[str, Any]:
        return {"phase": self.name, "inputs": self.inputs, "found": self.finding is not None,
                "unconfirmed": self.unconfirmed, "busy": self.busy, "stopped": self.stopped,
                "seconds": round(self.seconds, 3), "inputs_per_second": round(self.rate(), 1),
                "liveness_checks": self.checks}


class Stop(BaseException):
    """A phase must stop (budget, caps, a node that does not come back): raised through hypothesis,
    which lets a BaseException through at once instead of generating (or shrinking) on."""


class Culprit(BaseException):
    """An earlier input than the one being judged broke the node (found by trying each alone): the
    phase starts again with the same seed, the oracle asking after every input, so that hypothesis
    meets that input again and judges (and shrinks) it by its own verdict."""

    def __init__(self, finding: Finding, index: int) -> None:
        super().__init__(finding.headline())
        self.finding = finding
        self.index = index  # its place among the calls of the pass that met it


@dataclass
class InFlight:
    """An input sent in a worker thread while hypothesis draws the next (:attr:`Limits.parallel`)."""

    case: Case
    future: Future[Sent]
    transcript: Transcript


class Fuzzer:
    def __init__(self, target: Target, limits: Limits, seed: int, database: Path | None,
                 say: Callable[[str], None] = lambda _: None) -> None:
        self.target = target
        self.limits = limits
        self.seed = seed
        self.database = database
        self.say = say
        self.started = time.monotonic()
        self.deadline = self.started + limits.budget
        self.fresh = False  # the node just came back and has served no input since
        self.gone = ""  # why the run stopped for good ("" while it goes on)
        self.interrupted = False
        self.unchecked: list[Case] = []  # inputs sent since the oracle last found the node serving
        self.strict = False  # the oracle asks after every input (a phase run again for a culprit)
        self.parallel = min(limits.parallel, MAX_PARALLEL)  # inputs in flight at once while generating; halved on a busy node
        self.serial = False  # one input at a time: a strict pass, or shrinking (each verdict its input's own)
        self.inflight: deque[InFlight] = deque()
        self.back: list[Case] = []  # inputs back from flight since the oracle last asked
        self.asking: tuple[Future[Health], list[Case]] | None = None  # an oracle ask in flight, the inputs it covers
        self.down: Health | None = None  # an ask in flight found the node down as the phase stopped
        self.suspects: list[Case] = []  # inputs since the oracle last asked that the node did not answer
        self.pool: ThreadPoolExecutor | None = None
        self.served = 0  # oracle asks served since the number in flight last changed
        self.calls = 0  # inputs hypothesis handed over in this pass
        self.places: dict[Case, int] = {}  # each unchecked input's call number
        self.skip: tuple[Case, int] | None = None  # a rerun's culprit and its place: the inputs before it are not sent again

    def run(self, phases: list[str] | tuple[str, ...] = PHASES) -> list[PhaseResult]:
        results = []
        for i, phase in enumerate(phases):
            result = PhaseResult(phase)
            results.append(result)
            if self.gone or self.interrupted:
                result.stopped = self.gone or "interrupted"
                continue
            share = (self.deadline - time.monotonic()) / (len(phases) - i)
            self.say(f"phase {phase}: up to {max(share, 0):.0f} s")
            started, checks = time.monotonic(), self.target.checks
            try:
                self._phase(result, time.monotonic() + share)
            except KeyboardInterrupt:
                self.interrupted = True
                result.stopped = "interrupted"
            finally:
                result.seconds = time.monotonic() - started
                result.checks = self.target.checks - checks
        return results

    def _phase(self, result: PhaseResult, deadline: float) -> None:
        failures: dict[Case, Finding] = {}

        def condition(case: Case) -> bool:
            why = self._stop_reason(deadline)
            if why:
                result.stopped = result.stopped or why
                raise Stop(why)
            self.calls += 1
            if self._skipped(case):
                return False
            result.inputs += 1
            found = self._try(result, case)
            if found is not None:
                self.serial = True  # hypothesis shrinks now: each verdict must be its own input's
                failures[case] = found
                best = result.finding
                if best is None or found.key() < best.key():
                    result.finding = found
            return found is not None

        options = settings(database=DirectoryBasedExampleDatabase(str(self.database)) if self.database else None,
                           max_examples=self.limits.max_examples, deadline=None, derandomize=False,
                           phases=[Phase.reuse, Phase.generate, Phase.shrink], verbosity=Verbosity.quiet,
                           suppress_health_check=list(HealthCheck), report_multiple_bugs=False)
        if not self.target.max_length:
            self.target.health()  # learns the node's maximum length received, a boundary the inputs try
        strategy = cases(result.name, self.target.endpoint.ae_title, self.target.calling_aet, self.target.max_length)
        self.unchecked, self.suspects, self.places, self.strict, self.skip = [], [], {}, False, None
        self.back, self.asking, self.down = [], None, None
        self.parallel = min(self.limits.parallel, MAX_PARALLEL)
        self.pool = ThreadPoolExecutor(max(1, self.parallel), thread_name_prefix="fuzz-input")
        try:
            self._passes(result, strategy, condition, options, failures, deadline)
        finally:
            inflight = self._drain()  # judged below, with the inputs since the oracle last asked
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None
        self.strict = self.serial = False
        self.skip = None
        for f in inflight:
            self._back(f)
        if self.unchecked and not self.gone and not self.interrupted:
            found = self._judge_unchecked(result)  # the last inputs of the phase, since the oracle last asked
            if found is not None and (result.finding is None or found.key() < result.finding.key()):
                result.finding = found

    def _passes(self, result: PhaseResult, strategy: SearchStrategy[Case], condition: Callable[[Case], bool],
                options: settings, failures: dict[Case, Finding], deadline: float) -> None:
        for attempt in range(2):  # once more, strict, when an earlier input than the one judged was the culprit
            self.calls, self.serial = 0, self.strict
            try:
                with contextlib.suppress(Stop, Flaky):
                    smallest = shrunk(strategy, condition, options, self.seed,
                                      f"dcmconform-fuzz-{result.name}".encode())
                    if smallest in failures:
                        result.finding = failures[smallest]
                break
            except Culprit as culprit:
                if result.finding is None or culprit.finding.key() < result.finding.key():
                    result.finding = culprit.finding  # kept as found (not shrunk) if the second pass cannot
                if attempt or self._stop_reason(deadline):
                    break
                self.say(f"phase {result.name}: {culprit.finding.headline()} (an earlier input than the one "
                         "that showed it); again from the start, asking after every input, to shrink it")
                self._drain()
                self.unchecked, self.suspects, self.places, self.back, self.down = [], [], {}, [], None
                self.strict = True
                self.skip = (culprit.finding.case, culprit.index)

    def _skipped(self, case: Case) -> bool:
        """In a rerun for a culprit: whether ``case`` comes before it. The same seed draws the same inputs,
        and those before the culprit were judged in the first pass: not sent again. Skipping ends at the
        culprit, or :data:`FAST_FORWARD_MARGIN` calls past its place (the draws went another way)."""
        if self.skip is None:
            return False
        culprit, place = self.skip
        if case != culprit and self.calls <= place + FAST_FORWARD_MARGIN:
            return True
        self.skip = None
        return False

    def _stop_reason(self, deadline: float) -> str:
        if self.gone:
            return self.gone
        if time.monotonic() >= min(deadline, self.deadline):
            return "budget"
        if self.target.connections >= self.limits.max_connections:
            return f"connection cap ({self.limits.max_connections})"
        if self.target.bytes_sent >= self.limits.max_bytes:
            return f"byte cap ({self.limits.max_bytes})"
        return ""

    def _try(self, result: PhaseResult, case: Case) -> Finding | None:
        """One input and the oracle; a :class:`Finding` when the node no longer serves after it.

        The oracle asks after an input the node did not answer (silence, a close, a reset, garbage),
        after every :attr:`Limits.check_every` inputs, and after every input in a strict pass. An
        answered input shows the node serving; what broke it quietly shows at the next ask, and each
        input since the last is then tried alone on the recovered node to find the one that did it."""
        self.places.setdefault(case, self.calls)
        if not self.serial and self.parallel > 1 and self.pool is not None:
            return self._try_in_flight(result, case)
        for f in self._drain():
            self._back(f)
        self.back = []
        if self.down is not None:  # an oracle ask in flight found the node down: the inputs before this one
            down, self.down = self.down, None
            found = self._down(result, down, case)
            if found is not None:
                return found
        transcript = Transcript(f"fuzz {case.phase}")
        sent = send_case(self.target, case, self.limits.input_wait, transcript)
        self.unchecked.append(case)
        if sent.answered and not self.strict and not self.suspects and len(self.unchecked) < self.limits.check_every:
            self.fresh = False
            return None
        if not sent.answered or self.suspects:
            self.target.settle()
        health = self.target.health()
        earlier = self._suspects_first(self.unchecked[:-1])
        self.unchecked, self.suspects = [], []
        if health.ok:
            self.fresh = False
            return None
        if health.symptom == BUSY:  # the session's RUN-BUSY, not this input's doing: wait it out
            result.busy += 1
            self._recover()
            return None
        finding = Finding(result.name, case, health.symptom, health.detail, sent.answers, transcript)
        was_fresh = self.fresh
        if not self._recover():
            finding.confirmed = False
            return finding
        if was_fresh and not earlier:
            return finding
        if self._fails_alone(case) is not None:
            if not self._recover():
                finding.confirmed = False
            return finding
        culprit = self._culprit(earlier)
        if culprit is not None:
            raise Culprit(culprit, self.places.get(culprit.case, self.calls))
        if len(result.unconfirmed) < 10:
            result.unconfirmed.append(f"{health.symptom}: {printable(health.detail)} after a "
                                      f"{len(case.payload)}-byte input that the node survived alone")
        return None

    def _try_in_flight(self, result: PhaseResult, case: Case) -> Finding | None:
        """One input sent in a worker thread while hypothesis draws the next: up to :attr:`parallel` inputs
        and oracle asks at once. The verdict hypothesis gets now is provisional. The oracle asks, in a
        worker too, about the inputs back since it last asked, when one of them was not answered (or
        every :attr:`Limits.check_every` inputs); a serving node at that ask clears them. When it finds the
        node down, every input in flight is waited for and each input since it last found the node serving
        is tried alone on the recovered node (those it did not answer first). The input in hand: its
        finding, shrunk from here on one input at a time. An earlier one: :class:`Culprit`, and a strict
        rerun meets it again."""
        transcript = Transcript(f"fuzz {case.phase}")
        assert self.pool is not None
        self.inflight.append(InFlight(case, self.pool.submit(send_case, self.target, case, self.limits.input_wait,
                                                             transcript), transcript))
        self.unchecked.append(case)
        self.fresh = False
        while self.inflight and (len(self.inflight) + (self.asking is not None) >= self.parallel
                                 or self.inflight[0].future.done()):
            self._back(self.inflight.popleft())
        if self.asking is not None and self.asking[0].done():
            down = self._asked(result)
            if down is not None:
                return self._down(result, down, case)
        if self.asking is None and (self.suspects and any(c in self.suspects for c in self.back)
                                    or len(self.back) >= self.limits.check_every):
            settle = any(c in self.suspects for c in self.back)
            self.asking = (self.pool.submit(self._ask, settle), self.back)
            self.back = []
        return None

    def _back(self, done: InFlight) -> None:
        """An input in flight came back: the next oracle ask covers it."""
        self.back.append(done.case)
        if not done.future.result().answered:
            self.suspects.append(done.case)

    def _ask(self, settle: bool) -> Health:
        if settle:
            self.target.settle()
        return self.target.health()

    def _asked(self, result: PhaseResult) -> Health | None:
        """The oracle's answer, once back: the inputs it covers are judged when the node served (or was
        busy: waited out, fewer inputs at once from now on); the answer when the node was down."""
        assert self.asking is not None
        future, covered = self.asking
        self.asking = None
        health = future.result()
        if not health.ok and health.symptom != BUSY:
            return health
        if not health.ok:  # perhaps our own inputs in flight (or threads a node frees late): fewer at once
            result.busy += 1
            self.parallel, self.served = max(1, self.parallel // 2), 0
            for f in self._drain():
                self._back(f)
            self._recover()
        else:
            self.served += 1
            if self.served >= REGROW_AFTER and self.parallel < min(self.limits.parallel, MAX_PARALLEL):
                self.parallel, self.served = self.parallel + 1, 0  # served that many times: one more again
        self.unchecked = [c for c in self.unchecked if c not in covered]
        self.suspects = [c for c in self.suspects if c not in covered]
        return None

    def _down(self, result: PhaseResult, health: Health, case: Case) -> Finding | None:
        """The oracle found the node down after the inputs since it last found it serving: wait for those
        in flight, bring the node back, and try each alone (those it did not answer first)."""
        for f in self._drain():
            self._back(f)
        inputs = self._suspects_first(self.unchecked)
        self.unchecked, self.suspects, self.back = [], [], []
        if not self._recover():
            return Finding(result.name, inputs[0], health.symptom, health.detail, [],
                           Transcript(f"fuzz {inputs[0].phase}"), confirmed=False)
        culprit = self._culprit(inputs)
        if culprit is not None and culprit.case == case:
            return culprit
        if culprit is not None:
            raise Culprit(culprit, self.places.get(culprit.case, self.calls))
        if len(result.unconfirmed) < 10:
            result.unconfirmed.append(f"{health.symptom}: {printable(health.detail)} after {len(inputs)} inputs, "
                                      "none of which the node failed alone")
        return None

    def _suspects_first(self, inputs: list[Case]) -> list[Case]:
        """``inputs`` with those the node did not answer first (the likelier culprits), order kept otherwise."""
        return [c for c in inputs if c in self.suspects] + [c for c in inputs if c not in self.suspects]

    def _drain(self) -> list[InFlight]:
        """Wait for every input in flight (each bounded by its own deadlines); them, in order. An oracle ask
        in flight is waited for too: a serving node clears what it covers; a node found down leaves them
        unchecked, the node's state in :attr:`down` for the next ask to start from."""
        done = list(self.inflight)
        self.inflight.clear()
        for f in done:
            f.future.result()
        if self.asking is not None:
            future, covered = self.asking
            self.asking = None
            health = future.result()
            if health.ok:
                self.unchecked = [c for c in self.unchecked if c not in covered]
                self.suspects = [c for c in self.suspects if c not in covered]
            elif health.symptom != BUSY:
                self.down = health
        return done

    def _fails_alone(self, case: Case) -> Finding | None:
        """Send ``case`` to the node just recovered and ask the oracle: the finding when it fails."""
        transcript = Transcript(f"fuzz {case.phase}")
        sent = send_case(self.target, case, self.limits.input_wait, transcript)
        if not sent.answered:
            self.target.settle()
        health = self.target.health()
        if health.ok or health.symptom == BUSY:
            self.fresh = False
            return None
        return Finding(case.phase, case, health.symptom, health.detail, sent.answers, transcript)

    def _culprit(self, inputs: list[Case]) -> Finding | None:
        """The first of ``inputs`` that breaks the node when tried alone, on a recovered node, twice
        (the second time on the node fresh from recovery); ``None`` when none does (cumulative)."""
        for case in inputs:
            if self._stop_reason(self.deadline) or self._fails_alone(case) is None:
                continue
            if not self._recover():
                return None
            found = self._fails_alone(case)
            if found is not None:
                found.confirmed = self._recover()
                return found
        return None

    def _judge_unchecked(self, result: PhaseResult) -> Finding | None:
        """At the end of a phase: ask the oracle about the inputs since it last asked; when the node no
        longer serves, the input among them that breaks it alone (not shrunk: the phase is over)."""
        inputs, self.unchecked = self._suspects_first(self.unchecked), []
        if self.down is None and self.suspects:
            self.target.settle()
        self.suspects, self.back = [], []
        health, self.down = self.down or self.target.health(), None
        if health.ok or health.symptom == BUSY:
            if not health.ok:
                result.busy += 1
                self._recover()
            return None
        if not self._recover():
            return Finding(result.name, inputs[-1], health.symptom, health.detail, [], Transcript("fuzz"),
                           confirmed=False)
        found = self._culprit(inputs)
        if found is None and len(result.unconfirmed) < 10:
            result.unconfirmed.append(f"{health.symptom}: {printable(health.detail)} after the phase's last "
                                      f"{len(inputs)} inputs, none of which the node failed alone")
        return found

    def _recover(self) -> bool:
        if self.target.recover(self.limits.recover_wait):
            self.fresh = True
            return True
        self.gone = f"the node did not serve again within {self.limits.recover_wait:g} s"
        return False


class _Found(Exception):
    pass


def shrunk(strategy: SearchStrategy[Case], condition: Callable[[Case], bool], options: settings, number: int,
           key: bytes) -> Case | None:
    """The smallest case ``condition`` holds for (hypothesis's ``find()``, which is this), or ``None``.

    Unlike ``find()``, seeded and with the example database both: ``@seed`` drops the database (a
    seeded run is meant to reproduce, not to remember), so it is put back, under ``key``, and a rerun
    with the same report directory starts from what the last one found."""
    last: list[Case] = []

    @options
    @given(strategy)
    def test(case: Case) -> None:
        if condition(case):
            last[:] = [case]
            raise _Found

    test = seed(number)(test)
    test._hypothesis_internal_use_settings = settings(  # type: ignore[attr-defined]
        test._hypothesis_internal_use_settings, database=options.database)  # type: ignore[attr-defined]
    test._hypothesis_internal_database_key = key  # type: ignore[attr-defined]
    try:
        test()
    except _Found:
        return last[0]
    return None


def replay(target: Target, case: Case, wait: float) -> tuple[Sent, Health, Transcript]:
    """Send one recorded input again and ask the oracle."""
    transcript = Transcript("replay")
    sent = send_case(target, case, wait, transcript)
    if not sent.answered:
        target.settle()
    return sent, target.health(), transcript


__all__ = ["BUSY", "CRASH", "HANG", "REPORT_SCHEMA", "STOPPED", "Finding", "Fuzzer", "Health", "Limits",
           "ManagedTarget", "PhaseResult", "Sent", "Target", "replay", "send_case"]
