"""The log reader's pieces: prefixes, names, odd lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from dcmconform.diagnosis.logparse import MAX_LINE, read_lines, read_log, resolve, split_prefix


@pytest.mark.parametrize(("line", "level", "text"), [
    ("D:   Context ID:        1 (Proposed)", "D", "  Context ID:        1 (Proposed)"),
    ("F: Association Rejected:", "F", "Association Rejected:"),
    ("2011-12-1022:22:25.906000  1508   INFO   Association Request Parameteres:", "I", "Association Request Parameteres:"),
    ("2011-12-1022:22:26.062000  1508 INFO Association Request Result: Normal", "I", "Association Request Result: Normal"),
    ("2011-12-1022:22:31.234000     1508  ERROR In DCXREQ, Code: 520", "E", "In DCXREQ, Code: 520"),
    ("W1125 06:33:45.797382 CommandDispatcher.cpp:602] Rejected association", "W", "Rejected association"),
    ("Our Max PDU Receive Size: 32768", "", "Our Max PDU Receive Size: 32768"),
], ids=["dcmtk-debug", "dcmtk-fatal", "rzdcx", "rzdcx-single-spaces", "rzdcx-error", "orthanc", "continuation"])
def test_prefixes(line: str, level: str, text: str) -> None:
    assert split_prefix(line) == (level, text)


@pytest.mark.parametrize(("name", "uid"), [
    ("=SecondaryCaptureImageStorage", "1.2.840.10008.5.1.4.1.1.7"),  # DCMTK, RZDCX
    ("=Secondary Capture Image Storage", "1.2.840.10008.5.1.4.1.1.7"),  # pynetdicom
    ("=VerificationSOPClass", "1.2.840.10008.1.1"),
    ("=Verification SOP Class", "1.2.840.10008.1.1"),
    ("=LittleEndianExplicit", "1.2.840.10008.1.2.1"),  # DCMTK transfer syntax names
    ("=LittleEndianImplicit", "1.2.840.10008.1.2"),
    ("=JPEGLossless:Non-hierarchical-1stOrderPrediction", "1.2.840.10008.1.2.4.70"),
    ("=Explicit VR Little Endian", "1.2.840.10008.1.2.1"),
    ("=FINDModalityWorklistInformationModel", "1.2.840.10008.5.1.4.31"),
    ("=ModalityPerformedProcedureStepSOPClass", "1.2.840.10008.3.1.2.3.3"),
    ("1.2.3.4.5", "1.2.3.4.5"),
    ("=SomethingNobodyKnows", "SomethingNobodyKnows"),
])
def test_names_in_logs(name: str, uid: str) -> None:
    assert resolve(name) == uid


def test_overlong_line_is_cut_not_held(tmp_path: Path) -> None:
    log = tmp_path / "long.log"
    log.write_bytes(b"I: Requesting Association\n" + b"x" * (3 * MAX_LINE + 10) + b"\nF: Connection refused\n")
    lines = list(read_lines(log))
    assert [n for n, _ in lines] == [1, 2, 3]
    assert len(lines[1][1]) == MAX_LINE
    assert lines[2][1] == "F: Connection refused"


def test_web_page_spaces_are_spaces(tmp_path: Path) -> None:
    log = tmp_path / "pasted.log"
    log.write_text("2011-12-1022:22:25.906000\u00a0 1508\u00a0\u00a0 INFO\u00a0 Association Request Parameteres:\n"
                   "Calling Application Name:\u00a0\u00a0 RZDCX\n", encoding="utf-8")
    [(_, first), (_, second)] = read_lines(log)
    assert split_prefix(first) == ("I", "Association Request Parameteres:")
    assert second == "Calling Application Name:   RZDCX"


def test_a_file_with_no_dicom_in_it(tmp_path: Path) -> None:
    log = tmp_path / "other.log"
    log.write_text("hello\nworld\n")
    summary = read_log(log)
    assert summary.attempts == 0
    assert summary.lines == 2
