"""Real nodes as a user runs them: plain defaults, no restart, default association limits.

DCMTK's ``storescp PORT`` (one association at a time, Nagle on) and pynetdicom's ``storescp`` app
(a default AE: 10 associations) are started by the test, not by our peer launcher, and the suite
runs against them with ``--target``. Every check a full run finds fault with (fail or warn) must
find the same fault run alone against a fresh node: the run's verdicts do not depend on what the
checks before did to the node.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dcmconform.childrun import SuiteRun, run_suite
from dcmconform.peers.base import free_port
from dcmconform.peers.dcmtk import STORESCP
from dcmconform.probe import REFUSED, UNREACHABLE, Probe
from dcmconform.target import Endpoint
from dcmconform.uids import IMPLICIT_LE, VERIFICATION

pytestmark = pytest.mark.slow

NODES = {
    "dcmtk-storescp": lambda port, folder: [STORESCP, "--output-directory", str(folder), str(port)],
    "pynetdicom-storescp": lambda port, folder: [sys.executable, "-m", "pynetdicom", "storescp", str(port),
                                                 "--output-directory", str(folder)],
}


@contextlib.contextmanager
def node(name: str, folder: Path) -> Iterator[str]:
    """The node, started as its README says, ready when it answers an A-ASSOCIATE-RQ; always stopped."""
    if name.startswith("dcmtk") and not Path(STORESCP).exists():
        pytest.skip("DCMTK is not installed (apt-get install dcmtk)")
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    proc = subprocess.Popen(NODES[name](port, folder), cwd=folder, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    endpoint = Endpoint("STORESCP", "127.0.0.1", port)
    try:
        probe = Probe(endpoint, "DCMCONFORM", 1.0)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and proc.poll() is None:
            if probe.associate(probe.request([(1, VERIFICATION, [IMPLICIT_LE])])).kind not in (REFUSED, UNREACHABLE):
                break
            time.sleep(0.1)
        assert proc.poll() is None, f"{name} ended at start"
        yield str(endpoint)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def run(name: str, folder: Path, *options: str) -> SuiteRun:
    with node(name, folder / "node") as target:
        done = run_suite(folder / "run", target=target, options=["--timeout", "3", *options], timeout=600)
    assert done.document is not None, done.error
    return done


@pytest.mark.parametrize("name", sorted(NODES))
def test_every_fault_a_full_run_finds_is_found_by_the_check_alone(name: str, tmp_path: Path) -> None:
    full = run(name, tmp_path / "full")
    outcomes = {r["id"]: r for r in full.document["results"]}
    assert not [i for i, r in outcomes.items() if r["outcome"] in ("error", "not run")], full.document["counts"]
    faults = sorted(i for i, r in outcomes.items() if r["outcome"] in ("fail", "warn"))
    assert faults, "a default node with no finding at all: this test proves nothing"
    differ = {}
    for check_id in faults:
        alone = run(name, tmp_path / check_id, "--check", check_id).results[check_id]
        if alone["outcome"] != outcomes[check_id]["outcome"]:
            differ[check_id] = (outcomes[check_id]["outcome"], outcomes[check_id]["summary"], alone["outcome"],
                                alone["summary"])
    assert differ == {}, differ
