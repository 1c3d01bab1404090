"""Hostile round two (issue 28): inflation bombs, loops with no end of their own, memory a sender sizes.

Each behaviour against the piece that meets it, in a child process (a real ``dcmconform`` where one
applies) with a hard timeout: wall time bounded, peak RSS under ``RSS_LIMIT_MB``, and a verdict or
one clear line, never a crash.
"""

from __future__ import annotations

import json
import shlex
import socket
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.hostile.conftest import BIN, RSS_LIMIT_MB, ChildRun, run_child
from tests.hostile.server import BOMB_BYTES, DEFLATED, HostileServer, bomb
from tests.hostile.test_bounds import assert_bounded, assert_every_check_judged

SCU = Path(__file__).with_name("scu.py")

# Our own association proposing Deflated (as statement and diagnose do): pynetdicom decodes the bomb
# identifier through our capped helper, and bounded() judges it.
FIND_DEFLATED = """
import sys
from pydicom.dataset import Dataset
from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelFind as FIND
from dcmconform.net.assoc import associate, bounded
from dcmconform.base.limits import TargetMisbehaved
from dcmconform.net.target import Endpoint
query = Dataset(); query.QueryRetrieveLevel = "STUDY"; query.StudyInstanceUID = ""
with associate(Endpoint("HOSTILE", "127.0.0.1", int(sys.argv[1])), "DCMCONFORM", 5, [(FIND, [sys.argv[2]])]) as assoc:
    try:
        print(len(list(bounded(assoc.send_c_find(query, FIND), assoc, "C-FIND"))), "responses")
    except TargetMisbehaved as exc:
        print("judged:", exc)
"""


@pytest.mark.slow
@pytest.mark.parametrize("hostile_server", ["deflate-bomb"], indirect=True)
def test_a_deflated_identifier_the_ac_never_offered_is_judged(hostile_server: HostileServer,
                                                              run_checks: Callable[..., ChildRun]) -> None:
    """We propose Explicit/Implicit VR LE; the node accepts in Deflated and answers C-FIND with a bomb."""
    bomb()  # built before the clock starts (the server's, not the run's, work)
    run = run_checks(hostile_server, ["DIMSE-016", "ASSOC-023"], timeout=3)
    assert_every_check_judged(run, ["DIMSE-016", "ASSOC-023"])
    assert run.outcomes()["ASSOC-023"] == "fail", run.result("ASSOC-023")["summary"]
    assert "did not propose" in json.dumps(run.result("DIMSE-016")), run.result("DIMSE-016")
    assert_bounded(run, 40)


@pytest.mark.slow
@pytest.mark.parametrize("hostile_server", ["deflate-bomb"], indirect=True)
def test_a_deflated_identifier_we_proposed_inflates_only_to_the_cap(hostile_server: HostileServer) -> None:
    bomb()
    run = run_child([sys.executable, "-c", FIND_DEFLATED, str(hostile_server.server_address[1]), DEFLATED], 60)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "judged:" in run.stdout and "decompression bomb" in run.stdout, run.stdout
    assert_bounded(run, 30)


@pytest.mark.slow
def test_diagnose_file_refuses_a_bomb_in_one_line(tmp_path: Path) -> None:
    from pydicom.dataset import FileMetaDataset
    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import write_file_meta_info

    meta = FileMetaDataset()
    meta.TransferSyntaxUID = DEFLATED
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    meta.MediaStorageSOPInstanceUID = "1.2.826.0.1.3680043.10.1482.98.2"
    buffer = DicomBytesIO()
    buffer.is_little_endian, buffer.is_implicit_VR = True, False
    write_file_meta_info(buffer, meta)
    path = tmp_path / "bomb.dcm"
    path.write_bytes(bytes(128) + b"DICM" + buffer.getvalue() + bomb())
    assert path.stat().st_size < BOMB_BYTES // 500
    run = run_child([str(BIN / "dcmconform"), "diagnose", "X@127.0.0.1:9", "--file", str(path), "--timeout", "2"], 60)
    assert run.returncode == 2, (run.stdout[-2000:], run.stderr[-2000:])
    assert "decompression bomb" in run.stderr and "Traceback" not in run.stderr, run.stderr[-2000:]
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert_bounded(run, 30)


@pytest.mark.slow
@pytest.mark.parametrize("hostile_server", ["trickle-get"], indirect=True)
def test_a_c_get_whose_sub_operations_trickle_for_ever_ends_within_its_budget(
        hostile_server: HostileServer, run_checks: Callable[..., ChildRun]) -> None:
    """Two C-STORE sub-operations a second and never a C-GET-RSP: each restarts pynetdicom's DIMSE timeout;
    the timer of bounded() ends the C-GET (and the pre-condition probe's) at 6 x --timeout."""
    run = run_checks(hostile_server, ["DIMSE-021"], timeout=1)
    assert_every_check_judged(run, ["DIMSE-021"])
    summary = run.result("DIMSE-021")["summary"]
    assert run.outcomes()["DIMSE-021"] in ("fail", "warn"), summary
    assert "did not end within" in summary, summary
    assert_bounded(run, 50)


@pytest.mark.slow
@pytest.mark.parametrize("hostile_server", ["pdata-flood", "pdata-flood-small"], indirect=True)
def test_a_p_data_flood_in_answer_to_c_echo_stays_small(hostile_server: HostileServer,
                                                        run_checks: Callable[..., ChildRun]) -> None:
    """Never-last P-DATA-TFs, 3 GB in all: of 8 MB (over our maximum: the first ends the connection) or
    of 16 KiB (the message cap ends it)."""
    hostile_server.flood_bytes = 3 * 1024 ** 3
    run = run_checks(hostile_server, ["DIMSE-001"], timeout=3)
    assert_every_check_judged(run, ["DIMSE-001"])
    summary = run.result("DIMSE-001")["summary"]
    assert run.outcomes()["DIMSE-001"] == "fail", summary
    if hostile_server.behaviour == "pdata-flood":
        assert "over the maximum length we announced" in summary, summary
    assert_bounded(run, 60)


def _scu_run(tmp_path: Path, mode: str, check_id: str, trigger_timeout: int = 20) -> ChildRun:
    out = tmp_path / "report"
    trigger = f"{shlex.quote(sys.executable)} {shlex.quote(str(SCU))} {mode} {{host}} {{port}} {{aet}}"
    return run_child([str(BIN / "dcmconform"), "run", "--role", "scu", "--trigger", trigger, "--check", check_id,
                      "--timeout", "3", "--trigger-timeout", str(trigger_timeout), "--report-dir", str(out)], 120, out)


@pytest.mark.slow
def test_a_hostile_scu_sending_3_gb_in_oversized_pdus_is_cut_off_and_judged(tmp_path: Path) -> None:
    run = _scu_run(tmp_path, "big-pdus", "SCU-022")
    assert_every_check_judged(run, ["SCU-022"])
    summary = run.result("SCU-022")["summary"]
    assert run.outcomes()["SCU-022"] == "fail" and "over 512" in summary, summary
    assert_bounded(run, 60)


@pytest.mark.slow
def test_a_hostile_scu_sending_a_deflated_bomb_is_not_inflated(tmp_path: Path) -> None:
    bomb()
    """It proposes Deflated only (refused: our SCP takes Deflated only in a scenario that means to), then
    sends the bomb on the context accepted in Explicit VR Little Endian: read as that, never inflated."""
    run = _scu_run(tmp_path, "deflate-bomb", "SCU-010")
    assert_every_check_judged(run, ["SCU-010"])
    result = run.result("SCU-010")
    assert result["outcome"] == "fail", result["summary"]
    assert "Transfer Syntax Not Supported" in json.dumps(result["evidence"])
    assert_bounded(run, 60)


@pytest.mark.slow
@pytest.mark.parametrize("hostile_server", ["move-bomb"], indirect=True)
def test_c_move_arrivals_that_inflate_to_gigabytes_are_judged(hostile_server: HostileServer,
                                                             run_checks: Callable[..., ChildRun]) -> None:
    """The node moves our study back to our storage SCP as Deflated data sets of 1.5 MB that inflate to 1.5 GiB."""
    bomb()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        hostile_server.move_port = probe.getsockname()[1]
    run = run_checks(hostile_server, ["DIMSE-024"], timeout=3, extra=("--move-port", str(hostile_server.move_port)))
    assert_every_check_judged(run, ["DIMSE-024"])
    result = run.result("DIMSE-024")
    assert result["outcome"] == "fail", result["summary"]
    assert "decompression bomb" in json.dumps(result["evidence"]), result["summary"]
    assert_bounded(run, 60)


@pytest.mark.parametrize("hostile_server", ["deflate-bomb"], indirect=True)
def test_an_ac_with_a_syntax_we_did_not_propose_is_aborted(hostile_server: HostileServer) -> None:
    from dcmconform.base.limits import TargetMisbehaved
    from dcmconform.base.uids import NATIVE_SYNTAXES, VERIFICATION
    from dcmconform.evidence.transcript import Transcript
    from dcmconform.net.assoc import AssociationRefused, UnproposedSyntax, associate

    transcript = Transcript()
    with pytest.raises(UnproposedSyntax) as caught, associate(hostile_server.endpoint, "DCMCONFORM", 3,
                                                              [(VERIFICATION, NATIVE_SYNTAXES)], transcript):
        pass
    assert isinstance(caught.value, AssociationRefused) and isinstance(caught.value, TargetMisbehaved)
    assert "PS3.8 9.3.3.2" in str(caught.value) and any("did not propose" in e.text for e in transcript.events if e.text)


@pytest.mark.slow
@pytest.mark.parametrize("hostile_server", ["trickle-get"], indirect=True)
def test_statement_and_diagnose_end_with_a_report_against_a_node_that_never_ends_an_operation(
        hostile_server: HostileServer, tmp_path: Path) -> None:
    target = f"HOSTILE@127.0.0.1:{hostile_server.server_address[1]}"
    statement = run_child([str(BIN / "dcmconform"), "statement", "--target", target, "--timeout", "2",
                           "--markdown", str(tmp_path / "statement.md")], 60)
    assert statement.returncode == 0 and (tmp_path / "statement.md").stat().st_size > 0, statement.stderr[-2000:]
    assert_bounded(statement, 30)
    diagnose = run_child([str(BIN / "dcmconform"), "diagnose", target, "--timeout", "2", "--echoes", "2"], 60)
    assert diagnose.returncode in (0, 2) and diagnose.stdout.strip(), diagnose.stderr[-2000:]
    assert "Traceback" not in diagnose.stderr
    assert_bounded(diagnose, 30)


@pytest.mark.slow
def test_a_hostile_scu_flooding_3_gb_in_small_pdus_is_counted_not_kept(tmp_path: Path) -> None:
    """16 KB P-DATA-TFs (under our maximum plus the margin), never the last fragment: the scenario SCP keeps
    its per-association budget and counts the rest."""
    run = _scu_run(tmp_path, "flood", "SCU-022", trigger_timeout=8)
    assert_every_check_judged(run, ["SCU-022"])
    assert run.outcomes()["SCU-022"] == "fail", run.result("SCU-022")["summary"]
    assert_bounded(run, 90)


@pytest.mark.slow
@pytest.mark.parametrize("hostile_server", ["pdata-flood-small"], indirect=True)
def test_a_p_data_flood_over_a_whole_area_stays_small(hostile_server: HostileServer,
                                                      run_checks: Callable[..., ChildRun]) -> None:
    """Never-last 16 KiB P-DATA-TFs to every DIMSE check, one after the other: what one check's
    exchange held is let go before the next (each check alone stayed small; together they grew by
    ~180 MB a check while pynetdicom's association cycles waited for the collector). The whole default
    run against it, by hand: see docs/bounds.md."""
    hostile_server.flood_bytes = 3 * 1024 ** 3
    run = run_checks(hostile_server, [], timeout=3, hard=300, extra=("--only", "dimse"))
    assert run.report is not None, run.stderr[-2000:]
    assert run.outcomes(), "no check judged"
    assert run.peak_mb < RSS_LIMIT_MB, f"peak RSS {run.peak_mb:.0f} MB"
