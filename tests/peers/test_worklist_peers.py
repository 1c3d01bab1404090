"""The worklist reference peers (Orthanc's ModalityWorklists plugin, DCMTK's wlmscpfs) earn exactly the
worklist verdicts their expectations files record, and leave nothing behind.

Only the worklist checks run (DIMSE-022, QUERY-080..085): these peers serve nothing else, so they are
not in the whole-suite runs of tests/conftest.py (``suite_runs``); each run here takes seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from dcmconform.peers import expected
from dcmconform.peers.base import ProcessPeer
from dcmconform.peers.registry import WORKLIST_PEERS
from dcmconform.run.childrun import run_suite

WORKLIST_CHECKS = ("DIMSE-022", "QUERY-080", "QUERY-081", "QUERY-082", "QUERY-083", "QUERY-084", "QUERY-085")
RUN_TIMEOUT = 180.0


@pytest.mark.slow  # a native peer and a `dcmconform run` child over seven checks: seconds
@pytest.mark.parametrize("name", list(WORKLIST_PEERS))
def test_worklist_peer_earns_its_expected_worklist_verdicts(name: str, usable: Callable[[str], ProcessPeer],
                                                           processes: Callable[[str], list[tuple[int, str]]],
                                                           tmp_path: Path) -> None:
    peer = usable(name)
    peer.workdir = tmp_path / "peer"
    peer.workdir.mkdir()
    expectations = expected.load(name)
    assert expectations is not None, f"no {expected.path_for(name)}"
    try:
        endpoint = peer.start()
        wl_files = sorted(p.name for p in peer.workdir.rglob("*.wl"))
        assert wl_files == ["step-1.wl", "step-2.wl"], wl_files  # the zoo's two scheduled steps
        options = ["--timeout", "5", *(arg for c in WORKLIST_CHECKS for arg in ("--check", c))]
        run = run_suite(tmp_path / "run", target=f"{endpoint.ae_title}@{endpoint.host}:{endpoint.port}",
                        options=options, timeout=RUN_TIMEOUT)
    finally:
        peer.stop()
    assert run.document is not None, f"{name}: the run broke: {run.error}"
    results = run.document["results"]
    assert sorted(r["id"] for r in results) == sorted(WORKLIST_CHECKS)
    # a worklist was served: no check is n.a. (an empty worklist or a refused query would make them so)
    assert [r["id"] for r in results if r["outcome"] in ("n.a.", "error")] == [], \
        [(r["id"], r["summary"]) for r in results]
    differences = expected.compare(results, expectations, complete=False)
    assert not differences, f"{name} differs from {expected.path_for(name)}:\n" + "\n".join(d.row() for d in differences)
    # stopped, nothing left behind: no process naming its folder (wlmscpfs forks a child per association)
    assert not peer.workdir.exists()
    assert processes(str(peer.workdir)) == []
