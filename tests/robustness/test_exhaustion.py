"""ROBUST-001 against the zoo: passes on the clean zoo, warns where 8 stalled connections hold every worker,
and names the level."""

from __future__ import annotations

from pathlib import Path

import pytest

from dcmconform import childrun
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
