"""The fuzzer: send inputs of one phase (:mod:`.inputs`), ask after each whether the node still
serves (the liveness oracle), let hypothesis shrink what hurt it, keep everything bounded.

The oracle is the session's health gate: a fresh association from our calling AE and a C-ECHO,
within ``--timeout``. It names the symptom: ``crash`` (the connection is refused afterwards; for a
managed peer, the process is gone with its exit status), ``hang`` (no answer to a new association
by the deadline), ``stopped`` (any other way the node no longer serves: a close, an abort, a
rejection, a failed C-ECHO). A transient rejection (``busy``, PS3.8 9.3.4: 2/2 or 2/3) is
waited out like the session's health gate does, and counted, not a finding.

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
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis.errors import Flaky
from hypothesis.strategies import SearchStrategy

from dcmconform.base import busy
from dcmconform.net.assoc import liveness
from dcmconform.evidence.dump import describe_bytes, hexdump
from dcmconform.fuzzing.inputs import ASSOCIATED, PHASES, Case, cases, good_request
from dcmconform.net.probe import (
    ACCEPTED,
    CLOSED,
    DATA,
    OTHER_PDU,
    REFUSED,
    RESET,
    SILENT,
    UNREACHABLE,
    Connection,
    Probe,
)
from dcmconform.net.target import Endpoint
from dcmconform.base.text import printable
from dcmconform.evidence.transcript import Transcript
from dcmconform.wire import pdus as pd

CRASH, HANG, STOPPED = "crash", "hang", "stopped"
BUSY = "busy"  # a transient A-ASSOCIATE-RJ (dcmconform.base.busy): waited out, not a finding
MAX_ANSWERS = 4  # PDUs read back after one input
REPEAT_WAIT = 0.05  # seconds to read answers on the second and later connections of one input
SETTLE = 0.2  # seconds before a second look at a node that closed or reset a new connection
EXCHANGE_LINES = 400  # lines of the finding's exchange (its transcript's dump) kept in the report
REPORT_SCHEMA = "dcmconform-fuzz/1"


@dataclass(frozen=True)
class Limits:
    budget: float = 60.0  # seconds for the whole run
    input_wait: float = 0.5  # seconds to read answers after one input
    recover_wait: float = 30.0  # seconds to wait for a node to serve again after a failure
    max_connections: int = 20000
    max_bytes: int = 64 * 1024 * 1024
    max_examples: int = 5000  # inputs per phase, whatever the time left


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

    def health(self) -> Health:
        """The liveness oracle: a raw association names the symptom, then association + C-ECHO."""
        probe = Probe(self.endpoint, self.calling_aet, self.timeout, Transcript("health"))
        self.connections += 2
        observed = probe.associate(good_request(self.endpoint.ae_title, self.calling_aet))
        if observed.kind in (CLOSED, RESET):  # a process dying as we connect: the listener goes a moment later
            time.sleep(SETTLE)
            self.connections += 1
            observed = probe.associate(good_request(self.endpoint.ae_title, self.calling_aet))
        if observed.kind == REFUSED:
            return Health(False, CRASH, "a new connection is refused: nothing listens any more" + self.exit_detail())
        if observed.kind in (SILENT, UNREACHABLE):
            return Health(False, HANG, f"no answer to a new association within {self.timeout:g}s")
        rj = observed.pdu
        if isinstance(rj, pd.AAssociateRJ) and busy.transient(rj.result, rj.source):
            return Health(False, BUSY, f"a new association got {observed.describe()}")
        if observed.kind != ACCEPTED:
            return Health(False, STOPPED, f"a new association got {observed.describe()}")
        alive = liveness(self.endpoint, self.calling_aet, self.timeout)
        if alive.alive:
            return Health(True)
        rj = alive.at_limit()
        if rj is not None:
            return Health(False, BUSY, f"a new association got {rj.describe()}")
        return Health(False, STOPPED, alive.detail)

    def exit_detail(self) -> str:
        return ""

    def recover(self, wait: float) -> bool:
        """Wait up to ``wait`` seconds for the node to serve again."""
        deadline = time.monotonic() + wait
        while True:
            if self.health().ok:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.2)

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
class Sent:
    """What one input did on the wire: whether it went out whole, and the answers, in words."""

    ok: bool
    answers: list[str] = field(default_factory=list)


def send_case(target: Target, case: Case, wait: float, transcript: Transcript) -> Sent:
    """Send ``case`` (its prelude first) on ``case.connections`` connections, one after the other;
    read at most a few answers within ``wait`` seconds on the first, :data:`REPEAT_WAIT` on the
    others (the same input again: what it does to the node counts, its answers were seen), then
    close (A-ABORT first where an association is up)."""
    sent = Sent(True)
    for n in range(case.connections):
        if n:
            wait = min(wait, REPEAT_WAIT)
        with Connection(target.endpoint, target.timeout, transcript) as conn:
            target.connections += 1
            if conn.sock is None:
                return Sent(False, [conn.connect_error.describe() if conn.connect_error else "not connected"])
            if case.prelude == ASSOCIATED:
                request = good_request(target.endpoint.ae_title, target.calling_aet)
                observed = conn.send(request) or conn.receive()
                target.bytes_sent += len(request.encode())
                if observed.kind != ACCEPTED:
                    return Sent(False, [f"the good association before the input got {observed.describe()}"])
            failed = conn.send(case.payload)
            target.bytes_sent += len(case.payload)
            if failed is not None:
                sent.answers.append(failed.describe())
                continue
            for _ in range(MAX_ANSWERS):
                observed = conn.receive(timeout=wait)
                sent.answers.append(observed.describe())
                if observed.kind not in (DATA, OTHER_PDU, ACCEPTED):
                    break
            if conn.established:
                with contextlib.suppress(OSError):
                    conn.send(pd.AAbort(0, 0))
    return sent


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

    def as_json(self) -> dict[str, Any]:
        return {"phase": self.name, "inputs": self.inputs, "found": self.finding is not None,
                "unconfirmed": self.unconfirmed, "busy": self.busy, "stopped": self.stopped}


class Stop(BaseException):
    """A phase must stop (budget, caps, a node that does not come back): raised through hypothesis,
    which lets a BaseException through at once instead of generating (or shrinking) on."""


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
            try:
                self._phase(result, time.monotonic() + share)
            except KeyboardInterrupt:
                self.interrupted = True
                result.stopped = "interrupted"
        return results

    def _phase(self, result: PhaseResult, deadline: float) -> None:
        failures: dict[Case, Finding] = {}

        def condition(case: Case) -> bool:
            why = self._stop_reason(deadline)
            if why:
                result.stopped = result.stopped or why
                raise Stop(why)
            result.inputs += 1
            found = self._try(result, case)
            if found is not None:
                failures[case] = found
                best = result.finding
                if best is None or found.key() < best.key():
                    result.finding = found
            return found is not None

        options = settings(database=DirectoryBasedExampleDatabase(str(self.database)) if self.database else None,
                           max_examples=self.limits.max_examples, deadline=None, derandomize=False,
                           phases=[Phase.reuse, Phase.generate, Phase.shrink], verbosity=Verbosity.quiet,
                           suppress_health_check=list(HealthCheck), report_multiple_bugs=False)
        strategy = cases(result.name, self.target.endpoint.ae_title, self.target.calling_aet)
        with contextlib.suppress(Stop, Flaky):
            smallest = shrunk(strategy, condition, options, self.seed, f"dcmconform-fuzz-{result.name}".encode())
            if smallest in failures:
                result.finding = failures[smallest]

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
        """One input and the oracle; a :class:`Finding` when the node no longer serves after it."""
        transcript = Transcript(f"fuzz {case.phase}")
        sent = send_case(self.target, case, self.limits.input_wait, transcript)
        health = self.target.health()
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
        if was_fresh:
            return finding
        send_case(self.target, case, self.limits.input_wait, Transcript("confirm"))
        if self.target.health().ok:
            self.fresh = False
            if len(result.unconfirmed) < 10:
                result.unconfirmed.append(f"{health.symptom}: {printable(health.detail)} after a "
                                          f"{len(case.payload)}-byte input that the node survived alone")
            return None
        if not self._recover():
            finding.confirmed = False
        return finding

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
    return sent, target.health(), transcript


__all__ = ["BUSY", "CRASH", "HANG", "REPORT_SCHEMA", "STOPPED", "Finding", "Fuzzer", "Health", "Limits",
           "ManagedTarget", "PhaseResult", "Sent", "Target", "replay", "send_case"]
