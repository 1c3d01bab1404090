"""Read a DICOM toolkit log, streaming, into a :class:`~dcmconform.diagnosis.summary.LogSummary`.

Understands the logs people actually send in a support case, one module per toolkit under
:mod:`dcmconform.diagnosis.dialects`: DCMTK's tools with ``-d``/``-v``; pynetdicom's debug logger and
its apps (DCMTK's layout, mostly); RZDCX's layout; Orthanc's own lines about rejected associations;
CTN ``send_image``; dcm4che's tools as they log by default; PixelMed's exceptions.

The toolkits share their ancestors, so one reader (:mod:`dcmconform.diagnosis.reader`) handles them
all: :mod:`dcmconform.diagnosis.lines` strips each line's prefix, then a small state machine follows
request, response and DIMSE blocks. Memory stays bounded: lines are read one at a time (overlong ones
cut), only the current attempt is kept in full, and attempts are folded into runs of identical outcomes
as they complete.
"""

from __future__ import annotations

from pathlib import Path

from dcmconform.diagnosis.dialects import DIALECTS, EVENTS
from dcmconform.diagnosis.lines import MAX_LINE, read_lines, split_prefix
from dcmconform.diagnosis.names import resolve
from dcmconform.diagnosis.reader import LogReader
from dcmconform.diagnosis.summary import MAX_EXAMPLES, MAX_RUNS, LogSummary

__all__ = ["MAX_EXAMPLES", "MAX_LINE", "MAX_RUNS", "LogSummary", "read_lines", "read_log", "resolve", "split_prefix"]


def read_log(path: Path) -> LogSummary:
    """Stream ``path`` into a :class:`LogSummary`; memory does not grow with the file."""
    summary = LogSummary(path, size=path.stat().st_size)
    reader = LogReader(summary.add, DIALECTS, EVENTS)
    number = 0
    for number, line in read_lines(path):
        reader.feed(number, line)
    reader.finish()
    summary.lines = number
    if "Orthanc" in reader.formats:  # Orthanc is built on DCMTK and says so
        reader.formats.discard("DCMTK")
    summary.formats = reader.formats or ({"DCMTK/pynetdicom style"} if reader.letter_prefixes else set())
    return summary
