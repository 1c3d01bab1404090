"""Every reference peer by name, and whether it can run here."""

from __future__ import annotations

from collections.abc import Callable

from dcmconform.peers.base import ProcessPeer
from dcmconform.peers.pynetdicom_scp import PynetdicomPeer

PEERS: dict[str, Callable[[], ProcessPeer]] = {
    "pynetdicom": PynetdicomPeer,
}


class UnknownPeer(KeyError):
    def __str__(self) -> str:
        return f"unknown peer {self.args[0]!r}; known peers: {', '.join(sorted(PEERS))}"


def make_peer(name: str) -> ProcessPeer:
    try:
        factory = PEERS[name]
    except KeyError:
        raise UnknownPeer(name) from None
    return factory()
