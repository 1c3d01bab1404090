"""The pytest plugin turns each check into exactly one result with evidence, whatever the check does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dcmconform.net.target import Endpoint

pytest_plugins = ["pytester"]

CHECKS = '''
import pytest
from dcmconform.evidence.verdict import check

RQ = [(1, "1.2.840.10008.1.1", ["1.2.840.10008.1.2"])]

@check("ASSOC-901", "passes", "PS3.8 9.3.3", "MUST")
def test_pass(probe, verdict):
    seen = probe.associate(probe.request(RQ)).kind
    verdict.judge(seen == "accepted", "accepted", "not accepted", compared=("answer", "accepted", seen))

@check("ASSOC-902", "should, broken", "PS3.8 9.3.3", "SHOULD", fix="change this")
def test_warn(probe, verdict):
    verdict.judge(probe.associate(probe.request(RQ)).kind == "rejected", "rejected", "accepted")

@check("ASSOC-903", "must, broken", "PS3.8 9.3.3", "MUST", fix="fix that")
def test_fail(probe, verdict):
    verdict.judge(probe.associate(probe.request(RQ)).kind == "rejected", "rejected", "accepted")

@check("ASSOC-904", "no verdict", "PS3.8 9.3.3", "MUST")
def test_silent(probe, verdict):
    probe.associate(probe.request(RQ))

@check("ASSOC-905", "no evidence", "PS3.8 9.3.3", "MUST")
def test_no_evidence(verdict):
    verdict.passed("claims a pass without looking")

@check("ASSOC-908", "no witness", "PS3.8 9.3.3", "MUST")
def test_no_witness(probe, verdict):
    verdict.judge(probe.associate(probe.request(RQ)).kind == "accepted", "accepted", "not accepted")

@check("ASSOC-906", "broken check", "PS3.8 9.3.3", "MUST")
def test_broken(probe, verdict):
    raise RuntimeError("bug in the check")

@check("ASSOC-907", "not applicable", "PS3.8 9.3.3", "MAY")
def test_na(verdict):
    verdict.not_applicable("the target offers no such service")
'''


@pytest.fixture
def outcome(pytester: pytest.Pytester, zoo_endpoint: Endpoint, tmp_path: Path) -> dict[str, dict]:
    pytester.makepyfile(test_checks=CHECKS)
    report = tmp_path / "report"
    pytester.runpytest_subprocess("--target", str(zoo_endpoint), "--report-dir", str(report),
                                  "-p", "no:cacheprovider", f"--junitxml={tmp_path / 'junit.xml'}")
    doc = json.loads((report / "conformance.json").read_text())
    return {r["id"]: r for r in doc["results"]}


def test_each_check_gets_one_result(outcome: dict[str, dict]) -> None:
    assert {k: v["outcome"] for k, v in outcome.items()} == {
        "ASSOC-901": "pass",
        "ASSOC-902": "warn",
        "ASSOC-903": "fail",
        "ASSOC-904": "error",
        "ASSOC-905": "error",
        "ASSOC-906": "error",
        "ASSOC-907": "n.a.",
        "ASSOC-908": "error",
    }
    assert outcome["ASSOC-901"]["compared"] == [{"what": "answer", "expected": "accepted", "seen": "accepted"}]


def test_warn_and_fail_carry_the_fix_and_evidence(outcome: dict[str, dict]) -> None:
    assert outcome["ASSOC-902"]["explanation"] == "change this"
    assert outcome["ASSOC-903"]["explanation"] == "fix that"
    for check_id in ("ASSOC-901", "ASSOC-902", "ASSOC-903"):
        assert outcome[check_id]["evidence"][0]["kind"] == "dump"
        assert "A-ASSOCIATE-RQ" in outcome[check_id]["evidence"][0]["text"]


def test_errors_say_why(outcome: dict[str, dict]) -> None:
    assert "reached no verdict" in outcome["ASSOC-904"]["summary"]
    assert "needs evidence" in outcome["ASSOC-905"]["summary"]
    assert "bug in the check" in outcome["ASSOC-906"]["summary"]
    assert "ASSOC-908: a pass records what it compared (compared=...)" in outcome["ASSOC-908"]["summary"]


def test_pytest_outcomes_match(pytester: pytest.Pytester, zoo_endpoint: Endpoint, tmp_path: Path) -> None:
    pytester.makepyfile(test_checks=CHECKS)
    result = pytester.runpytest_subprocess("--target", str(zoo_endpoint), "-p", "no:cacheprovider")
    # warn is not a failure; fail, no-verdict, no-evidence, no-witness and broken are.
    result.assert_outcomes(passed=2, failed=5, skipped=1)


def test_nodelay_only_on_our_associations(zoo_endpoint: Endpoint) -> None:
    """Our associations set TCP_NODELAY (else a C-STORE waits ~40 ms for a delayed ACK); a pynetdicom
    AE of someone else in the same process keeps pynetdicom's own sockets."""
    import socket

    from pynetdicom import AE

    from dcmconform.base.uids import IMPLICIT_LE, VERIFICATION
    from dcmconform.net.assoc import associate

    def nodelay(assoc: object) -> int:
        return int(assoc.dul.socket.socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))  # type: ignore[attr-defined]

    with associate(zoo_endpoint, "DCMCONFORM", 5.0) as ours:
        assert nodelay(ours) == 1
    other = AE(ae_title="DCMCONFORM")
    other.add_requested_context(VERIFICATION, [IMPLICIT_LE])
    theirs = other.associate(zoo_endpoint.host, zoo_endpoint.port, ae_title=zoo_endpoint.ae_title)
    try:
        assert theirs.is_established
        assert nodelay(theirs) == 0
    finally:
        theirs.release()
        other.shutdown()
