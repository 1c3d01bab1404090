"""Fixtures for the container backend tests.

A container peer that cannot run here (no engine, no image) skips with the reason, unless
``DCMCONFORM_REQUIRE_CONTAINERS`` names it: then it fails (``usable`` in tests/conftest.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from dcmconform.peers.base import ProcessPeer


@pytest.fixture
def container_peer(usable: Callable[[str], ProcessPeer]) -> Iterator[Callable[[str], ProcessPeer]]:
    """``container_peer("dcmtk:container")``: a started peer, stopped after the test."""
    started: list[ProcessPeer] = []

    def start(name: str) -> ProcessPeer:
        peer = usable(name)
        started.append(peer)
        peer.start()
        return peer

    yield start
    for peer in started:
        peer.stop()


def list_containers(owner_pid: int | None = None) -> list[dict[str, str]]:
    """The dcmconform containers on the engine (of the process ``owner_pid``, when given): their labels + id."""
    from dcmconform.peers.container import LABEL_OWNER, LABEL_PEER, engine

    found = []
    for container in engine().containers.list(all=True, filters={"label": f"{LABEL_PEER}=1"}):
        owner = container.labels.get(LABEL_OWNER, "")
        if owner_pid is None or owner.split(":")[1:2] == [str(owner_pid)]:
            found.append({**container.labels, "id": container.short_id, "status": container.status})
    return found


@pytest.fixture
def containers_of() -> Callable[..., list[dict[str, str]]]:
    """``containers_of(pid)``: the dcmconform containers a process owns (all of them without pid)."""
    return list_containers
