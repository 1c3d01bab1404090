"""Orthanc's own lines about associations it rejects. Orthanc is built on DCMTK and otherwise logs as DCMTK
does (behind its glog prefix, :mod:`dcmconform.diagnosis.lines`)."""

from __future__ import annotations

import re

from dcmconform.diagnosis import attempt as at
from dcmconform.diagnosis.reader import Dialect, LogReader

_LAST_PARENTHESIS = re.compile(r"\(([^)]*)\)\s*$")


def rejected(r: LogReader, t: str, low: str) -> bool:
    """Orthanc: "Rejected association, because of a bad called AET ... (NAME)"."""
    cur = r.cur if r.cur is not None and not r.cur.outcome else r.new()
    cur.side = at.SCP
    cur.outcome = at.REJECTED
    cur.connect = at.CONNECTED
    r.formats.add("Orthanc")
    found = _LAST_PARENTHESIS.search(t)
    if "called aet" in low:
        cur.reject = (1, 1, 7)
        cur.called = found[1] if found else cur.called
    elif "calling aet" in low or "remote aet" in low or "unknown" in low:
        cur.reject = (1, 1, 3)
        cur.calling = found[1] if found else cur.calling
    r.finish()
    return True


ORTHANC = Dialect("Orthanc", lambda line: False)  # its lines of its own say nothing before its rejections
