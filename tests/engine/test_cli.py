"""The command line: the main job writes both reports; bad input is one line and exit 2; nothing left running."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from dcmconform.commands.report import schema_problem
from dcmconform.evidence.verdict import DICOM_EDITION

CLI = [sys.executable, "-m", "dcmconform"]


def _peer_pids() -> set[int]:
    """Peer processes started with this interpreter (so other checkouts' runs on the machine do not count)."""
    ours = os.fsencode(sys.executable)
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"dcmconform.peers" in cmdline and cmdline.startswith(ours):
                pids.add(int(entry.name))
    return pids


def _run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout, check=False,
                          stdin=subprocess.DEVNULL)


def test_run_against_the_embedded_default_writes_json_and_html(tmp_path: Path) -> None:
    before = _peer_pids()
    done = _run("run", "--report-dir", str(tmp_path), "--check", "ASSOC-001", "--check", "ASSOC-002",
                "--check", "DIMSE-001", "--summary-md", str(tmp_path / "summary.md"))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    doc = json.loads((tmp_path / "conformance.json").read_text())
    assert schema_problem(doc) is None
    assert f"clauses cite DICOM {DICOM_EDITION}" in (tmp_path / "summary.md").read_text()
    html = (tmp_path / "conformance.html").read_text()
    assert doc["schema"] == "dcmconform/2"
    assert doc["dicom_edition"] == DICOM_EDITION  # the edition the clauses cite, in the JSON and the HTML header
    assert f"edition {DICOM_EDITION}" in html
    assert doc["target"]["implementation_version_name"].startswith("PYNETDICOM")
    by_id = {r["id"]: r for r in doc["results"]}
    assert set(by_id) == {"ASSOC-001", "ASSOC-002", "DIMSE-001"}
    for result in by_id.values():
        assert result["outcome"] == "pass", result
        assert result["clause"].startswith("PS3.")
        kinds = {e["kind"] for e in result["evidence"]}
        assert {"dump", "hex"} <= kinds
        assert result["id"] in html
    assert "A-ASSOCIATE-AC" in by_id["ASSOC-001"]["evidence"][0]["text"]
    assert _peer_pids() - before == set(), "a peer process survived the run"


def test_exit_code_follows_the_verdicts(tmp_path: Path) -> None:
    """A failing check makes the run exit 1 (the zoo rejects every association)."""
    from dcmconform.peers.zoo.peer import ZooPeer

    with ZooPeer(["reject-everything"]) as endpoint:
        done = _run("run", "--target", str(endpoint), "--report-dir", str(tmp_path), "--check", "ASSOC-001")
    assert done.returncode == 1, done.stdout[-2000:]
    doc = json.loads((tmp_path / "conformance.json").read_text())
    assert doc["results"][0]["outcome"] == "fail"
    assert "A-ASSOCIATE-RJ" in doc["results"][0]["summary"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--target", "bad"], "is not AET@HOST:PORT"),
        (["run", "--target", "THIS_TITLE_IS_TOO_LONG@127.0.0.1:104"], "at most 16"),
        (["run", "--only", "no-such-area"], "unknown area"),
        (["run", "--peer", "no-such-peer"], "unknown peer"),
    ],
)
def test_usage_errors_exit_2_with_one_line(args: list[str], message: str) -> None:
    before = _peer_pids()
    done = _run(*args, timeout=60)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert _peer_pids() - before == set()


BAD_VALUES = [
    (["--timeout", "-1"], "--timeout"),
    (["--timeout", "abc"], "--timeout"),
    (["--artim-wait", "0"], "--artim-wait"),
    (["--move-port", "70000"], "outside 1-65535"),
    (["--calling-aet", "SEVENTEEN_CHARS_X"], "at most 16"),
    (["--move-aet", "A\x01B"], "control character"),
]


BAD_TARGET = (["--target", "bad"], "is not AET@HOST:PORT")  # not for matrix: it tests the reference peers
UNKNOWN_CHECK = (["--check", "NOPE-999"], "unknown check NOPE-999")  # known to the suites, before a peer starts


@pytest.mark.parametrize(("command", "args", "message"),
                         [(c, *bad) for c in ("run", "matrix", "pytest") for bad in BAD_VALUES]
                         + [(c, *BAD_TARGET) for c in ("run", "pytest")]
                         + [(c, *bad) for c in ("run", "matrix") for bad in [(["--check", "A B"], "not a check ID")]]
                         + [("run", *UNKNOWN_CHECK)])
def test_bad_option_values_exit_2_with_one_line(command: str, args: list[str], message: str) -> None:
    """The options are declared once with their validators: the same one line from the commands and pytest."""
    from dcmconform.run.suitedir import suites_dir

    before = _peer_pids()
    if command == "pytest":
        done = subprocess.run([sys.executable, "-m", "pytest", str(suites_dir()), "-p", "no:cacheprovider", *args],
                              capture_output=True, text=True, timeout=60, check=False, stdin=subprocess.DEVNULL)
    else:
        done = _run(command, *args, timeout=60)
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert _peer_pids() - before == set()


def test_closed_port_exits_2() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        done = _run("run", "--target", f"X@127.0.0.1:{port}", timeout=60)
    assert done.returncode == 2
    assert "connection refused" in done.stderr
    assert "Traceback" not in done.stderr


def test_unavailable_peer_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A peer that cannot run here (dcm4che with DCM4CHE_HOME naming an empty folder) is a set-up error."""
    monkeypatch.setenv("DCM4CHE_HOME", str(tmp_path))
    done = _run("run", "--peer", "dcm4che", timeout=60)
    assert done.returncode == 2, done.stderr
    assert f"reference peer dcm4che cannot run here: DCM4CHE_HOME {tmp_path} has no bin/storescp" in done.stderr
    assert "Traceback" not in done.stderr
