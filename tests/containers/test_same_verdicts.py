"""A peer earns the same verdicts whatever its backend.

The whole suite runs against each peer natively and in its container, each run in its own
``dcmconform run --peer`` process (the matrix command's ``run_one``). The two runs must agree check
by check, and both must match the peer's one expectations file (``peers/expectations/<peer>.yaml``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dcmconform.commands.matrix import run_one
from dcmconform.peers import expected
from dcmconform.peers.base import ProcessPeer

PEERS = ["orthanc", "dcmtk", "ctn"]


def outcomes(document: dict[str, Any]) -> dict[str, str]:
    return {r["id"]: r["outcome"] for r in document["results"]}


def run_suite(name: str, folder: Path) -> dict[str, Any]:
    document, error = run_one(name, folder, ["--timeout", "5"], timeout=900)
    assert document is not None, f"{name}: the run broke: {error}"
    assert document["target"]["peer"] == name
    errors = [f"{r['id']}: {r['summary']}" for r in document["results"] if r["outcome"] == "error"]
    assert not errors, f"{name}: the suite broke on {errors}"
    return document


@pytest.mark.parametrize("name", PEERS)
def test_native_and_container_earn_the_same_verdicts(name: str, tmp_path: Path,
                                                     usable: Callable[[str], ProcessPeer]) -> None:
    usable(f"{name}:container")
    usable(name)
    expectations = expected.load(name)
    assert expectations is not None, f"no {expected.path_for(name)}"
    container = run_suite(f"{name}:container", tmp_path / "container")
    assert container["target"]["peer_backend"] == "container"
    native = run_suite(name, tmp_path / "native")
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
