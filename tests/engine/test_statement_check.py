"""The statement checks (``--statement``, suites/statement) against real nodes: a statement with one claim the
node refuses and one class it accepts left out yields exactly those two findings (issue 18's done-when)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from pydicom.uid import UID

from dcmconform.run import childrun
from dcmconform.net.probe import Probe
from dcmconform.survey.statement import Observed, accepted_classes, sop_classes
from dcmconform.net.target import Endpoint

pytestmark = pytest.mark.slow  # a reference peer, and a run of the statement area


def _wrong_statement(endpoint: Endpoint, folder: Path) -> tuple[Path, str, str]:
    """A statement of what the node accepts (as observed), less one class it accepts and plus one it refuses."""
    probe = Probe(endpoint, "DCMCONFORM", 5)
    taken = accepted_classes(probe, Observed(endpoint, "DCMCONFORM"))
    left_out = "1.2.840.10008.5.1.4.1.1.2" if "1.2.840.10008.5.1.4.1.1.2" in taken else sorted(taken)[0]  # CT
    refused = next(uid for uid in sop_classes() if uid not in taken)
    claims = {uid: [ts] for uid, ts in taken.items() if uid != left_out} | {refused: ["1.2.840.10008.1.2"]}
    path = folder / "statement.json"
    path.write_text(json.dumps({"scp": claims}), encoding="utf-8")
    return path, left_out, refused


def _exactly_two_findings(peer_name: str, tmp_path: Path) -> None:
    from dcmconform.peers.registry import make_peer

    peer = make_peer(peer_name)
    if peer.available():
        pytest.skip(f"{peer_name} cannot run here: {peer.available()}")
    endpoint = peer.start()
    try:
        statement, left_out, refused = _wrong_statement(endpoint, tmp_path)
        run = childrun.run_suite(tmp_path / "run", target=str(endpoint), timeout=180,
                                 options=["--only", "statement", "--statement", str(statement)])
    finally:
        peer.stop()
    assert run.document is not None, run.error
    results = run.results
    assert set(results) == {"STMT-001", "STMT-002"}
    stmt1, stmt2 = results["STMT-001"], results["STMT-002"]
    assert stmt1["outcome"] == "fail" and stmt1["summary"].startswith("1 of the ")
    assert f"refused: {UID(refused).name} in Implicit VR Little Endian" in stmt1["summary"]
    assert stmt2["outcome"] == "warn"
    assert stmt2["summary"] == f"the node accepts 1 SOP class(es) its statement does not claim: {UID(left_out).name}"
    assert run.code == 1


@pytest.mark.skipif(shutil.which("Orthanc") is None, reason="Orthanc is not installed (apt-get install orthanc)")
def test_orthanc_against_a_wrong_statement(tmp_path: Path) -> None:
    _exactly_two_findings("orthanc", tmp_path)


@pytest.mark.skipif(not Path("/usr/bin/storescp").exists(), reason="DCMTK is not installed (apt-get install dcmtk)")
def test_dcmtk_against_a_wrong_statement(tmp_path: Path) -> None:
    _exactly_two_findings("dcmtk", tmp_path)
