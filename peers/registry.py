"""Every reference peer by name, and whether it can run here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dcmconform.peers.base import ProcessPeer
from dcmconform.peers.container import container_peers
from dcmconform.peers.ctn import CtnImageServerPeer, CtnPeer
from dcmconform.peers.dcm4che import Dcm4chePeer, Dcm4cheQrPeer
from dcmconform.peers.dcmtk import DcmqrscpPeer, StorescpPeer
from dcmconform.peers.orthanc import OrthancPeer
from dcmconform.peers.pixelmed import PixelmedPeer
from dcmconform.peers.pynetdicom_scp import PynetdicomPeer
from dcmconform.peers.worklist import OrthancWorklistPeer, WlmscpfsPeer

PEERS: dict[str, Callable[[], ProcessPeer]] = {
    "pynetdicom": PynetdicomPeer,
    "orthanc": OrthancPeer,
    "dcmtk": StorescpPeer,
    "dcmqrscp": DcmqrscpPeer,
    "ctn": CtnPeer,
    "pixelmed": PixelmedPeer,
    "ctn-image-server": CtnImageServerPeer,
    "dcm4che": Dcm4chePeer,
    "dcm4che-qr": Dcm4cheQrPeer,
}
PEERS.update(container_peers(PEERS))  # NAME:container: the native peer in a container (peers/container/)
# Worklist-only peers: run with `--only` the worklist checks (tests/query/test_worklist_peers.py), never
# in the whole-suite runs every other peer gets (test_expectations.py leaves them out).
WORKLIST_PEERS: dict[str, Callable[[], ProcessPeer]] = {
    "orthanc-worklist": OrthancWorklistPeer,
    "wlmscpfs": WlmscpfsPeer,
}
# The peers every whole-suite run, matrix and whole-catalogue test covers: all but the worklist-only ones.
WHOLE_SUITE_PEERS = [name for name in PEERS if name not in WORKLIST_PEERS]
PEERS.update(WORKLIST_PEERS)


class UnknownPeer(KeyError):
    def __str__(self) -> str:
        return f"unknown peer {self.args[0]!r}; known peers: {', '.join(sorted(PEERS))}"


def make_peer(name: str) -> ProcessPeer:
    try:
        factory = PEERS[name]
    except KeyError:
        raise UnknownPeer(name) from None
    return factory()


def describe_all() -> list[dict[str, Any]]:
    """Every registered peer as ``ProcessPeer.describe()`` says it, in registry order."""
    return [make_peer(name).describe() | {"name": name} for name in PEERS]


def available_peers() -> list[str]:
    """The names of the whole-suite peers that can run on this machine: the worklist peers are measured on the
    worklist checks only (their expectations hold nothing else), so a matrix names them explicitly."""
    return [name for name in WHOLE_SUITE_PEERS if make_peer(name).available() is None]
