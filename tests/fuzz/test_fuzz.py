"""``dcmconform fuzz`` finds each planted zoo bug, shrinks it, and ``replay`` confirms it; against the
clean zoo it finds nothing, within its budget; Ctrl-C still leaves a report.

The zoo is unmanaged here (started by the test, given as ``--target``): the planted bugs run under the
zoo's supervisor (peers/zoo/planted.py), which brings the node back, as a service manager would.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dcmconform.cli import main
from dcmconform.fuzzing.engine import CRASH, HANG, STOPPED, Target
from dcmconform.fuzzing.inputs import MAX_CONNECTIONS, MAX_PAYLOAD, PHASES, Case, cases
from dcmconform.fuzzing.report import read_replay
from dcmconform.net.target import DEFAULT_CALLING_AET, Endpoint
from dcmconform.peers.zoo import planted
from dcmconform.peers.zoo.config import ZooConfig
from dcmconform.peers.zoo.peer import ZooPeer
from dcmconform.wire import pdus as pd

FAST = ["--timeout", "1", "--input-wait", "0.2", "--recover-wait", "10"]


@pytest.fixture
def zoo(request: pytest.FixtureRequest) -> Iterator[Endpoint]:
    peer = ZooPeer(list(getattr(request, "param", [])))
    try:
        yield peer.start()
    finally:
        peer.stop()


def fuzz(endpoint: Endpoint, report: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    code = main(["fuzz", "--target", str(endpoint), "--seed", "0", "--report-dir", str(report), *FAST, *extra])
    return code, json.loads((report / "fuzz.json").read_text())


def serving(endpoint: Endpoint) -> None:
    assert Target(endpoint, DEFAULT_CALLING_AET, 1.0).recover(10), "the zoo did not come back"


def _pdu(case: Case) -> bytes:
    """The first PDU of the input, as the node frames it: by its length field."""
    return case.payload[: pd.PDU_HEADER + pd.header(case.payload)[1]]


def _truncated(case: Case) -> bool:
    return len(case.payload) < pd.PDU_HEADER or len(_pdu(case)) < pd.PDU_HEADER + pd.header(case.payload)[1]


def _crash_shape(case: Case) -> bool:
    rq = pd.decode_pdu(case.payload)
    return isinstance(rq, pd.AAssociateRQ) and planted.crashes_on(rq)


PLANTED = [
    # defect, phase, symptom, what the shrunk input must be
    pytest.param(["crash-on-empty-extended-negotiation"], "associate", CRASH,
                 lambda c: _crash_shape(c) and len(c.payload) <= 200, id="crash"),
    pytest.param(["hang-on-pdv-length-overrun"], "pdata", HANG,
                 lambda c: planted.overruns(_pdu(c)) and len(c.payload) <= 100, id="hang"),
    pytest.param(["leak-on-truncated-pdu"], "protocol", STOPPED,
                 lambda c: c.connections == planted.LEAK_LIMIT and _truncated(c), id="leak"),
    # Only one value of the PDU length does it (the zoo's maximum length received): a boundary value.
    pytest.param([planted.AT_MAX], "pdata", CRASH,
                 lambda c: pd.header(c.payload)[1] == ZooConfig().max_length and len(c.payload) <= 100, id="boundary"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("zoo", "phase", "symptom", "minimal"), PLANTED, indirect=["zoo"])
def test_fuzz_finds_shrinks_and_replays_each_planted_bug(zoo: Endpoint, phase: str, symptom: str, minimal: Any,
                                                         tmp_path: Path) -> None:
    started = time.monotonic()
    code, doc = fuzz(zoo, tmp_path, "--budget", "60", "--only", phase)
    assert time.monotonic() - started < 60 + 30
    assert code == 1
    [finding] = doc["findings"]
    assert (finding["phase"], finding["symptom"], finding["confirmed"]) == (phase, symptom, True)
    note = Path(finding["replay_file"])
    case, _ = read_replay(note)
    assert case.payload.hex() == finding["hex"]
    assert minimal(case), f"not shrunk: {finding['dump']} on {case.connections} connection(s)"
    assert finding["command"] == f"dcmconform replay {note} --target {zoo}"

    serving(zoo)
    assert main(["replay", str(note), "--target", str(zoo), *FAST[:4]]) == 1
    serving(zoo)
    assert main(["replay", str(note.with_suffix(".hex")), "--target", str(zoo), *FAST[:4]]) == 1  # its note beside it


@pytest.mark.slow
def test_the_clean_zoo_gives_no_finding_within_the_budget(zoo: Endpoint, tmp_path: Path) -> None:
    started = time.monotonic()
    code, doc = fuzz(zoo, tmp_path, "--budget", "12")
    assert time.monotonic() - started < 12 + 30
    assert code == 0 and doc["findings"] == []
    assert [p["phase"] for p in doc["phases"]] == list(PHASES)
    assert all(p["inputs"] > 0 for p in doc["phases"]), doc["phases"]
    assert not (tmp_path / "findings").exists()


@pytest.mark.parametrize("zoo", [[]], indirect=True)
def test_replay_says_the_node_survives_and_refuses_a_bad_file(zoo: Endpoint, tmp_path: Path) -> None:
    hex_file = tmp_path / "input.hex"
    hex_file.write_text(pd.AReleaseRQ().encode().hex() + "\n")
    assert main(["replay", str(hex_file), "--target", str(zoo), "--timeout", "1"]) == 0
    (tmp_path / "empty.hex").write_text("\n")
    assert main(["replay", str(tmp_path / "empty.hex"), "--target", str(zoo)]) == 2
    (tmp_path / "bad.json").write_text(json.dumps({"prelude": "sideways", "hex": "00"}))
    assert main(["replay", str(tmp_path / "bad.json"), "--target", str(zoo)]) == 2


def test_ctrl_c_leaves_a_report(zoo: Endpoint, tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "dcmconform", "fuzz", "--target", str(zoo), "--budget", "60",
                             "--report-dir", str(tmp_path), *FAST], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert "phase associate" in proc.stdout.readline() + proc.stdout.readline()
        time.sleep(1.5)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 130
    finally:
        proc.kill()
    doc = json.loads((tmp_path / "fuzz.json").read_text())
    assert doc["interrupted"] is True and doc["phases"][0]["inputs"] > 0


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(PHASES).flatmap(lambda phase: cases(phase, "ZOO", DEFAULT_CALLING_AET)))
def test_every_input_is_bounded_and_replayable(case: Case) -> None:
    assert len(case.payload) <= MAX_PAYLOAD and 1 <= case.connections <= MAX_CONNECTIONS
    assert Case.from_json(json.loads(json.dumps(case.as_json())), case.payload) == case
