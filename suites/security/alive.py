"""The security checks' liveness step: a node a hostile request took down has failed, loudly."""

from __future__ import annotations

from collections.abc import Callable

from dcmconform.net.assoc import Liveness
from dcmconform.evidence.verdict import KEEP_SERVING, Verdict

Alive = Callable[[], Liveness]


def still_serves(verdict: Verdict, alive: Alive, after: str) -> None:
    live = alive()
    if not live.alive:
        verdict.fail(f"the target stopped serving after {after}: {live.detail}", live.transcript, broken=KEEP_SERVING)
