"""A peer earns the same verdicts whatever its backend.

The whole suite runs against each peer natively and in its container, each run in its own
``dcmconform run --peer`` process (``suite_runs`` in tests/conftest.py: the same runs the
expectations test reads). The two runs must agree check
by check, and both must match the peer's one expectations file (``peers/expectations/<peer>.yaml``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from dcmconform.peers import expected
from dcmconform.peers.base import ProcessPeer

if TYPE_CHECKING:
    from conftest import SuiteRuns

pytestmark = pytest.mark.slow  # whole-suite runs, native and in a container

PEERS = ["orthanc", "dcmtk", "ctn", "dcm4che", "dcm4che-qr"]


def outcomes(document: dict[str, Any]) -> dict[str, str]:
    return {r["id"]: r["outcome"] for r in document["results"]}


def run_suite(name: str, suite_runs: SuiteRuns) -> dict[str, Any]:
    document, error = suite_runs.result(name)
    assert document is not None, f"{name}: the run broke: {error}"
    assert document["target"]["peer"] == name
    errors = [f"{r['id']}: {r['summary']}" for r in document["results"] if r["outcome"] == "error"]
    assert not errors, f"{name}: the suite broke on {errors}"
    return document


@pytest.mark.peer_runs("{name}", "{name}:container")
@pytest.mark.parametrize("name", PEERS)
def test_native_and_container_earn_the_same_verdicts(name: str, suite_runs: SuiteRuns,
                                                     usable: Callable[[str], ProcessPeer]) -> None:
    usable(f"{name}:container")
    usable(name)
    expectations = expected.load(name)
    assert expectations is not None, f"no {expected.path_for(name)}"
    container = run_suite(f"{name}:container", suite_runs)
    assert container["target"]["peer_backend"] == "container"
    native = run_suite(name, suite_runs)
    assert native["target"]["peer_backend"] == "native"
    got_native, got_container = outcomes(native), outcomes(container)
    assert got_native, "no check ran"
    disagree = {c: (got_native.get(c), got_container.get(c)) for c in sorted(set(got_native) | set(got_container))
                if got_native.get(c) != got_container.get(c)}
    assert not disagree, f"{name}: native and container differ (native, container): {disagree}"
    for label, document in (("container", container), ("native", native)):
        differences = expected.compare(document["results"], expectations)
        assert not differences, (f"{name} ({label}) differs from {expected.path_for(name)}:\n"
                                 + "\n".join(d.row() for d in differences))
