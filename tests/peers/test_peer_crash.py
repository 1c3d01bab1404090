"""A peer that crashes during a check is a finding: the check fails saying which request killed it
and how it died, and the next check gets a fresh peer (dcmconform.harness.peerguard)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree

HERE = Path(__file__).resolve().parent

CONFTEST = textwrap.dedent('''
    import sys
    from dcmconform.peers.base import Launch, ProcessPeer
    from dcmconform.peers.registry import PEERS

    class CrashyPeer(ProcessPeer):
        name = "crashy"

        def launch(self, port):
            argv = [sys.executable, {script!r}, "--port", str(port), "--aet", self.ae_title]
            return Launch(argv, dict(__import__("os").environ), self.workdir)

    class OnceCrashyPeer(CrashyPeer):
        """Starts once; every restart exits at once with code 3."""

        def launch(self, port):
            if self.starts:
                return Launch([sys.executable, "-c", "raise SystemExit(3)"], dict(__import__("os").environ),
                              self.workdir)
            return super().launch(port)

    PEERS["crashy"] = CrashyPeer
    PEERS["crashy-once"] = OnceCrashyPeer
''')

CHECKS = textwrap.dedent('''
    from dcmconform.base.uids import IMPLICIT_LE, NATIVE_SYNTAXES, VERIFICATION
    from dcmconform.evidence.verdict import check

    @check("CRASH-001", "An association from CRASH-ME (kills the peer)", "none", "MUST")
    def test_1_crash(probe, verdict, target):
        observed = probe.associate(probe.request([(1, VERIFICATION, [IMPLICIT_LE])], calling="CRASH-ME"))
        verdict.info(f"port {target.port}: {observed.describe()}")

    @check("CRASH-002", "C-ECHO on the peer after the crash", "none", "MUST")
    def test_2_echo(association, verdict, target):
        with association([(VERIFICATION, NATIVE_SYNTAXES)]) as assoc:
            status = assoc.send_c_echo()
        verdict.judge(getattr(status, "Status", None) == 0, f"port {target.port}: C-ECHO 0x0000", "C-ECHO failed",
                      compared=("C-ECHO-RSP Status", "0", str(getattr(status, "Status", None))))

    @check("CRASH-003", "A check that fails and kills the peer", "none", "MUST")
    def test_3_crash_and_fail(probe, verdict):
        observed = probe.associate(probe.request([(1, VERIFICATION, [IMPLICIT_LE])], calling="CRASH-ME"))
        verdict.fail(f"the check's own failure: {observed.describe()}")

    @check("CRASH-004", "A C-ECHO that kills the peer mid-association", "none", "MUST")
    def test_4_crash_on_echo(association, verdict):
        with association([(VERIFICATION, NATIVE_SYNTAXES)], calling_aet="ECHO-CRASH") as assoc:
            status = assoc.send_c_echo()
        verdict.passed(f"C-ECHO answered: {status}", "the transcript is attached automatically",
                       compared=("C-ECHO-RSP", "an answer", str(status)))

''')


def run_crashy(tmp_path: Path, peer: str) -> dict:
    """Run the CRASH-* checks against ``peer``; the JSON document."""
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "conftest.py").write_text(CONFTEST.format(script=str(HERE / "crashing_scp.py")))
    (suite / "test_crashy.py").write_text(CHECKS)
    report = tmp_path / "report"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(suite), "-p", "no:cacheprovider", "--import-mode=importlib",
         "--rootdir", str(suite), "--peer", peer, "--report-dir", str(report), "--timeout", "3", "-q",
         "--junitxml", str(tmp_path / "junit.xml")],
        cwd=suite, env=os.environ | {"TMPDIR": str(tmp_path / "tmp")}, capture_output=True, text=True, timeout=120,
        check=False)
    assert done.returncode == 1, done.stdout + done.stderr
    return dict(json.loads((report / "conformance.json").read_text()))


def test_a_crash_fails_the_check_and_the_next_check_gets_a_fresh_peer(
        tmp_path: Path, processes: Callable[[str], list[tuple[int, str]]]) -> None:
    temp = tmp_path / "tmp"  # the peer's folder lands here: a marker to find its process by
    temp.mkdir()
    doc = run_crashy(tmp_path, "crashy")
    results = {r["id"]: r for r in doc["results"]}

    crash = results["CRASH-001"]
    assert crash["outcome"] == "fail", crash
    assert crash["summary"].startswith("the peer died: killed by signal 11 (SIGSEGV) after A-ASSOCIATE-RQ"), crash
    assert "(the check alone would have been info: port" in crash["summary"]
    assert crash["peer_died"] == "killed by signal 11 (SIGSEGV)"
    texts = "\n".join(e["text"] for e in crash["evidence"])
    assert "Calling Application Name:   CRASH-ME" in texts  # the request that killed it, dumped
    assert "A-ASSOCIATE-RQ from CRASH-ME: crashing" in texts  # the peer's log tail
    assert "dcmconform restarted the reference peer" in texts and crash["peer_restarted"]  # the evidence says so

    echo = results["CRASH-002"]
    assert echo["outcome"] == "pass", echo
    first_port = int(crash["summary"].split("port ")[1].split(":")[0])
    second_port = int(echo["summary"].split("port ")[1].split(":")[0])
    assert first_port != second_port  # a fresh peer, on a new port

    both = results["CRASH-003"]
    assert both["outcome"] == "fail"
    assert both["summary"].startswith("the peer died: killed by signal 11 (SIGSEGV)")
    assert "the check had also failed: the check's own failure" in both["summary"]

    echo_crash = results["CRASH-004"]
    assert echo_crash["outcome"] == "fail", echo_crash
    assert echo_crash["summary"].startswith(
        "the peer died: killed by signal 11 (SIGSEGV) after P-DATA-TF carrying C-ECHO-RQ"), echo_crash
    assert "(the check alone would have been pass: C-ECHO answered" in echo_crash["summary"]

    # JUnit agrees with the JSON: the check the peer's death turned into a failure is a failure there too
    cases = {c.get("name"): c for c in ElementTree.parse(tmp_path / "junit.xml").iter("testcase")}
    junit = {name: {p.get("name"): p.get("value") for p in case.iter("property")} for name, case in cases.items()}
    crash_case = next(n for n in cases if n.startswith("CRASH-001"))  # JUnit names: "CRASH-001 <title>"
    echo_case = next(n for n in cases if n.startswith("CRASH-002"))
    assert junit[crash_case]["outcome"] == "fail", junit[crash_case]
    assert cases[crash_case].find("failure") is not None
    assert junit[echo_case]["outcome"] == "pass"

    assert doc["target"]["restarts"] == 2  # after CRASH-001 and CRASH-003; none needed after the last check
    assert [d["check"] for d in doc["target"]["peer_deaths"]] == ["CRASH-001", "CRASH-003", "CRASH-004"]
    assert processes(str(temp)) == []


def test_a_peer_that_cannot_come_back_errors_the_remaining_checks(
        tmp_path: Path, processes: Callable[[str], list[tuple[int, str]]]) -> None:
    (tmp_path / "tmp").mkdir()
    results = {r["id"]: r for r in run_crashy(tmp_path, "crashy-once")["results"]}
    assert results["CRASH-001"]["outcome"] == "fail"
    assert results["CRASH-001"]["summary"].startswith("the peer died: killed by signal 11 (SIGSEGV)")
    for later in ("CRASH-002", "CRASH-003", "CRASH-004"):
        assert results[later]["outcome"] == "error", results[later]
        assert ("the reference peer died and could not be restarted: crashy did not become ready: "
                "it ended first (exit code 3)") in results[later]["summary"]
    assert processes(str(tmp_path / "tmp")) == []
