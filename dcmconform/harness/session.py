"""The session: one run of the checks against one target, a sequence of checks with state.

This module owns the target's lifecycle: :func:`open_target` starts a reference peer (no
``--target``) or takes ``--target`` as given, :class:`TargetState` holds it for the session (a
started peer is restarted, on a new port, when it died or stopped serving during a check), and
:func:`choose_move_destination` decides where C-MOVE sub-operations go.

:class:`Session` is the run itself, kept in the pytest stash under :data:`SESSION` next to the
frozen :class:`~dcmconform.run.options.RunConfig` (:data:`CONFIG`). What happens between checks lives
in two methods: :meth:`Session.before_check` (the autouse fixture calls it before each check that
talks to the target) and :meth:`Session.after_check` (the plugin calls it with each check's
result before reporting it, and again after the check's teardown). Crash detection is the peer
guard's (:mod:`dcmconform.harness.peerguard`); the session asks it at those two points.

Between checks the session also keeps the checks apart (:meth:`Session.after_check` aborts and
closes every connection a check left open) and, after a check that ended abnormally, holds a
health gate (:meth:`Session.gate`): it confirms that the node serves, waiting up to
``--artim-wait`` for it to recover. A transient rejection (A-ASSOCIATE-RJ result 2, source 2 or 3)
means *busy*; a refused connection means *down*. A check the gate cannot run is ``not run`` with
its cause, never ``fail``; the check during which the node went down is charged with its death.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import pytest

from dcmconform.base import waits
from dcmconform.base.busy import NodeBusy, armed, transient
from dcmconform.base.uids import IMPLICIT_LE, VERIFICATION
from dcmconform.evidence import identity
from dcmconform.evidence.transcript import SENT, Transcript
from dcmconform.evidence.verdict import WITHIN_TIMERS, Outcome, Verdict
from dcmconform.harness.held import HELD_WINDOW, Ledger
from dcmconform.harness.peerguard import PeerGuard, charged, last_request
from dcmconform.harness.state import TargetState
from dcmconform.net.assoc import liveness
from dcmconform.net.probe import (
    ABORTED,
    ACCEPTED,
    CLOSED,
    HANDSHAKE,
    REFUSED,
    REJECTED,
    RESET,
    SILENT,
    UNREACHABLE,
    Observation,
    Probe,
    close_leftovers,
)
from dcmconform.net.target import Endpoint, MoveDestination, is_loopback
from dcmconform.net.tls import TlsSettings, check_usable
from dcmconform.net.tls import settings as tls_settings
from dcmconform.run.options import RunConfig
from dcmconform.wire.pdus import AAssociateRJ, AAssociateRQ, PduType, type_of

if TYPE_CHECKING:
    pass

STATE_FIXTURE = "target_state"
NOT_RUN = pytest.StashKey[str]()
OVERRUN = pytest.StashKey[int]()  # on an item: the watchdog stopped it (how many connections it shut down)
WATCHDOG_TIMEOUTS = 60  # a check may run this many --timeout (plus twice --artim-wait), then its watchdog fires  # on an item: why the session did not run it (its outcome is "not run")
GATE_RETRY = 0.2  # seconds between two attempts of the health gate
DOWN_TRIES = 3  # this many checks in a row found the node down: the rest of the run is not run, without asking
NORMAL_END = (str(Outcome.PASS), str(Outcome.NA), str(Outcome.INFO))
BUSY_BACKOFF = 0.25  # a check busy twice in a row waits 0.25, 0.5, 1, 2 ... s more before it runs again
OWN_ANSWER_TRIES = 3  # a check's own request rejected (transient) this many times in a row is its answer
OWN_ANSWER_PAUSE = 0.2  # seconds between those tries: time for the node to free the slot we released
BLAMED = 5  # a busy episode names at most this many checks that left associations unreleased before it


def busy(observed: Observation) -> bool:
    """A transient rejection: A-ASSOCIATE-RJ result 2 from the service provider (source 2 or 3)."""
    pdu = observed.pdu
    return observed.kind == REJECTED and isinstance(pdu, AAssociateRJ) and transient(pdu.result, pdu.source)


def down(observed: Observation) -> bool:
    """The node does not serve: nothing accepts the connection, or nothing answers the request."""
    return observed.kind in (REFUSED, UNREACHABLE, CLOSED, RESET, SILENT)


def first_answer(probe: Probe, request: AAssociateRQ, wait: float) -> Observation:
    """The node's answer to ``request``; a transient rejection (busy) is asked again, GATE_RETRY apart,
    for up to ``wait`` seconds."""
    deadline = time.monotonic() + wait
    while True:
        observed = probe.associate(request)
        if not busy(observed) or time.monotonic() + GATE_RETRY > deadline:
            return observed
        time.sleep(GATE_RETRY)


def never_served(endpoint: Endpoint, observed: Observation, timeout: float, wait: float) -> str | None:
    """Why a run against ``endpoint`` can judge nothing, from its answer to our first A-ASSOCIATE-RQ
    (Verification), or ``None`` when the node answered as DICOM says (an A-ASSOCIATE-AC, or an
    A-ASSOCIATE-RJ other than a transient one, or a failed TLS handshake: the checks judge those). One
    line, for a set-up error: a hung listener, a node that resets or aborts every association."""
    where = f"{endpoint.ae_title}@{endpoint.host}:{endpoint.port}"
    if observed.kind == REFUSED:
        return (f"connection refused by {endpoint.host}:{endpoint.port}: nothing listens there; "
                "check the host and port of the target")
    if observed.kind == UNREACHABLE:
        return (f"no TCP answer from {endpoint.host}:{endpoint.port} within {timeout:g}s "
                f"({observed.detail}); check the host, a firewall, or the network path")
    if busy(observed):
        return (f"{where} answered every A-ASSOCIATE-RQ for {wait:g} s (--artim-wait) with {observed.describe()}: "
                "it is at its association limit; free its slots (or raise its limit) and run again")
    if observed.kind in (ACCEPTED, REJECTED, HANDSHAKE):
        return None  # a failed TLS handshake is the node's answer too: the TLS checks judge it (SEC-001..006)
    if observed.kind == ABORTED:
        answer = f"answered our first A-ASSOCIATE-RQ (Verification) with {observed.describe()}"
    else:
        answer = f"accepted the TCP connection but never served an association: {observed.describe()}"
    return (f"{where} {answer}; no check can be judged. Check that a DICOM AE listens on that port (with TLS "
            "when you give --tls) and that it serves associations")


@dataclass
class Served:
    """What the health gate's associations found: the last answer, after how long, and the first
    transient rejection on the way (``""`` when there was none)."""

    observed: Observation
    waited: float
    busy_answer: str

    @property
    def busy(self) -> bool:
        return busy(self.observed)

    @property
    def down(self) -> bool:
        return down(self.observed)


def choose_move_destination(target: Endpoint | None, ae_title: str, port: int | None) -> MoveDestination:
    """Where C-MOVE sub-operations go: ``--move-aet``/``--move-port``; for a reference peer the session
    picks a free port itself (``port`` None) and writes the destination into the peer's configuration."""
    if target is None:
        from dcmconform.peers.base import free_port

        return MoveDestination(ae_title, port or free_port())
    if port is None:
        return MoveDestination(ae_title, None, missing=(
            f"no move destination is known: configure our storage SCP on {target.ae_title} as a DICOM node "
            f"(AE title {ae_title}, this machine's address, a port of your choice), then pass "
            "--move-aet and --move-port so that the suite listens there"))
    return MoveDestination(ae_title, port, "127.0.0.1" if is_loopback(target.host) else "")


def open_target(target: Endpoint | None, peer_name: str | None, move: MoveDestination | None = None,
                tls: TlsSettings | None = None) -> TargetState:
    """``--target`` as given, or start the reference peer ``peer_name`` (default pynetdicom).

    ``tls`` (the run's ``--tls`` settings) goes on the target's endpoint; a started peer is started
    with TLS instead, with certificates it makes for the run, and its endpoint carries them.

    A peer that cannot start ends the session with exit status 2 and the reason, rather than
    turning every check into an error. A started peer is given ``move`` (our storage SCP) as a
    C-MOVE destination before it starts, so that its generated configuration names it.
    """
    if tls is not None and (problem := check_usable(tls)):
        pytest.exit(f"dcmconform: {problem}", returncode=pytest.ExitCode.USAGE_ERROR)
    if target is not None:
        return TargetState(replace(target, tls=tls), info={"peer": peer_name}, move=move)
    from dcmconform.peers.base import PeerFailed, PeerUnavailable
    from dcmconform.peers.registry import UnknownPeer, make_peer

    name = peer_name or "pynetdicom"
    try:
        peer = make_peer(name)
        if move is not None and move.port is not None:
            peer.move_destinations[move.ae_title] = ("127.0.0.1", move.port)
        peer.tls = tls is not None
        endpoint = peer.start()
    except (UnknownPeer, PeerUnavailable, PeerFailed) as exc:
        pytest.exit(f"dcmconform: cannot start the reference peer: {exc}", returncode=pytest.ExitCode.USAGE_ERROR)
    info: dict[str, Any] = {"peer": name, "peer_backend": peer.backend, "peer_version": peer.version()}
    return TargetState(endpoint, peer, info=info, move=move)


def identify(endpoint: Endpoint, cfg: RunConfig) -> dict[str, Any]:
    """The target's implementation class UID and version name, from a Verification association."""
    from dcmconform.wire.pdus import AAssociateAC

    probe = Probe(endpoint, cfg.calling_aet, cfg.timeout)
    observed = first_answer(probe, probe.request([(1, VERIFICATION, [IMPLICIT_LE])]), cfg.artim_wait)
    problem = never_served(endpoint, observed, cfg.timeout, cfg.artim_wait)
    if problem:  # nothing could be judged: a set-up error, never a run of "not run" that exits 0
        pytest.exit(f"dcmconform: {problem}", returncode=pytest.ExitCode.USAGE_ERROR)
    info: dict[str, Any] = {"ae_title": endpoint.ae_title, "host": endpoint.host, "port": endpoint.port,
                            "implementation_class_uid": None, "implementation_version_name": None}
    if isinstance(observed.pdu, AAssociateAC):
        info["implementation_class_uid"] = observed.pdu.implementation_class_uid
        info["implementation_version_name"] = observed.pdu.implementation_version_name
    else:
        info["first_contact"] = observed.describe()
    return info


class Session:
    """One run: its configuration, its target (opened by the first check that needs it), each
    check's result as reported (``results``, by node ID), and what happens between checks."""

    def __init__(self, config: RunConfig) -> None:
        self.config = config
        self.state: TargetState | None = None
        self.results: dict[str, dict[str, Any]] = {}
        self.guard: PeerGuard | None = None
        self.previous: pytest.Item | None = None  # the check that ran last
        self.previous_transcript: Transcript | None = None  # its exchange (what may have killed the node)
        self.ledger = Ledger()  # the associations each check ended without A-RELEASE (RUN-BUSY, PERF-003)
        self._ran = ""  # the node ID whose call phase gave previous_transcript
        self.abnormal = False  # it did not end in pass, n.a. or info, or left a connection open
        self.scu_info: dict[str, Any] = {}  # --role scu: how the SCU under test identified itself (suites/scu)
        identity.use(identity.from_options(config.username, config.passcode))  # every association carries it

    def open(self) -> TargetState:
        cfg = self.config
        state = open_target(cfg.target, cfg.peer, choose_move_destination(cfg.target, cfg.move_aet, cfg.move_port),
                            tls_settings(cfg))
        try:
            state.info.update(identify(state.endpoint, cfg))
        except BaseException:
            state.close()
            raise
        self.state = state
        if state.peer is not None:
            self.guard = PeerGuard(state, self.results)
        return state

    def close(self) -> None:
        if self.state is not None:
            self.state.close()

    def target_info(self) -> dict[str, Any]:
        """The document's "target": what the session learnt of it, or what the options name (with
        ``--role scu``, the SCU under test as its A-ASSOCIATE-RQ named it, and the trigger)."""
        if self.config.role == "scu":
            return {"ae_title": None, "host": None, "port": None, "implementation_class_uid": None,
                    "implementation_version_name": None, "role": "scu", "trigger": self.config.trigger,
                    **self.scu_info}
        if self.state is not None:
            return self.state.info
        endpoint = self.config.target
        return {"ae_title": endpoint.ae_title if endpoint else None, "host": endpoint.host if endpoint else None,
                "port": endpoint.port if endpoint else None, "implementation_class_uid": None,
                "implementation_version_name": None, "peer": self.config.peer}

    # Between checks -------------------------------------------------------------------------
    def before_check(self, item: pytest.Item) -> None:
        """Before a check that talks to the target: a peer that died or stopped serving is restarted
        (a death not yet charged goes to the check before); a peer that cannot be is an error. Then
        the health gate (:meth:`gate`): the node serves, or the check is not run."""
        state = self.state
        if state is None:
            return
        if state.broken:
            raise RuntimeError(state.broken)  # every later check errors: it cannot be judged
        # A peer that stopped serving without dying (CTN can spin in an error loop) is restarted too.
        hung = bool(state.unresponsive) and state.peer is not None
        if state.dead() is not None or hung:
            self._revive(state, state.unresponsive or f"the peer's process ended ({state.dead()})")
        state.unresponsive = ""
        state.charged = False
        # The gate: before every check for --target (a node we cannot watch); for a reference peer we
        # started (its death is seen in its process) after a check that did not end well.
        if state.peer is None or self.abnormal:
            self.gate(item, state)
        marker = item.get_closest_marker("dcm_check")
        needs = marker.args[0].needs if marker is not None else ""
        if needs:
            reason = self.refusal(state, needs)
            if reason:
                self._not_run(item, reason)

    def refusal(self, state: TargetState, service: str) -> str | None:
        """Why the node refuses ``service`` to our calling AE (a registration it lacks), or ``None``:
        asked once per service with one plain request (:mod:`dcmconform.survey.preconditions`)."""
        from dcmconform.survey.preconditions import PROBES, refused_service

        refused = state.info.setdefault("refused", {})
        if service not in refused and service in PROBES:
            cfg = self.config
            with armed(False):
                refused[service] = refused_service(state.endpoint, cfg.calling_aet, cfg.timeout, service,
                                                   state.move.ae_title if state.move is not None else cfg.move_aet)
        return refused.get(service)

    def _revive(self, state: TargetState, why: str) -> None:
        """Restart the reference peer; the check that ran last says so in its evidence."""
        if self.guard is not None:
            self.guard.before_restart()
        try:
            endpoint = state.revive()
        except Exception as exc:
            state.broken = f"the reference peer died and could not be restarted: {str(exc).splitlines()[0]}"
            raise RuntimeError(state.broken) from None
        prev = self.previous
        if prev is not None and prev.nodeid in self.results:
            result = self.results[prev.nodeid]
            note = {"kind": "text", "text": f"after this check dcmconform restarted the reference peer ({why}); "
                                            f"the next check ran against the restarted peer, on port {endpoint.port}"}
            self.results[prev.nodeid] = result | {"evidence": [*result.get("evidence", []), note],
                                                  "peer_restarted": True}

    def _not_run(self, item: pytest.Item, reason: str) -> None:
        item.stash[NOT_RUN] = reason
        pytest.skip(f"not run: {reason}")

    def _serving(self, state: TargetState, wait: float, transcript: Transcript) -> Served:
        """Associate (Verification) until the node is neither busy nor down, for up to ``wait`` seconds."""
        cfg = self.config
        probe = Probe(state.endpoint, cfg.calling_aet, cfg.timeout, transcript)
        request = probe.request([(1, VERIFICATION, [IMPLICIT_LE])])
        started = time.monotonic()
        with waits.waiting(started + wait, "for the node to serve again"):  # the progress line's countdown
            return self._serving_until(state, probe, request, started, wait)

    def _serving_until(self, state: TargetState, probe: Probe, request: AAssociateRQ, started: float,
                       wait: float) -> Served:
        busy_answer = ""
        while True:
            with armed(False):
                observed = probe.associate(request)
            if busy(observed):
                busy_answer = busy_answer or observed.describe()
            if not (busy(observed) or down(observed)) or time.monotonic() + GATE_RETRY > started + wait \
                    or state.dead() is not None:
                return Served(observed, time.monotonic() - started, busy_answer)
            time.sleep(GATE_RETRY)

    def gate(self, item: pytest.Item, state: TargetState) -> None:
        """The health gate: the node serves, or this check is not run (and why). A node that went
        down is charged to the check that ran last; a busy node is waited for, and recorded."""
        was_down = state.info.get("down")
        if was_down and was_down.get("checks_down", 0) >= DOWN_TRIES:  # it stayed down: stop asking it
            self._not_run(item, f"the node has been down since {was_down['check']} (it stopped accepting "
                                f"connections after {was_down['request']}); dcmconform stopped asking it after "
                                f"{DOWN_TRIES} checks in a row found it down")
        transcript = Transcript("health gate")
        served = self._serving(state, 0 if was_down else self.config.artim_wait, transcript)
        if served.down and state.peer is not None:
            self._revive(state, f"it stopped accepting connections: {served.observed.describe()}")
            served = self._serving(state, self.config.artim_wait, transcript)
        if served.down:
            if not was_down:
                self._charge_death(state, served.observed, transcript)
            down_info = state.info["down"]
            down_info["checks_down"] = down_info.get("checks_down", 0) + 1
            self._not_run(item, f"the node has been down since {down_info['check']} "
                                f"(it stopped accepting connections after {down_info['request']})")
        if served.busy_answer:
            self._busy_episode(item, served.busy_answer, served)
        if served.busy:
            self._not_run(item, f"the node answered {served.busy_answer} since {self._previous_id()}, for more "
                                f"than {served.waited:.0f} s (--artim-wait): it keeps association slots taken")
        if was_down:
            state.info["down"] = {**was_down, "recovered": True, "checks_down": 0}

    def _busy_episode(self, item: pytest.Item, answer: str, served: Served) -> None:
        """Record that the node answered ``answer`` (a transient rejection) before or during ``item``."""
        assert self.state is not None
        episode: dict[str, Any] = {"check": self._check_id(item), "after": self._previous_id(), "answer": answer,
                                   "waited_s": round(served.waited, 1), "recovered": not served.busy}
        # What was measured when the node answered busy (the first answer came ``served.waited`` s ago):
        # the checks whose associations ended without A-RELEASE shortly before, the likeliest holders.
        blamed = self.ledger.blame(time.monotonic() - served.waited)
        episode.update(held_by=blamed[:BLAMED], held_window_s=HELD_WINDOW, held_checks=len(blamed),
                       held_associations=sum(b["associations"] for b in blamed))
        self.state.info.setdefault("busy", []).append(episode)

    def run_check(self, item: pytest.Item, call: Callable[[], object]) -> None:
        """Run a check's function with transient rejections armed (:mod:`dcmconform.base.busy`): when the
        node answers one, wait for it to serve again (up to ``--artim-wait`` in all) and run the check
        again from the start; the check is not run when it does not. When the node rejects the check's
        own A-ASSOCIATE-RQ, sent again right after it accepted our plain one, twice, the rejection is its
        answer to that request: the check runs disarmed and judges it."""
        state = self.state
        if state is None or STATE_FIXTURE not in getattr(item, "fixturenames", ()):
            call()
            return
        timer = threading.Timer(self.watchdog_seconds(), self._watchdog, args=(item,))
        timer.daemon = True
        timer.start()
        try:
            self._run_check(item, state, call)
        finally:
            timer.cancel()

    def watchdog_seconds(self) -> float:
        """How long one check may run: WATCHDOG_TIMEOUTS x --timeout plus --artim-wait (twice: a check may
        wait out the node's ARTIM, and then a busy node), or ``DCMCONFORM_WATCHDOG`` seconds."""
        cfg = self.config
        return float(os.environ.get("DCMCONFORM_WATCHDOG") or WATCHDOG_TIMEOUTS * cfg.timeout + 2 * cfg.artim_wait)

    def _watchdog(self, item: pytest.Item) -> None:
        """The check ran past :meth:`watchdog_seconds`: shut its connections down (its blocked reads and
        sends end at once) and mark it; :meth:`after_check` makes it a fail."""
        from dcmconform.net.assoc import shut_down_all as shut_down_pynetdicom
        from dcmconform.net.probe import shut_down_all as shut_down_raw

        item.stash[OVERRUN] = shut_down_raw() + shut_down_pynetdicom()

    def _run_check(self, item: pytest.Item, state: TargetState, call: Callable[[], object]) -> None:
        deadline: float | None = None  # --artim-wait from the first busy answer
        own_answer = 0
        retries = 0
        while True:
            with armed(own_answer < 2):
                try:
                    call()
                    return
                except NodeBusy as exc:
                    answer, first = exc.answer, exc.first
            if deadline is None:
                deadline = time.monotonic() + self.config.artim_wait
            request = self._rejected_request(item) if first else None
            self._restart_check(item)
            served = self._serving(state, max(0.0, deadline - time.monotonic()), Transcript("health gate"))
            if served.down:
                self._not_run(item, f"the node answered {answer} during this check, then stopped accepting "
                                    f"connections ({served.observed.describe()})")
            if served.busy or time.monotonic() >= deadline:
                self._busy_episode(item, answer, served)
                self._not_run(item, f"the node kept answering {answer} during this check, for more than "
                                    f"{self.config.artim_wait:.0f} s (--artim-wait): it keeps association slots taken")
            if request is not None and self._rejects(state, request):
                own_answer += 1  # it serves a plain request at once, and rejects this one: its answer to it
            else:
                own_answer = 0
                self._busy_episode(item, answer, served)
            retries += 1
            if retries > 1:  # busy again right away: give the node time to free more than one slot
                time.sleep(max(0.0, min(BUSY_BACKOFF * 2 ** (retries - 2), deadline - time.monotonic())))

    @staticmethod
    def _rejected_request(item: pytest.Item) -> bytes | None:
        """The check's A-ASSOCIATE-RQ (the last one it sent), as sent."""
        found = getattr(item, "funcargs", {}).get("transcript")
        if not isinstance(found, Transcript):
            return None
        sent = [e.data for e in found.events if e.direction == SENT and type_of(e.data) == PduType.A_ASSOCIATE_RQ]
        return sent[-1] if sent else None

    def _rejects(self, state: TargetState, request: bytes) -> bool:
        """Whether the node answers ``request`` with a transient rejection right after it accepted ours,
        each of :data:`OWN_ANSWER_TRIES` times. Once is not enough: a node at its limit may not yet have
        freed the slot our plain association just released when the request comes (a race seen against a
        node that holds slots: it made a check that asks "does the node still serve?" run disarmed and
        report a busy node as down). A rejection the node means is the same every time; a transient
        rejection takes no slot, so asking again costs the node nothing."""
        cfg = self.config
        probe = Probe(state.endpoint, cfg.calling_aet, cfg.timeout, Transcript("health gate"))
        with armed(False):
            for attempt in range(OWN_ANSWER_TRIES):
                if attempt:
                    time.sleep(OWN_ANSWER_PAUSE)
                plain = probe.associate(probe.request([(1, VERIFICATION, [IMPLICIT_LE])]))
                if plain.kind != ACCEPTED or not busy(probe.associate(request)):
                    return False
            return True

    def _overran(self, item: pytest.Item, result: dict[str, Any]) -> dict[str, Any]:
        """The result of a check the watchdog stopped: a fail saying so, with what the check had found."""
        limit = self.watchdog_seconds()
        before = result.get("outcome")
        summary = (f"the exchange was still going after {limit:.0f} s, this check's limit (--timeout x "
                   f"{WATCHDOG_TIMEOUTS} + 2 x --artim-wait): dcmconform shut its {item.stash[OVERRUN]} connection(s) down")
        if before:
            summary += f"; the check then said ({before}): {result.get('summary', '')}"
        return result | {
            "outcome": str(Outcome.FAIL), "summary": summary, "broken": WITHIN_TIMERS.as_dict(),
            "explanation": ("The node kept this check's exchange going past any reasonable time: answering slowly "
                            "without end, or never ending what it sends. Every exchange must end within the "
                            "node's own timers; a sender that waits on it is stuck as long."),
        }

    def _restart_check(self, item: pytest.Item) -> None:
        """Forget what an interrupted attempt of the check recorded, and close what it left open."""
        close_leftovers()
        funcargs = getattr(item, "funcargs", {})
        found = funcargs.get("transcript")
        if isinstance(found, Transcript):
            found.clear()
        found = funcargs.get("verdict")
        if isinstance(found, Verdict):
            found.reset()

    @staticmethod
    def _check_id(item: pytest.Item | None) -> str:
        marker = item.get_closest_marker("dcm_check") if item is not None else None
        return marker.args[0].id if marker is not None else (item.nodeid if item is not None else "the start")

    def _previous_id(self) -> str:
        return self._check_id(self.previous)

    def _charge_death(self, state: TargetState, refused: Observation, transcript: Transcript) -> None:
        """The node stopped accepting connections during the previous check: that check fails with
        what killed it (its last request), the refused connection as evidence."""
        prev = self.previous
        request, dump = last_request(self.previous_transcript)
        check = self._previous_id()
        if not dump and prev is not None:  # no PDU sent: the check's exchange itself (e.g. a bare connect)
            marker = prev.get_closest_marker("dcm_check")
            request = f"the exchange of {check}" + (f" ({marker.args[0].title})" if marker is not None else "")
        state.info["down"] = {"check": check, "request": request, "refusal": refused.describe()}
        result = self.results.get(prev.nodeid) if prev is not None else None
        if prev is None or result is None:
            return
        self.results[prev.nodeid] = charged(
            result, f"the node stopped accepting connections after {request}: {refused.describe()} right after",
            dump, transcript.evidence(),
            "The node stopped accepting connections during this check and did not come back within the wait: "
            "a request that takes the node down is a defect whatever the request was. Every later check was not "
            "run. Look at the node's log for a crash at this time.", node_down=request)

    def after_check(self, item: pytest.Item, when: str, result: dict[str, Any] | None) -> dict[str, Any] | None:
        """After each phase of a check: ``result`` (the check's, before it is reported; ``None`` when
        the phase gave none) as it stands, e.g. turned into a fail when the peer died meanwhile."""
        if STATE_FIXTURE not in getattr(item, "fixturenames", ()):
            return result
        if NOT_RUN in item.stash:
            close_leftovers()
            return result  # not run: the node is as the check before left it, which stays "previous"
        if when == "call" and result is not None and OVERRUN in item.stash:
            result = self._overran(item, result)
        if when == "call" and result is not None:
            self.abnormal = result.get("outcome") not in NORMAL_END
            found = getattr(item, "funcargs", {}).get("transcript")  # pytest drops funcargs at teardown
            self.previous_transcript = found if isinstance(found, Transcript) else None
            self._ran = item.nodeid
        if when == "teardown":
            ran = self.previous_transcript if self._ran == item.nodeid else None
            self.previous = item
            left = close_leftovers()  # isolation: nothing the check opened outlives it
            if left:
                self.abnormal = True
            self.ledger.add(self._check_id(item), ran, len(left))
        if self.guard is None:
            return result
        if when == "call" and result is not None:
            return self.guard.after_call(item, result)
        if when == "teardown":
            self.guard.after_teardown(item)
        return result


CONFIG = pytest.StashKey[RunConfig]()
SESSION = pytest.StashKey[Session]()


# Fixtures ----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def dcm_config(pytestconfig: pytest.Config) -> RunConfig:
    """The run's options (:class:`~dcmconform.run.options.RunConfig`), validated, frozen."""
    return pytestconfig.stash[CONFIG]


@pytest.fixture(scope="session")
def target_state(pytestconfig: pytest.Config) -> Iterator[TargetState]:
    """The AE under test: ``--target``, or a reference peer started for the session (and
    restarted on a new port when it dies during a check, see :meth:`Session.before_check`)."""
    session = pytestconfig.stash[SESSION]
    try:
        yield session.open()
    finally:
        session.close()


@pytest.fixture(autouse=True)
def _dcm_between_checks(request: pytest.FixtureRequest) -> None:
    """Before each check that talks to the target: :meth:`Session.before_check`."""
    if STATE_FIXTURE in request.fixturenames and SESSION in request.config.stash:
        request.getfixturevalue(STATE_FIXTURE)
        request.config.stash[SESSION].before_check(request.node)


@pytest.fixture
def held_ledger(pytestconfig: pytest.Config) -> Ledger:
    """The associations earlier checks of this run ended without A-RELEASE (:mod:`dcmconform.harness.held`):
    a check that measures the node's free slots asks it whether the node is idle."""
    session = pytestconfig.stash.get(SESSION, None)
    return session.ledger if session is not None else Ledger()


@pytest.fixture
def target(target_state: TargetState) -> Endpoint:
    """The AE under test for this check (per check: a restarted peer listens on a new port)."""
    return target_state.endpoint


@pytest.fixture
def move_destination(target_state: TargetState, dcm_config: RunConfig) -> MoveDestination:
    """Our storage SCP as the target knows it (C-MOVE destination); ``port`` None when it knows none."""
    return target_state.move or MoveDestination(dcm_config.move_aet, None, missing="no move destination is known")


@pytest.fixture
def alive(target: Endpoint, dcm_config: RunConfig, target_state: TargetState) -> Callable[[], Any]:
    """``alive()``: a fresh association and C-ECHO; use after anything that could hurt the target.

    When the last one fails, a reference peer is restarted before the next check (it may hang, not die)."""

    def check() -> Any:
        result = liveness(target, dcm_config.calling_aet, dcm_config.timeout)
        target_state.unresponsive = "" if result.alive else result.detail  # the last probe decides
        return result

    return check
