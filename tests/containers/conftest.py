"""Fixtures for the container backend tests.

A container peer that cannot run here (no engine, no image) skips with the reason, unless
``DCMCONFORM_REQUIRE_CONTAINERS`` names it (``.ci/run`` sets ``orthanc,dcmtk``): then it fails,
so that a CI run where the engine or the images went missing is red, not quietly skipped.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from dcmconform.peers.base import ProcessPeer
from dcmconform.peers.registry import make_peer


def required() -> set[str]:
    """The peers (``orthanc`` or ``orthanc:container``) that must run here."""
    return {n.strip() for n in os.environ.get("DCMCONFORM_REQUIRE_CONTAINERS", "").split(",") if n.strip()}


def usable_peer(name: str) -> ProcessPeer:
    """``make_peer(name)``, or skip (fail when required) with the reason it cannot run."""
    peer = make_peer(name)
    reason = peer.available()
    if reason:
        base = name.split(":")[0]
        if base in required() or name in required():
            pytest.fail(f"{name} is required here (DCMCONFORM_REQUIRE_CONTAINERS) but cannot run: {reason}")
        pytest.skip(f"{name} cannot run here: {reason}")
    return peer


@pytest.fixture
def container_peer() -> Iterator[Callable[[str], ProcessPeer]]:
    """``container_peer("dcmtk:container")``: a started peer, stopped after the test."""
    started: list[ProcessPeer] = []

    def start(name: str) -> ProcessPeer:
        peer = usable_peer(name)
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
def usable() -> Callable[[str], ProcessPeer]:
    """``usable(name)``: the peer, not started; skips (or fails when required) when it cannot run."""
    return usable_peer


@pytest.fixture
def containers_of() -> Callable[..., list[dict[str, str]]]:
    """``containers_of(pid)``: the dcmconform containers a process owns (all of them without pid)."""
    return list_containers
