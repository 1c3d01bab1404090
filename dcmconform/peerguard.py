"""A reference peer that dies during a check is a finding, not a suite error.

The session's target lives in a :class:`TargetState` (a mutable holder): the ``target`` fixture
reads the endpoint from it for every check. When the session started the target itself (a
reference peer, no ``--target``), a per-check guard watches the peer's process:

- right after the check (its ``call`` report), and again after its teardown: if the process has
  died, the check's verdict becomes **fail** with "the peer died: killed by signal 11 (SIGSEGV)
  after <the last request we sent>", the dump of that request and the tail of the peer's log;
- before the next check: a dead peer is restarted (new port, same folder and log), so the next
  check gets a fresh peer. A death first seen here is charged to the previous check.

With ``--target`` (an AE the user runs) there is no process to watch: the checks' liveness
probes report a target that stopped serving.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from dcmconform.dimse.commands import command_name
from dcmconform.target import Endpoint, MoveDestination, is_loopback
from dcmconform.transcript import NOTE, SENT, Transcript
from dcmconform.verdict import MARK, Outcome

if TYPE_CHECKING:
    from dcmconform.peers.base import ProcessPeer

RESULT_KEY = "dcmconform_result"  # the same key dcmconform.plugin writes (kept here to avoid an import cycle)
STATE_FIXTURE = "target_state"
LOG_TAIL = 3000
# A crashing peer closes its sockets a moment before it can be reaped (about 1 ms here, more under
# load). When a check saw the connection dropped, give the process this long to finish dying.
DYING_GRACE = 0.3
# "TCP connect to" is the probe's note of a failed connect; its note of a successful one ("TCP connected
# to") must not match, or every raw-probe check waits DYING_GRACE for nothing.
DROPPED = ("closed", "reset", "send failed", "association aborted", "association not answered", "TCP connect to")

@dataclass
class Death:
    check: str  # check ID (or node ID) charged with it
    nodeid: str
    status: str  # "killed by signal 11 (SIGSEGV)"
    request: str  # one line: the last request we sent


@dataclass
class TargetState:
    """The AE under test for this session; ``endpoint`` changes when a crashed peer is restarted."""

    endpoint: Endpoint
    peer: ProcessPeer | None = None
    deaths: list[Death] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)  # the document's "target" (shared with the plugin)
    charged: bool = True  # whether the current death (if any) was already charged to a check
    unresponsive: str = ""  # a check's liveness probe failed: restart the (running) peer before the next check
    broken: str = ""  # why the peer could not be restarted (then no later check can run)
    move: MoveDestination | None = None  # our storage SCP as the target knows it (C-MOVE checks)

    def dead(self) -> str | None:
        """How the session's peer died, or ``None`` while it runs (always ``None`` for ``--target``)."""
        return self.peer.exit_status() if self.peer is not None and self.peer.proc is not None else None

    def settle(self, seconds: float) -> None:
        """Wait up to ``seconds`` for the peer's process to end (returns at once when it does)."""
        if self.peer is not None and self.peer.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.peer.proc.wait(timeout=seconds)

    def revive(self) -> Endpoint:
        assert self.peer is not None
        self.endpoint = self.peer.restart()
        self.charged = True
        self.info["restarts"] = self.info.get("restarts", 0) + 1
        return self.endpoint

    def close(self) -> None:
        if self.peer is not None:
            self.peer.stop()


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


def open_target(target: Endpoint | None, peer_name: str | None, move: MoveDestination | None = None) -> TargetState:
    """``--target`` as given, or start the reference peer ``peer_name`` (default pynetdicom).

    A peer that cannot start ends the session with exit status 2 and the reason, rather than
    turning every check into an error. A started peer is given ``move`` (our storage SCP) as a
    C-MOVE destination before it starts, so that its generated configuration names it.
    """
    if target is not None:
        return TargetState(target, info={"peer": peer_name}, move=move)
    from dcmconform.peers.base import PeerFailed, PeerUnavailable
    from dcmconform.peers.registry import UnknownPeer, make_peer

    name = peer_name or "pynetdicom"
    try:
        peer = make_peer(name)
        if move is not None and move.port is not None:
            peer.move_destinations[move.ae_title] = ("127.0.0.1", move.port)
        endpoint = peer.start()
    except (UnknownPeer, PeerUnavailable, PeerFailed) as exc:
        pytest.exit(f"dcmconform: cannot start the reference peer: {exc}", returncode=pytest.ExitCode.USAGE_ERROR)
    info: dict[str, Any] = {"peer": name, "peer_backend": peer.backend, "peer_version": peer.version()}
    return TargetState(endpoint, peer, info=info, move=move)


def last_request(transcript: Transcript | None) -> tuple[str, str]:
    """``(one line, dump)`` of the last PDU we sent in ``transcript``."""
    from dcmconform.dump import describe_bytes

    sent = [e for e in (transcript.events if transcript is not None else []) if e.direction == SENT and e.data]
    if not sent:
        return "no request of this check (it died before or between exchanges)", ""
    title, lines = describe_bytes(sent[-1].data, transcript.last_request() if transcript is not None else None)
    name = title.split(" (")[0]
    for line in lines:
        if line.strip().endswith("# CommandField"):
            try:
                code = int(line.split()[2])
            except (IndexError, ValueError):
                break
            name = f"{name} carrying {command_name(code)}"
            break
    stamp = f"+{sent[-1].at - transcript.started:.3f}s" if transcript is not None else ""
    return f"{name} (sent at {stamp}, PDU {len(sent)} of this check)", "\n".join([title, *("    " + x for x in lines)])


def _dropped(transcript: object) -> bool:
    """Whether the check saw the peer drop a connection (a crash looks like that from our side)."""
    if not isinstance(transcript, Transcript):
        return False
    if any(e.direction == NOTE and e.text.startswith(DROPPED) for e in transcript.events):
        return True
    # pynetdicom notes nothing when the peer vanishes mid-association: our request is then the last PDU.
    data = [e for e in transcript.events if e.data]
    return bool(data) and data[-1].direction == SENT


def died_result(result: dict[str, Any], status: str, request: str, dump: str, logs: str) -> dict[str, Any]:
    """The check's result turned into a fail that says how and after what the peer died."""
    before = result.get("outcome")
    summary = f"the peer died: {status} after {request}"
    if before == str(Outcome.FAIL):
        summary = f"{summary}; the check had also failed: {result.get('summary', '')}"
    elif before:
        summary = f"{summary} (the check alone would have been {before}: {result.get('summary', '')})"
    evidence = list(result.get("evidence", []))
    if dump:
        evidence.append({"kind": "text", "text": f"the last request before the peer died:\n{dump}"})
    if logs:
        evidence.append({"kind": "text", "text": f"the peer's log (tail):\n{logs[-LOG_TAIL:]}"})
    return result | {
        "outcome": str(Outcome.FAIL), "summary": summary, "evidence": evidence, "peer_died": status,
        "explanation": ("The peer's process ended while serving this check: a crash on a request is a defect "
                        "whatever the request was (it must answer, reject or abort, and keep serving). "
                        "The next check ran against a restarted peer."),
    }


class PeerGuard:
    """The pytest hooks of the guard (registered by :mod:`dcmconform.plugin`)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.state: TargetState | None = None
        self.previous: pytest.Item | None = None

    def _charge(self, item: pytest.Item, result: dict[str, Any]) -> dict[str, Any]:
        """Turn ``result`` (of ``item``) into the died-fail and record the death."""
        assert self.state is not None and self.state.peer is not None
        status = self.state.dead() or "ended"
        transcript = item.funcargs.get("transcript") if hasattr(item, "funcargs") else None
        request, dump = last_request(transcript if isinstance(transcript, Transcript) else None)
        self.state.charged = True
        self.state.deaths.append(Death(result.get("id", item.nodeid), item.nodeid, status, request))
        self.state.info["peer_deaths"] = [d.__dict__ for d in self.state.deaths]
        return died_result(result, status, request, dump, self.state.peer.logs())

    def _collector_results(self) -> dict[str, dict[str, Any]] | None:
        collector = self.config.pluginmanager.get_plugin("dcmconform-collector")
        return getattr(collector, "results", None)

    def _charge_collected(self, item: pytest.Item) -> None:
        """Charge the death to ``item`` whose result the collector already holds."""
        results = self._collector_results()
        if results is not None and item.nodeid in results:
            results[item.nodeid] = self._charge(item, results[item.nodeid])
        elif self.state is not None:
            self.state.charged = True

    def guard_setup(self, request: pytest.FixtureRequest) -> None:
        if STATE_FIXTURE not in request.fixturenames:
            return
        state: TargetState = request.getfixturevalue(STATE_FIXTURE)
        self.state = state
        if state.broken:
            raise RuntimeError(state.broken)  # every later check errors: it cannot be judged
        # A peer that stopped serving without dying (CTN can spin in an error loop) is restarted too.
        hung = bool(state.unresponsive) and state.peer is not None
        if state.dead() is not None or hung:
            if state.dead() is not None and not state.charged and self.previous is not None:
                self._charge_collected(self.previous)
            try:
                state.revive()
            except Exception as exc:
                state.broken = f"the reference peer died and could not be restarted: {str(exc).splitlines()[0]}"
                raise RuntimeError(state.broken) from None
        state.unresponsive = ""
        state.charged = False

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
        report: pytest.TestReport = yield
        state = self.state
        uses_peer = STATE_FIXTURE in getattr(item, "fixturenames", ())
        if not uses_peer or state is None or state.peer is None or item.get_closest_marker(MARK) is None:
            return report
        if report.when == "teardown":
            self.previous = item
            if not state.charged and state.dead() is not None:
                self._charge_collected(item)
            return report
        if report.when != "call" or state.charged:
            return report
        if state.dead() is None and _dropped(item.funcargs.get("transcript")):
            state.settle(DYING_GRACE)
        if state.dead() is None:
            return report
        for index, (key, value) in enumerate(report.user_properties):
            if key == RESULT_KEY:
                result = self._charge(item, json.loads(value))
                report.user_properties[index] = (RESULT_KEY, json.dumps(result))
                report.user_properties[:] = [(k, "fail" if k == "outcome" else v) for k, v in report.user_properties]
                # JUnit XML takes its properties from the item (the teardown report copies them)
                item.user_properties[:] = [(k, "fail" if k == "outcome" else v) for k, v in item.user_properties]
                report.outcome = "failed"
                report.longrepr = f"{result['id']}: {result['summary']}"
                break
        return report


@pytest.fixture(autouse=True)
def _dcm_peer_guard(request: pytest.FixtureRequest) -> None:
    """Before each check that talks to the target: restart the session's peer if it died."""
    guard = request.config.pluginmanager.get_plugin("dcmconform-peerguard")
    if isinstance(guard, PeerGuard):
        guard.guard_setup(request)
