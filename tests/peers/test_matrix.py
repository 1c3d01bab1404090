"""``dcmconform matrix``: runs each peer in its own process and writes the checks x peers grid."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from dcmconform.peers.base import ProcessPeer
from dcmconform.peers.registry import make_peer
from dcmconform.reports.matrix import build_matrix, exit_code, peer_entry, render_matrix_html


def _doc(outcomes: dict[str, str]) -> dict:
    return {"target": {"ae_title": "X", "host": "127.0.0.1", "port": 104, "implementation_class_uid": None,
                       "implementation_version_name": "X_1", "peer": "x", "peer_version": "1.0"},
            "calling_ae_title": "DCMCONFORM",
            "results": [{"id": i, "title": f"title {i}", "area": "association", "clause": "PS3.8", "level": "MUST",
                         "role": "scp", "outcome": o, "summary": f"said {o}", "evidence": [{"kind": "dump", "text": "x"}]}
                        for i, o in outcomes.items()]}


def test_the_grid_marks_disagreement_and_unexpected_outcomes() -> None:
    peers = [
        peer_entry("alpha", available=True, document=_doc({"ASSOC-001": "pass", "ASSOC-002": "pass"}),
                   report="alpha/conformance.html",
                   expectations={"ASSOC-001": {"outcome": "pass", "reason": "r"}, "ASSOC-002": {"outcome": "pass", "reason": "r"}}),
        peer_entry("beta", available=True, document=_doc({"ASSOC-001": "pass", "ASSOC-002": "warn"}),
                   report="beta/conformance.html",
                   expectations={"ASSOC-001": {"outcome": "pass", "reason": "r"}, "ASSOC-002": {"outcome": "pass", "reason": "r"}},
                   differences=[{"check": "ASSOC-002", "expected": "pass", "got": "warn", "summary": "said warn",
                                 "reason": "r"}]),
        peer_entry("gamma", available=False, reason="gamma not found: apt-get install gamma"),
    ]
    matrix = build_matrix(peers, 0.0, 1.0, "DCMCONFORM")
    assert matrix["grid"] == {"ASSOC-001": {"alpha": "pass", "beta": "pass"},
                              "ASSOC-002": {"alpha": "pass", "beta": "warn"}}
    assert [c["id"] for c in matrix["checks"]] == ["ASSOC-001", "ASSOC-002"]
    assert all("evidence" not in r for p in matrix["peers"] for r in p["results"])
    assert exit_code(matrix) == 1
    html = render_matrix_html(json.loads(json.dumps(matrix)))
    assert "gamma not found: apt-get install gamma" in html
    assert 'data-disagree="yes"' in html and 'data-disagree="no"' in html
    assert "expected pass" in html and "Differences from the expectations (1)" in html
    assert 'href="beta/conformance.html"' in html
    assert 'href="beta/conformance.html#ASSOC-002"' in html  # a cell opens that check in the peer's report


@pytest.mark.slow  # runs peers in child processes
def test_matrix_command_writes_the_grid(tmp_path: Path, usable: Callable[[str], ProcessPeer]) -> None:
    usable("dcm4che")  # the dcm4che column: required in CI (DCMCONFORM_REQUIRE_CONTAINERS)
    names = [n for n in ("dcmtk", "pynetdicom") if make_peer(n).available() is None] + ["dcm4che"]
    if len(names) < 3:
        pytest.skip("needs dcmtk (apt-get install dcmtk)")
    # A column that cannot run: dcmtk:container with an image that exists nowhere and pulling off
    # (or no engine at all): its reason is in the grid, and the other columns run.
    env = os.environ | {"DCMCONFORM_IMAGES": "dcmtk=dcmconform/no-such-image:3", "DCMCONFORM_PULL": "never"}
    done = subprocess.run([sys.executable, "-m", "dcmconform", "matrix", "--peers", ",".join(names) + ",dcmtk:container",
                           "--report-dir", str(tmp_path), "--check", "DIMSE-001"],
                          capture_output=True, text=True, timeout=300, check=False, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    matrix = json.loads((tmp_path / "matrix.json").read_text())
    assert matrix["schema"] == "dcmconform-matrix/1"
    assert [p["name"] for p in matrix["peers"]] == [*names, "dcmtk:container"]
    assert matrix["grid"]["DIMSE-001"] == dict.fromkeys(names, "pass")
    missing = matrix["peers"][-1]
    assert not missing["available"] and missing["reason"]
    for name in names:
        assert (tmp_path / name / "conformance.json").exists()
    html = (tmp_path / "matrix.html").read_text()
    assert "DIMSE-001" in html and "cannot run here" in html and "dcm4che" in html
    assert "DIMSE-001    pass" in done.stdout
