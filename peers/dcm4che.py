"""dcm4che: listed, not runnable here yet.

No package registry this project can use carries it: it is neither a Debian package nor on PyPI
(its tools are Java archives distributed from its own Maven repository and as container images).
The container backend runs it as ``dcm4che:container`` (peers/container/).
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
                "run it with the container backend: dcm4che:container")

    def launch(self, port: int) -> Launch:  # pragma: no cover - available() always refuses
        raise NotImplementedError(self.available())
