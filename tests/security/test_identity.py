"""User identity, access control and hostile values (SEC-010..015): the credentials of --username/--passcode
reach the node and never a report or log; the clean zoo passes each check, with and without requiring user
identity (each defect is caught in test_sec_checks.py, accept-any-calling-ae by selftest)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dcmconform.evidence import identity
from dcmconform.peers.zoo.selftest import ZOO_IDENTITY, run_zoo
from dcmconform.evidence.transcript import Transcript
from dcmconform.base.uids import IMPLICIT_LE, VERIFICATION
from dcmconform.wire import items as it
from dcmconform.wire import pdus as pd

SECRET = b"S3cret-Passcode-4711"


@pytest.mark.parametrize("kind", [identity.USERNAME_PASSCODE, identity.KERBEROS, identity.SAML, identity.JWT])
def test_a_transcript_keeps_no_credential_but_the_pdu_still_decodes(kind: int) -> None:
    who = identity.Identity(kind, b"alice" if kind == identity.USERNAME_PASSCODE else SECRET,
                            SECRET if kind == identity.USERNAME_PASSCODE else b"")
    rq = pd.associate_rq("PACS", "ME", [(1, VERIFICATION, [IMPLICIT_LE])], extra_user_items=[who.sub_item(True)])
    transcript = Transcript()
    transcript.sent(rq.encode())
    recorded = transcript.events[0].data
    assert SECRET not in recorded and len(recorded) == len(rq.encode())
    sub = pd.decode_pdu(recorded).user_information.find(it.UserIdentityRQSubItem)[0]  # type: ignore[union-attr]
    assert sub.positive_response_requested == 1 and set(sub.secondary or sub.primary) == {ord("*")}
    text = transcript.dump() + transcript.hex() + repr(who)
    assert SECRET.decode() not in text and "S3cret" not in text
    if kind == identity.USERNAME_PASSCODE:
        assert "alice" in transcript.dump()  # the username is no secret: the admin needs to see it


def test_a_username_alone_is_kept_as_sent() -> None:
    rq = pd.associate_rq("PACS", "ME", [(1, VERIFICATION, [IMPLICIT_LE])],
                         extra_user_items=[identity.Identity(identity.USERNAME, b"alice").sub_item()])
    assert identity.redact(rq.encode()) == rq.encode()


@pytest.mark.slow  # one child run against the zoo (about 5 s)
def test_the_zoo_requiring_identity_passes_and_no_file_or_output_holds_the_passcode(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess

    from dcmconform.run import childrun

    started: list[list[str]] = []  # the child run's command line: what `ps` shows every user of the machine
    real_popen = subprocess.Popen

    def popen(argv: list[str], **kwargs: object) -> subprocess.Popen[bytes]:
        started.append([str(a) for a in argv])
        return real_popen(argv, **kwargs)  # type: ignore[call-overload,no-any-return]

    monkeypatch.setattr(childrun.subprocess, "Popen", popen)
    junit, markdown = tmp_path / "clean" / "junit.xml", tmp_path / "clean" / "summary.md"
    checks = ["SEC-010", "SEC-011", "SEC-012", "ASSOC-001", "DIMSE-001", "DIMSE-005", "DIMSE-016"]
    results = run_zoo([], checks, tmp_path, identity=True,
                      extra=("--junitxml", str(junit), "--summary-md", str(markdown)))
    assert {k: v["outcome"] for k, v in results.items()} == dict.fromkeys(checks, "pass"), results
    # the passcode reached the child run (the zoo served it) through its environment, not its command line
    [run] = [argv for argv in started if argv[1:4] == ["-m", "dcmconform", "run"]]
    assert "--username" in run
    assert not any(ZOO_IDENTITY[1] in arg for arg in run), run  # (the zoo's own command line names it: a test peer)
    passcode = ZOO_IDENTITY[1].encode()
    files = [f for f in (tmp_path / "clean").rglob("*") if f.is_file()]
    assert {f.name for f in files} >= {"conformance.json", "conformance.html", "run.log", "junit.xml", "summary.md"}
    holding = [str(f) for f in files if passcode in f.read_bytes() or passcode.hex().encode() in f.read_bytes()]
    assert holding == []
    assert ZOO_IDENTITY[0] in (tmp_path / "clean" / "conformance.json").read_text()  # the username shows


@pytest.mark.slow  # one child run against the zoo (about 3 s)
def test_the_clean_zoo_passes_the_plaintext_checks_and_says_why_011_and_012_need_a_username(tmp_path: Path) -> None:
    results = run_zoo([], ["SEC-010", "SEC-011", "SEC-012", "SEC-013", "SEC-014", "SEC-015"], tmp_path)
    outcomes = {k: v["outcome"] for k, v in results.items()}
    assert outcomes == {"SEC-010": "pass", "SEC-011": "n.a.", "SEC-012": "n.a.", "SEC-013": "pass",
                        "SEC-014": "pass", "SEC-015": "pass"}, results
    assert "--username" in results["SEC-011"]["summary"]
    assert "as sent" in results["SEC-013"]["summary"]  # the read back
    assert "calling-AE-title-not-recognized" in results["SEC-014"]["summary"]


def test_a_passcode_without_a_username_is_one_line_and_exit_2(tmp_path: Path) -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "dcmconform", "run", "--passcode", "x", "--report-dir",
                           str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["dcmconform: error: argument --passcode: give the --username it "
                                                "belongs to"]


@pytest.mark.slow  # three diagnose runs against a zoo requiring user identity (about 4 s)
def test_diagnose_presents_the_user_identity_and_never_prints_the_passcode() -> None:
    import os
    import subprocess
    import sys

    from dcmconform.run.options import PASSCODE_ENV
    from dcmconform.peers.zoo.peer import ZooPeer

    peer = ZooPeer([])
    peer.identity = ZOO_IDENTITY
    endpoint = peer.start()
    try:
        codes = {}
        hidden = os.environ | {PASSCODE_ENV: ZOO_IDENTITY[1]}
        for name, extra, env in [("right", ["--username", ZOO_IDENTITY[0], "--passcode", ZOO_IDENTITY[1]], None),
                                 ("wrong", ["--username", ZOO_IDENTITY[0], "--passcode", ZOO_IDENTITY[1] + "x"], None),
                                 ("none", [], None),
                                 ("from the environment", ["--username", ZOO_IDENTITY[0]], hidden),
                                 ("given wins", ["--username", ZOO_IDENTITY[0], "--passcode", "x"], hidden)]:
            done = subprocess.run([sys.executable, "-m", "dcmconform", "diagnose", str(endpoint), "--echo-only", "-v",
                                   *extra], capture_output=True, text=True, timeout=60, env=env)
            assert ZOO_IDENTITY[1] not in done.stdout + done.stderr
            codes[name] = done.returncode
    finally:
        peer.stop()
    assert codes == {"right": 0, "wrong": 2, "none": 2, "from the environment": 0, "given wins": 2}


def test_the_runs_passcode_is_masked_even_in_a_request_broken_on_purpose_or_sent_in_pieces() -> None:
    who = identity.Identity(identity.USERNAME_PASSCODE, b"alice", SECRET)
    rq = pd.associate_rq("PACS", "ME", [(1, VERIFICATION, [IMPLICIT_LE])], extra_user_items=[who.sub_item()]).encode()
    broken = rq[:6] + b"\xff" + rq[7:]  # a protocol version byte no decoder expects is still ours to mask
    identity.use(who)
    try:
        transcript = Transcript()
        for piece in (broken, rq[:10], rq[10:]):
            transcript.sent(piece)
        assert all(SECRET not in e.data for e in transcript.events)
        assert [len(e.data) for e in transcript.events] == [len(broken), 10, len(rq) - 10]
    finally:
        identity.use(None)
