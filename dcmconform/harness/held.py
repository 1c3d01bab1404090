"""Associations the checks left held: the run's ledger of connections that did not end in an orderly release.

A node frees an association's slot at once when it ends with A-RELEASE-RQ / A-RELEASE-RP. Any other end
(an A-ABORT, a rejection, a connection closed without a PDU) may leave the slot taken for a while: a node
whose worker waits out its own timer first (PS3.8 9.1.5, ARTIM) still counts it against its limit. After
each check the session writes down (:meth:`Ledger.add`) how many of the check's connections ended so, and
when (:func:`dcmconform.evidence.follow.endings` reads that from the check's transcript). Two readers:

- the run finding RUN-BUSY (:meth:`Ledger.blame`): when the node first answers "busy", the checks whose
  unreleased associations ended shortly before are the ones that filled its slots, not the check that
  happened to run just before;
- PERF-003 (``suites/performance``): the node's association limit is only measured on an otherwise idle
  node, so it asks the ledger whether earlier checks may still hold slots (:meth:`Ledger.recent`).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from dcmconform.evidence.follow import ENDS, endings
from dcmconform.evidence.transcript import Transcript

# Seconds an unreleased association counts as possibly held: a node that waits out its ARTIM (30 s is
# common) plus a margin; an association that ended longer ago than this is not blamed.
HELD_WINDOW = 60.0


@dataclass(frozen=True)
class Unreleased:
    """One check's connections that did not end in A-RELEASE: how many, how (counted per end, in words),
    and when the last of them ended (monotonic)."""

    check: str
    count: int
    ended: float
    how: tuple[tuple[str, int], ...]
    left_open: int = 0  # of them, still open when the check ended (the session closed them with an A-ABORT)

    def describe(self, now: float) -> str:
        """E.g. "ASSOC-061: 3 associations (2 ended by our A-ABORT, 1 closed by the node without A-RELEASE),
        the last 12 s before"."""
        ways = ", ".join(f"{n} {ENDS.get(how, how)}" for how, n in self.how)
        opened = f"; {self.left_open} still open when the check ended" if self.left_open else ""
        return (f"{self.check}: {self.count} association{'s' if self.count != 1 else ''} ({ways}{opened}), "
                f"the last {max(0.0, now - self.ended):.0f} s before")


@dataclass
class Ledger:
    """The run's unreleased associations, check by check, in the order the checks ran."""

    entries: list[Unreleased] = field(default_factory=list)

    def add(self, check: str, transcript: Transcript | None, left_open: int = 0) -> Unreleased | None:
        """Write down the connections of ``check`` (its transcript) that did not end in A-RELEASE;
        ``left_open``: how many of them the session had to close after the check."""
        if transcript is None:
            return None
        ends = [e for e in endings(list(transcript.events)) if e.unreleased]
        if not ends:
            return None
        how = Counter(e.how for e in ends)
        entry = Unreleased(check, len(ends), max(e.at for e in ends), tuple(sorted(how.items())), left_open)
        self.entries.append(entry)
        return entry

    def recent(self, now: float | None = None, window: float = HELD_WINDOW) -> list[Unreleased]:
        """The entries whose last unreleased association ended within ``window`` seconds before ``now``."""
        now = time.monotonic() if now is None else now
        return [e for e in self.entries if now - window <= e.ended <= now]

    def blame(self, now: float | None = None) -> list[dict[str, Any]]:
        """The checks that may hold the node's slots at ``now``: most associations first, for the report."""
        now = time.monotonic() if now is None else now
        ranked = sorted(self.recent(now), key=lambda e: (-e.count, now - e.ended))
        return [{"check": e.check, "associations": e.count, "ended_s_before": round(now - e.ended, 1),
                 "left_open": e.left_open, "text": e.describe(now)} for e in ranked]
