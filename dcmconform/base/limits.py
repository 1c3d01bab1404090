"""Every bound the suite puts on what a target can make it do, in one place (issue 13).

The target is untrusted input: a length field, a response count or a stream of bytes from it
never sizes our memory or our wall time beyond these. They are generous for real nodes.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dcmconform.evidence.transcript import Transcript

# One PDU. No A-ASSOCIATE answer is anywhere near this (DCMTK caps incoming ones at 1 MB); a
# P-DATA-TF may be as long as the maximum length we announced, plus this much slack.
MAX_READ = 8 * 1024 * 1024
PDU_MARGIN = 64 * 1024

# One reassembled DIMSE message (command set + data set): bytes kept before the rest is counted.
MAX_MESSAGE = 256 * 1024 * 1024
# The data sets our C-MOVE destination SCP keeps in memory, in all; past it an arrival is counted, not kept.
MOVE_SCP_KEEP = 256 * 1024 * 1024

# One transcript: the first and last this many bytes the target sent are kept, the rest counted.
TRANSCRIPT_HEAD = 32 * 1024 * 1024
TRANSCRIPT_TAIL = 32 * 1024 * 1024
# What one PDU weighs against that budget besides its bytes: its dump and hex lines in the report
# (so that 100 000 tiny pending responses do not make a 60 MB dump).
TRANSCRIPT_EVENT_WEIGHT = 4096

# One C-FIND/C-GET/C-MOVE (or any response loop): at most this many responses, and at most
# OPERATION_TIMEOUTS x --timeout seconds in all (each single wait still has --timeout).
MAX_RESPONSES = 10_000
OPERATION_TIMEOUTS = 6


def pdu_cap(max_pdu: int) -> int:
    """The longest PDU we read when we announced ``max_pdu`` (0: no limit announced)."""
    return max(MAX_READ, max_pdu + PDU_MARGIN)


def operation_budget(timeout: float) -> float:
    """Seconds one whole operation (all its responses) may take."""
    return OPERATION_TIMEOUTS * timeout


class ResponseCap:
    """Counts one operation's responses: ``overrun()`` says what the target did once it passed
    :data:`MAX_RESPONSES` or :func:`operation_budget`, else ``None``."""

    def __init__(self, timeout: float, what: str = "") -> None:
        self.started = time.monotonic()
        self.budget = operation_budget(timeout)
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
    """The target made us hit one of these bounds; ``str()`` names what it did, in a PACS admin's
    words ("kept sending pending responses: 10000 in 30 s"). A check that meets it fails with the
    transcript as evidence (``dcmconform.harness.plugin.pytest_pyfunc_call``)."""

    def __init__(self, message: str, transcript: Transcript | None = None) -> None:
        super().__init__(message)
        self.transcript = transcript
