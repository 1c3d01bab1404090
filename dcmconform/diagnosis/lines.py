"""A toolkit log's lines: read one at a time with a bounded length, each with its toolkit's prefix
(level letter, time stamp, logger name) told apart from its message."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

MAX_LINE = 64 * 1024

# RZDCX: "2011-12-1022:22:25.906000  1508   INFO   message"; Orthanc (glog): "I1201 10:00:00.123456 main.cpp:12] ..."
_RZDCX = re.compile(r"^\d{4}-\d\d-\d{2,4}\s?\d\d:\d\d:\d\d(?:[.,]\d+)?\s+(?:\d+\s+)?"
                    r"(TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL)\s+(.*)$")
_GLOG = re.compile(r"^([IWEF])\d{4} \d\d:\d\d:\d\d\.\d+\s+(?:\d+\s+)?\S+:\d+\]\s?(.*)$")
_STAMPED = re.compile(r"^\d[\d\-/:.,T ]{7,}\s*(?:\[[^\]]*\]\s*)?(?:\S+\s+)?"
                      r"(TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL)\s*[:\-]?\s+(.*)$")
_CATEGORY = re.compile(r"^\([a-z]+\)\s+")
# DCMTK's -lc with its file layout (/etc/dcmtk/filelog.cfg): "2026-12-01 10:00:00.123 DEBUG - storescu - message"
_LOG4CPLUS = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[.,]\d+\s+(TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\s+-\s+"
                        r"[A-Za-z][\w.]*\s+-\s(.*)$")
_LEVELS = {"T": "T", "D": "D", "I": "I", "W": "W", "E": "E", "F": "F", "TRACE": "T", "DEBUG": "D", "INFO": "I",
           "WARN": "W", "WARNING": "W", "ERROR": "E", "FATAL": "F"}


def read_lines(path: Path) -> Iterator[tuple[int, str]]:
    """``(line number, text)`` for every line; a line longer than 64 KiB is cut there."""
    with open(path, "rb") as handle:
        number = 0
        while True:
            raw = handle.readline(MAX_LINE)
            if not raw:
                return
            number += 1
            if len(raw) == MAX_LINE and not raw.endswith(b"\n"):
                while True:  # skip the rest of an overlong line without holding it
                    rest = handle.readline(MAX_LINE)
                    if not rest or rest.endswith(b"\n"):
                        break
            text = raw.decode("utf-8", "replace").rstrip("\r\n")
            if "\xa0" in text:  # logs pasted through a web page or a word processor
                text = text.replace("\xa0", " ")
            yield number, text


def split_prefix(line: str) -> tuple[str, str]:
    """``(level letter or "", message)``: the toolkit's prefix removed; "" for continuation lines."""
    if len(line) > 2 and line[1] == ":" and line[0] in "TDIWEF" and (len(line) == 2 or line[2] == " "):
        return line[0], line[3:]
    if line[:1].isdigit():
        for pattern in (_LOG4CPLUS, _RZDCX, _STAMPED):
            match = pattern.match(line)
            if match:
                return _LEVELS[match[1]], match[2]
    elif line[:1] in "IWEF" and line[1:2].isdigit():
        match = _GLOG.match(line)
        if match:  # Orthanc 1.10+ puts its log category first: "(dicom) Association Received ..."
            return match[1], _CATEGORY.sub("", match[2], count=1)
    return "", line
