"""dcm4che: listed, not runnable here yet.

No package registry this project can use carries it: it is neither a Debian package nor on PyPI
(its tools are Java archives distributed from its own Maven repository and as container images).
The container backend (peers/images/) brings it later.
"""

from __future__ import annotations

from dcmconform.peers.base import Launch, ProcessPeer


class Dcm4chePeer(ProcessPeer):
    name = "dcm4che"
    backend = "container"
    program = "storescp (dcm4che-tool-storescp)"
    notes = "Java toolkit; comes with the container backend"

    def available(self) -> str | None:
        return ("not packaged for Debian or PyPI (the registries reachable here); "
                "the container backend will bring it (peers/images/dcm4che)")

    def launch(self, port: int) -> Launch:  # pragma: no cover - available() always refuses
        raise NotImplementedError(self.available())
