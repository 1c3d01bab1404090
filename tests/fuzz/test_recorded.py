"""The fuzz findings recorded in peers/expectations (a ``fuzz:`` section per peer): each names a
reproducer that exists and reads, the phase's check (ROBUST-007..009) expects a fail there, and the
CTN crash replays as recorded (a few seconds: one start of simple_storage, one input)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dcmconform.cli import main
from dcmconform.fuzzing import PHASE_CHECKS
from dcmconform.fuzzing.report import read_replay
from dcmconform.peers import expected
from dcmconform.peers.base import ProcessPeer
from dcmconform.peers.registry import PEERS

NATIVE = ["pynetdicom", "orthanc", "dcmtk", "dcmqrscp", "ctn", "pixelmed", "dcm4che", "dcm4che-qr"]


@pytest.mark.parametrize("peer", NATIVE)
def test_each_peer_records_its_fuzz_findings_with_a_reproducer(peer: str) -> None:
    assert peer in PEERS
    text = expected.path_for(peer).read_text()
    assert "\nfuzz:" in text, f"{peer}: no fuzz: section (write `fuzz: {{}}` when the fuzzer found nothing)"
    rows = expected.load(peer)
    assert rows is not None
    for phase, finding in expected.fuzz_findings(peer).items():
        case, note = read_replay(expected.FUZZ_DIR / finding.replay)
        assert (case.phase, note["symptom"]) == (phase, finding.symptom)
        assert rows[PHASE_CHECKS[phase]].outcome == "fail", f"{peer}: {PHASE_CHECKS[phase]} should expect the finding"


def test_ctn_crash_replays_as_recorded(usable: Callable[[str], ProcessPeer], capsys: pytest.CaptureFixture[str]) -> None:
    usable("ctn")
    finding = expected.fuzz_findings("ctn")["associate"]
    code = main(["replay", str(expected.FUZZ_DIR / finding.replay), "--peer", "ctn", "--timeout", "2"])
    out = capsys.readouterr().out
    assert code == 1, out
    assert "STILL FAILS: crash" in out and "SIGSEGV" in out, out
