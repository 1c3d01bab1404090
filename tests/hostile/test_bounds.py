"""A hostile target cannot hang the suite or grow its memory (issue 13): each behaviour of the
hostile server, against the piece that meets it, in a child process with a hard timeout."""

from __future__ import annotations

import sys
from collections.abc import Callable

import pytest

from tests.hostile.conftest import BIN, RSS_LIMIT_MB, ChildRun, run_child
from tests.hostile.server import HostileServer

LIVENESS = """
import sys, time
from dcmconform.net.assoc import liveness
from dcmconform.net.target import Endpoint
started = time.monotonic()
result = liveness(Endpoint("HOSTILE", "127.0.0.1", int(sys.argv[1])), "DCMCONFORM", float(sys.argv[2]))
print(result.alive, "|", result.detail, "|", round(time.monotonic() - started, 1))
"""


def liveness_in_child(server: HostileServer, timeout: float = 2, hard: float = 30) -> tuple[ChildRun, str]:
    run = run_child([sys.executable, "-c", LIVENESS, str(server.server_address[1]), str(timeout)], hard)
    assert run.returncode == 0, run.stderr[-2000:]
    return run, run.stdout.strip()


def assert_bounded(run: ChildRun, seconds: float) -> None:
    assert run.seconds < seconds, f"took {run.seconds:.1f}s (bound {seconds}s)"
    assert run.peak_mb < RSS_LIMIT_MB, f"peak RSS {run.peak_mb:.0f} MB"


def assert_every_check_judged(run: ChildRun, checks: list[str]) -> None:
    assert run.report is not None, f"no report: {run.stderr[-2000:]}"
    outcomes = run.outcomes()
    for check_id in checks:
        assert outcomes.get(check_id) not in (None, "error"), (check_id, outcomes.get(check_id),
                                                                run.result(check_id)["summary"] if check_id in outcomes else "")


@pytest.mark.parametrize("hostile_server", ["drip-ac", "huge-length", "stop-reading"], indirect=True)
def test_liveness_ends_in_bounded_time_and_memory(hostile_server: HostileServer) -> None:
    run, line = liveness_in_child(hostile_server)
    assert line.startswith("False"), line
    assert_bounded(run, 15)


@pytest.mark.parametrize("hostile_server", ["store-rsp-for-echo"], indirect=True)
def test_a_c_store_rsp_to_our_c_echo_is_not_alive(hostile_server: HostileServer) -> None:
    run, line = liveness_in_child(hostile_server)
    assert line.startswith("False") and "C-STORE-RSP" in line, line


@pytest.mark.slow
@pytest.mark.parametrize("hostile_server", ["store-rsp-for-echo"], indirect=True)
def test_wrong_response_type_fails_the_echo_checks(hostile_server: HostileServer, run_checks: Callable[..., ChildRun]) -> None:
    checks = ["DIMSE-001", "ASSOC-019", "DIMSE-004"]
    run = run_checks(hostile_server, checks)
    assert_every_check_judged(run, checks)
    # DIMSE-004 times round trips to C-ECHO-RSPs only: a C-STORE-RSP is nothing to time (it passed before)
    assert run.outcomes() == {"DIMSE-001": "fail", "ASSOC-019": "fail", "DIMSE-004": "n.a."}, run.outcomes()
    assert "C-STORE-RSP" in run.result("DIMSE-001")["summary"]
    assert_bounded(run, 40)


@pytest.mark.slow
@pytest.mark.parametrize("hostile_server", ["stop-reading"], indirect=True)
def test_a_run_against_a_stalling_target_ends_with_a_report(hostile_server: HostileServer,
                                                            run_checks: Callable[..., ChildRun]) -> None:
    checks = ["DIMSE-001", "DIMSE-012"]
    run = run_checks(hostile_server, checks, hard=120)
    assert_every_check_judged(run, checks)
    assert_bounded(run, 90)


@pytest.mark.slow
@pytest.mark.parametrize("hostile_server", ["drip-ac", "huge-length"], indirect=True)
def test_a_target_that_never_serves_an_association_is_a_set_up_error(hostile_server: HostileServer,
                                                                     run_checks: Callable[..., ChildRun]) -> None:
    """It drips its A-ASSOCIATE-AC or announces a 4 GB one: the
    pre-flight's first association gets no answer it can read, so nothing could be judged (issue 27): one line,
    exit 2, no report that could pass for a run, and still bounded in time and memory."""
    run = run_checks(hostile_server, ["DIMSE-001", "DIMSE-012"], hard=120)
    assert run.returncode == 2, run.stdout[-2000:] + run.stderr[-2000:]
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "never served an association" in lines[0], run.stderr[-2000:]
    assert run.report is None
    assert_bounded(run, 60)


@pytest.mark.slow
@pytest.mark.parametrize("hostile_server", ["endless-pending"], indirect=True)
def test_endless_pending_responses_fail_the_query_checks(hostile_server: HostileServer,
                                                         run_checks: Callable[..., ChildRun]) -> None:
    checks = ["DIMSE-016", "DIMSE-019"]
    run = run_checks(hostile_server, checks, hard=150)
    assert_every_check_judged(run, checks)
    for check_id in checks:  # fail, or warn for a SHOULD check (DIMSE-019), naming what the target did
        assert run.outcomes()[check_id] in ("fail", "warn"), (check_id, run.result(check_id)["summary"])
        assert "kept sending" in run.result(check_id)["summary"], run.result(check_id)["summary"]
    assert_bounded(run, 120)


@pytest.mark.slow
@pytest.mark.parametrize("hostile_server", ["flood-on-silence"], indirect=True)
def test_a_flood_on_a_silent_connection_is_counted_not_kept(hostile_server: HostileServer,
                                                            run_checks: Callable[..., ChildRun]) -> None:
    """It serves associations, and floods a connection that sends nothing (ASSOC-053's)."""
    run = run_checks(hostile_server, ["ASSOC-053"], extra=("--artim-wait", "4"))
    assert_every_check_judged(run, ["ASSOC-053"])
    assert_bounded(run, 40)


@pytest.mark.slow
@pytest.mark.parametrize("hostile_server", ["odd-length-echo-rsp"], indirect=True)
def test_an_undecodable_response_is_a_fail_not_an_error(hostile_server: HostileServer,
                                                        run_checks: Callable[..., ChildRun]) -> None:
    checks = ["DIMSE-001", "DIMSE-002", "DIMSE-003", "ASSOC-019"]
    run = run_checks(hostile_server, checks)
    assert_every_check_judged(run, checks)
    assert set(run.outcomes().values()) == {"fail"}, run.outcomes()
    assert "does not decode" in run.result("DIMSE-001")["summary"]
    assert any(e["kind"] == "hex" for e in run.result("DIMSE-001")["evidence"])  # the bytes are the evidence
    assert_bounded(run, 40)


DIAGNOSE_CASES = [("drip-after-first", "2", "did not"), ("store-rsp-for-echo", "2", "C-STORE-RSP")]


@pytest.mark.slow
@pytest.mark.parametrize(("hostile_server", "exit_code", "said"), DIAGNOSE_CASES, indirect=["hostile_server"])
def test_diagnose_ends_and_says_what_went_wrong(hostile_server: HostileServer, exit_code: str, said: str) -> None:
    port = hostile_server.server_address[1]
    run = run_child([str(BIN / "dcmconform"), "diagnose", f"HOSTILE@127.0.0.1:{port}", "--timeout", "2", "--echoes", "2"],
                    60)
    assert str(run.returncode) == exit_code, run.stdout[-3000:]
    assert said in run.stdout, run.stdout[-3000:]
    assert_bounded(run, 40)
