"""``dcmconform statement``: a draft of the PS3.2 networking tables from what a real node accepts."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "dcmconform", "statement"]


def _statement(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    done = subprocess.run([*CLI, *args, "--html", str(tmp_path / "s.html"), "--json", str(tmp_path / "s.json")],
                          capture_output=True, text=True, timeout=300, check=False, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    return done, json.loads((tmp_path / "s.json").read_text())


def test_the_embedded_peer_s_tables(tmp_path: Path) -> None:
    done, observed = _statement(tmp_path)
    ct, implicit = "1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.1.2"
    assert implicit in observed["accepted"][ct]
    assert "1.2.840.10008.1.1" in observed["accepted"]  # Verification
    assert observed["implementation_version_name"] == "PYNETDICOM_304"
    assert observed["simultaneous"] >= 1 and observed["problems"] == []
    markdown = done.stdout
    assert markdown.startswith("# Draft DICOM Conformance Statement: networking")
    assert f"| CT Image Storage | `{ct}` | Implicit VR Little Endian" in markdown
    assert "| Implementation Version Name | `PYNETDICOM_304` |" in markdown
    assert "| Associations served at once | " in markdown
    html = (tmp_path / "s.html").read_text()
    assert "<td>CT Image Storage</td>" in html and "PYNETDICOM_304" in html


@pytest.mark.skipif(not Path("/usr/bin/storescp").exists(), reason="DCMTK is not installed (apt-get install dcmtk)")
def test_dcmtk_s_tables(tmp_path: Path) -> None:
    _, observed = _statement(tmp_path, "--peer", "dcmtk")
    assert observed["implementation_version_name"].startswith("OFFIS_DCMTK")
    assert "1.2.840.10008.5.1.4.1.1.2" in observed["accepted"]


@pytest.mark.skipif(shutil.which("Orthanc") is None, reason="Orthanc is not installed (apt-get install orthanc)")
def test_orthanc_s_tables(tmp_path: Path) -> None:
    _, observed = _statement(tmp_path, "--peer", "orthanc")
    assert "1.2.840.10008.5.1.4.1.2.2.1" in observed["accepted"]  # Study Root C-FIND


def test_nothing_listening_is_one_line_and_exit_2() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        done = subprocess.run([*CLI, "--target", f"X@127.0.0.1:{port}"], capture_output=True, text=True,
                              timeout=60, check=False, stdin=subprocess.DEVNULL)
    assert done.returncode == 2 and "connection refused" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
