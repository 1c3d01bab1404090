"""The fuzz phases as checks of ``run`` (ROBUST-007..009): left out of a default run, held with
--fuzz-budget / --only robustness / --check; a finding is a fail whose reproducer lands in the report
directory and replays."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dcmconform.cli import main
from dcmconform.fuzzing import OPT_IN, PHASE_CHECKS, opted_in
from dcmconform.fuzzing.inputs import PHASES
from dcmconform.peers.zoo.peer import ZooPeer
from dcmconform.run import childrun


def test_the_fuzz_checks_are_opt_in() -> None:
    assert set(PHASE_CHECKS) == set(PHASES)
    for check_id in OPT_IN:
        assert not opted_in(check_id, None, (), ())
        assert not opted_in(check_id, None, ("association",), ("ASSOC-001",))
        assert opted_in(check_id, 30.0, (), ())
        assert opted_in(check_id, None, ("robustness",), ())
        assert opted_in(check_id, None, (), (check_id,))
    assert opted_in("ROBUST-001", None, (), ())  # the bounded exhaustion checks are in the default run


@pytest.mark.slow
def test_a_planted_crash_is_a_fail_with_a_reproducer_in_the_report_dir(tmp_path: Path) -> None:
    peer = ZooPeer(["crash-on-empty-extended-negotiation"])  # under its supervisor: it comes back
    endpoint = peer.start()
    try:
        run = childrun.run_suite(tmp_path, target=str(endpoint), timeout=120,
                                 options=["--timeout", "1", "--only", "robustness", "--fuzz-budget", "30",
                                          "--check", "ROBUST-007", "--check", "ROBUST-009"])
        result = run.results["ROBUST-007"]
        assert result["outcome"] == "fail", result["summary"]
        assert "dcmconform replay" in result["summary"] and "A-ASSOCIATE-RQ" in result["summary"]
        # The protocol phase sends A-ASSOCIATE-RQs too: at loopback speed it may reach the same planted bug within
        # its share of the budget (then it is the same crash, an A-ASSOCIATE-RQ), or find nothing.
        protocol = run.results["ROBUST-009"]
        assert protocol["outcome"] == "pass" or (protocol["outcome"] == "fail" and "A-ASSOCIATE-RQ" in protocol["summary"]
                                                 and "crashed" in protocol["summary"]), protocol["summary"]
        note = tmp_path / "fuzz" / "findings" / "associate.json"
        assert (note.with_suffix(".hex")).exists() and json.loads(note.read_text())["symptom"] == "crash"
        assert (tmp_path / "fuzz" / "hypothesis").is_dir()
        texts = [e["text"] for e in result["evidence"]]
        assert any("replay:" in t for t in texts), texts
        assert main(["replay", str(note), "--target", str(endpoint), "--timeout", "1"]) == 1
    finally:
        peer.stop()
