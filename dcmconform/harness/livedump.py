"""``dcmconform run -v``: every PDU of every association printed as it crosses, in the dump format (the habit
of DCMTK's ``-d``), each line headed by the check it belongs to.

A pytest plugin of the run (:class:`LiveDump`) that listens to every transcript
(:data:`dcmconform.evidence.transcript.LISTENERS`) and writes to the terminal's own descriptor, taken before pytest
captures a check's output.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from types import TracebackType

from dcmconform.base.text import printable
from dcmconform.evidence.transcript import LISTENERS, Event, Transcript


class LiveDump:
    """``with LiveDump(): pytest.main(..., plugins=[live])``: the PDUs of the run, live, on standard output."""

    def __init__(self) -> None:
        self.check = ""
        self._lock = threading.Lock()
        self._out: int | None = None
        self.lines = 0

    def __enter__(self) -> LiveDump:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            self._out = os.dup(sys.__stdout__.fileno())  # type: ignore[union-attr]
        LISTENERS.append(self.event)
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        with contextlib.suppress(ValueError):
            LISTENERS.remove(self.event)
        if self._out is not None:
            os.close(self._out)
            self._out = None

    def event(self, transcript: Transcript, event: Event) -> None:
        if self._out is None:
            return
        head = f"{self.check or 'run'} "
        text = "".join(f"{head}{printable(line)}\n" for line in transcript.event_lines(event))
        with self._lock, contextlib.suppress(OSError):
            os.write(self._out, text.encode("utf-8", "replace"))
            self.lines += text.count("\n")

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        self.check = nodeid.rsplit("::", 1)[-1]

    def pytest_runtest_setup(self, item: object) -> None:
        from dcmconform.evidence.verdict import MARK

        marker = item.get_closest_marker(MARK)  # type: ignore[attr-defined]
        if marker is not None:
            self.check = marker.args[0].id
