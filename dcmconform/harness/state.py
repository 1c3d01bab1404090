"""The target of a session as the session holds it: its endpoint, the reference peer it started (if any)
and that peer's deaths. The session (:mod:`dcmconform.harness.session`) owns its lifecycle; the peer guard
(:mod:`dcmconform.harness.peerguard`) reads it to charge a death to a check."""

from __future__ import annotations

import contextlib
import subprocess
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dcmconform.net.target import Endpoint, MoveDestination

if TYPE_CHECKING:
    from dcmconform.peers.base import ProcessPeer


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
    info: dict[str, Any] = field(default_factory=dict)  # the document's "target"
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
