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
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from dcmconform.base.uids import IMPLICIT_LE, VERIFICATION
from dcmconform.net.probe import REFUSED, UNREACHABLE, Probe
from dcmconform.net.target import Endpoint
from dcmconform.peers.base import free_port
from dcmconform.peers.dcmtk import STORESCP
from dcmconform.run.childrun import SuiteRun, parallel, run_suite

if TYPE_CHECKING:
    from conftest import SuiteRuns

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


def run(name: str, folder: Path, *options: str, cancel: threading.Event | None = None) -> SuiteRun:
    with node(name, folder / "node") as target:
        done = run_suite(folder / "run", target=target, options=["--timeout", "3", *options], timeout=600,
                         cancel=cancel)
    assert done.document is not None, done.error
    return done


# The full run against each node (each on a free port of its own) goes on in the background with the other
# long runs (suite_runs in tests/conftest.py); the runs of each check alone are the test's own.
SHARED_RUNS = {f"unmanaged {name}": lambda folder, cancel, name=name: run(name, folder, cancel=cancel) for name in NODES}


@pytest.mark.peer_runs("unmanaged {name}")
@pytest.mark.parametrize("name", sorted(NODES))
def test_every_fault_a_full_run_finds_is_found_by_the_check_alone(name: str, tmp_path: Path,
                                                                  suite_runs: SuiteRuns) -> None:
    full = suite_runs.shared(f"unmanaged {name}")  # skips when DCMTK is not installed (node())
    outcomes = {r["id"]: r for r in full.document["results"]}
    assert not [i for i, r in outcomes.items() if r["outcome"] in ("error", "not run")], full.document["counts"]
    faults = sorted(i for i, r in outcomes.items() if r["outcome"] in ("fail", "warn"))
    assert faults, "a default node with no finding at all: this test proves nothing"
    # each check alone against a fresh node, two at a time
    alone = parallel(faults, lambda check_id, cancel: run(name, tmp_path / check_id, "--check", check_id,
                                                          cancel=cancel).results[check_id], 2)
    differ = {}
    for check_id in faults:
        if alone[check_id]["outcome"] != outcomes[check_id]["outcome"]:
            differ[check_id] = (outcomes[check_id]["outcome"], outcomes[check_id]["summary"], alone[check_id]["outcome"],
                                alone[check_id]["summary"])
    assert differ == {}, differ
