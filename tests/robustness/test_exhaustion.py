"""ROBUST-001 against the zoo: passes on the clean zoo, warns where 8 stalled connections hold every worker,
and names the level."""

from __future__ import annotations

from pathlib import Path

import pytest

from dcmconform.run import childrun
from dcmconform.peers.zoo.peer import ZooPeer


@pytest.mark.parametrize(("defects", "outcome", "words"), [
    ([], "pass", "with up to 8 connections stalled"),
    (["workers-held-before-request"], "warn", "with 8 connection(s) stalled"),
])
def test_stalled_headers_lock_out_only_the_defective_zoo(defects: list[str], outcome: str, words: str,
                                                           tmp_path: Path) -> None:
    peer = ZooPeer(defects)
    endpoint = peer.start()
    try:
        run = childrun.run_suite(tmp_path, target=str(endpoint), options=["--timeout", "2", "--check", "ROBUST-001"],
                                 timeout=120)
    finally:
        peer.stop()
    result = run.results["ROBUST-001"]
    assert (result["outcome"], words in result["summary"]) == (outcome, True), result["summary"]


NEW = ["ROBUST-002", "ROBUST-003", "ROBUST-004", "ROBUST-005", "ROBUST-006"]


def _run(defects: list[str], checks: list[str], tmp_path: Path) -> dict[str, dict[str, str]]:
    peer = ZooPeer(defects)
    endpoint = peer.start()
    try:
        options = [arg for c in checks for arg in ("--check", c)]  # the default --timeout 5: a loaded machine
        run = childrun.run_suite(tmp_path, target=str(endpoint), options=options, timeout=120)
    finally:
        peer.stop()
    return run.results


@pytest.mark.slow
def test_clean_zoo_survives_the_exhaustion_and_cve_probes(tmp_path: Path) -> None:
    results = _run([], NEW, tmp_path)
    assert {c: results[c]["outcome"] for c in NEW} == dict.fromkeys(NEW, "pass"), \
        {c: results[c]["summary"] for c in NEW}
    assert "24 accepted" in results["ROBUST-003"]["summary"]


@pytest.mark.slow
@pytest.mark.parametrize(("defect", "check_id", "outcome", "words"), [
    ("one-sender-at-a-time", "ROBUST-002", "warn", "meanwhile a new association got no service"),
    ("die-on-association-burst", "ROBUST-003", "warn", "then stopped serving"),
    ("crash-on-short-command-element", "ROBUST-004", "fail", "0 bytes long"),
    ("crash-on-element-past-end", "ROBUST-005", "fail", "says 4 GB"),
    ("allocate-by-pdu-length", "ROBUST-006", "fail", "announcing 4294967280 bytes"),
])
def test_each_defect_fails_its_check(defect: str, check_id: str, outcome: str, words: str, tmp_path: Path) -> None:
    result = _run([defect], [check_id], tmp_path)[check_id]
    assert (result["outcome"], words in result["summary"]) == (outcome, True), result["summary"]
