"""A reference peer that dies during a check is a finding, not a suite error.

When the session started the target itself (a reference peer, no ``--target``), the
:class:`PeerGuard` watches the peer's process at the points :class:`dcmconform.harness.session.Session`
calls it between checks:

- right after the check (its ``call`` result, before it is reported), and again after its
  teardown: if the process has died, the check's verdict becomes **fail** with "the peer died:
  killed by signal 11 (SIGSEGV) after <the last request we sent>", the dump of that request and
  the tail of the peer's log;
- before the next check, when the session is about to restart a dead peer: a death first seen
  there is charged to the previous check.

Restarting the peer is the session's (it owns the target's lifecycle). With ``--target`` (an AE
the user runs) there is no process to watch: the checks' liveness probes report a target that
stopped serving.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from dcmconform.dimse.commands import command_name
from dcmconform.evidence.transcript import NOTE, SENT, Transcript
from dcmconform.evidence.verdict import KEEP_SERVING, Outcome

if TYPE_CHECKING:
    from dcmconform.harness.state import TargetState

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


def last_request(transcript: Transcript | None) -> tuple[str, str]:
    """``(one line, dump)`` of the last PDU we sent in ``transcript``."""
    from dcmconform.evidence.dump import describe_bytes

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
    return f"{name} of {len(sent[-1].data)} bytes (sent at {stamp}, PDU {len(sent)} of this check)", "\n".join([title, *("    " + x for x in lines)])


def _dropped(transcript: object) -> bool:
    """Whether the check saw the peer drop a connection (a crash looks like that from our side)."""
    if not isinstance(transcript, Transcript):
        return False
    if any(e.direction == NOTE and e.text.startswith(DROPPED) for e in transcript.events):
        return True
    # pynetdicom notes nothing when the peer vanishes mid-association: our request is then the last PDU.
    data = [e for e in transcript.events if e.data]
    return bool(data) and data[-1].direction == SENT


def charged(result: dict[str, Any], cause: str, dump: str, more: list[dict[str, str]], explanation: str,
            **marks: Any) -> dict[str, Any]:
    """The check's result turned into a fail charged with ``cause`` (the node died or went down during
    the check), saying what the check alone had found; ``dump``: the last request, for the evidence."""
    before = result.get("outcome")
    summary = cause
    if before == str(Outcome.FAIL):
        summary = f"{summary}; the check had also failed: {result.get('summary', '')}"
    elif before:
        summary = f"{summary} (the check alone would have been {before}: {result.get('summary', '')})"
    evidence = list(result.get("evidence", []))
    if dump:
        evidence.append({"kind": "text", "text": f"the last request before the node went down:\n{dump}"})
    return result | {"outcome": str(Outcome.FAIL), "summary": summary, "evidence": [*evidence, *more],
                     "broken": KEEP_SERVING.as_dict(), "explanation": explanation, **marks}


def died_result(result: dict[str, Any], status: str, request: str, dump: str, logs: str) -> dict[str, Any]:
    """The check's result turned into a fail that says how and after what the peer died."""
    more = [{"kind": "text", "text": f"the peer's log (tail):\n{logs[-LOG_TAIL:]}"}] if logs else []
    return charged(result, f"the peer died: {status} after {request}", dump, more,
                   "The peer's process ended while serving this check: a crash on a request is a defect whatever "
                   "the request was (it must answer, reject or abort, and keep serving). The next check ran "
                   "against a restarted peer.", peer_died=status)


class PeerGuard:
    """Crash detection for a session's reference peer: charges its death to the check it died in.

    ``results`` is the session's record of reported results (by node ID), where a death seen only
    after a check was reported is charged."""

    def __init__(self, state: TargetState, results: dict[str, dict[str, Any]]) -> None:
        self.state = state
        self.results = results
        self.previous: pytest.Item | None = None

    def _charge(self, item: pytest.Item, result: dict[str, Any]) -> dict[str, Any]:
        """Turn ``result`` (of ``item``) into the died-fail and record the death."""
        assert self.state.peer is not None
        status = self.state.dead() or "ended"
        transcript = item.funcargs.get("transcript") if hasattr(item, "funcargs") else None
        request, dump = last_request(transcript if isinstance(transcript, Transcript) else None)
        self.state.charged = True
        self.state.deaths.append(Death(result.get("id", item.nodeid), item.nodeid, status, request))
        self.state.info["peer_deaths"] = [d.__dict__ for d in self.state.deaths]
        return died_result(result, status, request, dump, self.state.peer.logs())

    def _charge_reported(self, item: pytest.Item) -> None:
        """Charge the death to ``item`` whose result was already reported."""
        if item.nodeid in self.results:
            self.results[item.nodeid] = self._charge(item, self.results[item.nodeid])
        else:
            self.state.charged = True

    def after_call(self, item: pytest.Item, result: dict[str, Any]) -> dict[str, Any]:
        """``result`` of the check ``item`` just ran, or the died-fail when the peer died during it."""
        state = self.state
        if state.charged:
            return result
        if state.dead() is None and _dropped(getattr(item, "funcargs", {}).get("transcript")):
            state.settle(DYING_GRACE)
        if state.dead() is None:
            return result
        return self._charge(item, result)

    def after_teardown(self, item: pytest.Item) -> None:
        self.previous = item
        if not self.state.charged and self.state.dead() is not None:
            self._charge_reported(item)

    def before_restart(self) -> None:
        """The session found the peer dead (or hung) before a check: a death nobody was charged
        with yet goes to the check before."""
        if self.state.dead() is not None and not self.state.charged and self.previous is not None:
            self._charge_reported(self.previous)
