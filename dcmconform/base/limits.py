"""Every bound the suite puts on what a target can make it do, in one place (issue 13).

The target is untrusted input: a length field, a response count or a stream of bytes from it
never sizes our memory or our wall time beyond these. They are generous for real nodes.
"""

from __future__ import annotations

import threading
import time
from typing import Any

# One PDU. No A-ASSOCIATE answer is anywhere near this (DCMTK caps incoming ones at 1 MB); a
# P-DATA-TF may be as long as the maximum length we announced, plus this much slack.
MAX_READ = 8 * 1024 * 1024
PDU_MARGIN = 64 * 1024

# One reassembled DIMSE message (command set + data set), and one inflated Deflated data set: bytes kept
# before the rest is counted. A message is held in about two copies while it is joined (and the transcript
# keeps its own head and tail): 64 MiB keeps a whole run against a flood that never sends the last fragment
# under 600 MB (measured: 590 MB at 128 MiB, too close), and is 16 times our largest test object (4 MiB).
MAX_MESSAGE = 64 * 1024 * 1024
# The data sets our C-MOVE destination SCP keeps in memory, in all; past it an arrival is counted, not kept.
MOVE_SCP_KEEP = 256 * 1024 * 1024

# One transcript: the first and last this many bytes the target sent are kept, the rest counted.
TRANSCRIPT_HEAD = 16 * 1024 * 1024
TRANSCRIPT_TAIL = 16 * 1024 * 1024
# What one PDU weighs against that budget besides its bytes: its dump and hex lines in the report
# (so that 100 000 tiny pending responses do not make a 60 MB dump).
TRANSCRIPT_EVENT_WEIGHT = 4096
# A check's evidence text (its dump, its hex) in the report: the first and last half of this many characters,
# the middle counted. A whole run of floods kept ~10 MB of text per check (2.8 GB in all); the capture file
# (reports/pcap.py) still holds every byte the transcript kept.
EVIDENCE_TEXT = 256 * 1024

# One C-FIND/C-GET/C-MOVE (or any response loop): at most this many responses, and at most
# OPERATION_TIMEOUTS x --timeout seconds in all (each single wait still has --timeout).
MAX_RESPONSES = 10_000
OPERATION_TIMEOUTS = 6


def pdu_cap(max_pdu: int) -> int:
    """The longest PDU we read when we announced ``max_pdu`` (0: no limit announced): the ceiling for
    association PDUs, whose length our maximum does not bound (an A-ASSOCIATE-AC with many contexts)."""
    return max(MAX_READ, max_pdu + PDU_MARGIN)


def pdata_cap(max_pdu: int) -> int:
    """The longest P-DATA-TF we read when we announced a maximum length of ``max_pdu`` (PS3.8 D.1.1;
    0: no limit announced, then :data:`MAX_READ`). A longer one ends the connection and is a finding:
    the sender ignored the maximum we announced."""
    return max_pdu + PDU_MARGIN if max_pdu else MAX_READ


# Bytes of data sets an SCP of ours keeps, per association and per scenario (or C-MOVE destination)
# in all: past them what arrives is counted, not kept (a hostile SCU cannot size our memory).
ASSOCIATION_KEEP = 64 * 1024 * 1024
SCENARIO_KEEP = 256 * 1024 * 1024
# P-DATA-TFs one association may send an SCP of ours (each is recorded: its length, its contexts); 500,000 of
# 16 KB are 8 GB. Past it the SCP aborts: a flood of tiny PDUs would otherwise grow those records.
ASSOCIATION_PDUS = 500_000


class Budget:
    """Keep the first ``keep`` bytes, count the rest; ``parent`` (a scenario's budget for one of its
    associations) must have room too. Thread-safe: the connections of one SCP share their parent."""

    def __init__(self, keep: int, parent: Budget | None = None) -> None:
        self.keep = keep
        self.parent = parent
        self.kept = 0
        self.dropped = 0
        self._lock = threading.Lock()

    def room(self) -> int:
        mine = max(self.keep - self.kept, 0)
        return mine if self.parent is None else min(mine, self.parent.room())

    def take(self, size: int) -> int:
        """Of ``size`` bytes arriving, how many may be kept (the rest is counted as dropped)."""
        with self._lock:
            kept = min(size, self.room())
            if self.parent is not None:
                self.parent.charge(kept, size - kept)
            self.kept += kept
            self.dropped += size - kept
            return kept

    def charge(self, kept: int, dropped: int) -> None:
        with self._lock:
            self.kept += kept
            self.dropped += dropped

    def fits(self, size: int) -> bool:
        """Take ``size`` bytes whole or not at all (a data set is kept whole or only counted)."""
        with self._lock:
            if size <= self.room():
                if self.parent is not None:
                    self.parent.charge(size, 0)
                self.kept += size
                return True
            if self.parent is not None:
                self.parent.charge(0, size)
            self.dropped += size
            return False


def operation_budget(timeout: float) -> float:
    """Seconds one whole operation (all its responses) may take."""
    return OPERATION_TIMEOUTS * timeout


class ResponseCap:
    """Counts one operation's responses: ``overrun()`` says what the target did once it passed
    :data:`MAX_RESPONSES` or :func:`operation_budget`, else ``None``."""

    def __init__(self, timeout: float, what: str = "", budget: float | None = None) -> None:
        self.started = time.monotonic()
        self.budget = operation_budget(timeout) if budget is None else budget
        self.what = f"{what} " if what else ""
        self.count = 0

    def overrun(self) -> str | None:
        self.count += 1
        elapsed = time.monotonic() - self.started
        if self.count < MAX_RESPONSES and elapsed <= self.budget:
            return None
        return (f"the target kept sending {self.what}responses: {self.count} in {elapsed:.0f} s "
                f"(caps: {MAX_RESPONSES} responses, {self.budget:g} s); association aborted")


class TargetMisbehaved(Exception):
    """The target made us hit one of the bounds of this module; ``str()`` names what it did, in a PACS admin's
    words ("kept sending pending responses: 10000 in 30 s"). A check that meets it fails with the
    transcript (a :class:`dcmconform.evidence.transcript.Transcript`) as evidence
    (``dcmconform.harness.plugin.pytest_pyfunc_call``). Here, at the ground floor, because every floor
    raises it: the DIMSE codec (an inflation bomb), the network, the exchanges."""

    def __init__(self, message: str, transcript: Any = None) -> None:
        super().__init__(message)
        self.transcript = transcript
