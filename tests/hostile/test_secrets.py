"""The passcode never leaves the run (issue 28): a node that quotes the credentials it received (a 59H
server response, its Implementation Version Name, the Error Comment of every response) puts it in no file
the run writes and not on its console; no process we start but our own child runs inherits it."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dcmconform.run.options import PASSCODE_ENV
from tests.hostile.nodes import EchoingHandler, serving

PASSCODE = "Pw-4711-secret"  # 14 characters: short enough for the node to echo as its version name too


def forms(secret: str) -> list[bytes]:
    raw = secret.encode()
    return [raw, raw.hex().encode(), raw.hex().upper().encode(), base64.b64encode(raw),
            base64.b64encode(raw).rstrip(b"=")]


@pytest.mark.slow  # one run of five checks against a local node (about 5 s)
def test_a_node_echoing_the_credentials_puts_the_passcode_in_no_file_and_no_output(tmp_path: Path) -> None:
    out = tmp_path / "report"
    with serving(EchoingHandler) as server:
        argv = [sys.executable, "-m", "dcmconform", "run", "--target", f"ECHO@127.0.0.1:{server.server_address[1]}",
                "--username", "alice", "--report-dir", str(out), "--timeout", "2", "--junitxml", str(out / "junit.xml"),
                "--summary-md", str(out / "summary.md")]
        for check_id in ("ASSOC-001", "DIMSE-001", "DIMSE-005", "SEC-010", "SEC-012"):
            argv += ["--check", check_id]
        done = subprocess.run(argv, env=os.environ | {PASSCODE_ENV: PASSCODE}, capture_output=True, timeout=120)
        # diagnose -v: its steps and pynetdicom's debug log of both associations
        diagnosed = subprocess.run([sys.executable, "-m", "dcmconform", "diagnose", f"ECHO@127.0.0.1:{server.server_address[1]}",
                                    "--username", "alice", "-v"], env=os.environ | {PASSCODE_ENV: PASSCODE},
                                   capture_output=True, timeout=120)
    files = [f for f in out.rglob("*") if f.is_file()]
    assert {f.name for f in files} >= {"conformance.json", "conformance.html", "junit.xml", "summary.md"}, done
    written = {str(f): f.read_bytes() for f in files} | {"stdout": done.stdout, "stderr": done.stderr,
                                                         "diagnose": diagnosed.stdout + diagnosed.stderr}
    holding = {name: [f.decode() for f in forms(PASSCODE) if f in data] for name, data in written.items()}
    assert {name: found for name, found in holding.items() if found} == {}
    # the node did quote it, and the report says where (the mask, not the secret, and not its length)
    assert b"[secret]" in written[str(out / "conformance.json")] and b"[secret]" in written["stdout"]
    assert b"*" * len(PASSCODE) not in written[str(out / "summary.md")]


def test_a_trigger_command_peers_and_locust_do_not_inherit_the_passcode(monkeypatch: pytest.MonkeyPatch) -> None:
    from dcmconform.base import lifeline
    from dcmconform.scu.trigger import run_command

    monkeypatch.setenv(PASSCODE_ENV, PASSCODE)
    ran = run_command("env", 30)
    assert ran.exit_code == 0 and "PATH=" in ran.output
    assert PASSCODE_ENV not in ran.output and PASSCODE not in ran.output
    from dcmconform.peers.dcmtk import dcmtk_env

    assert PASSCODE_ENV not in dcmtk_env()  # DCMTK's tools (bench's storescu, the DCMTK peers)
    # every process we start goes through lifeline.popen: only a child run of ours asks for the passcode
    for given, expected in ((False, ""), (True, PASSCODE)):
        proc = lifeline.popen([sys.executable, "-c", f"import os; print(os.environ.get({PASSCODE_ENV!r}, ''))"],
                              stdout=subprocess.PIPE, passcode=given)
        assert proc.communicate(timeout=30)[0].decode().strip() == expected
