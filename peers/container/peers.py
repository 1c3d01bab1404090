"""The ``NAME:container`` registry entries: each native peer that has an image, with
:class:`ContainerBackend` mixed in, and dcm4che, which runs only as a container."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from dcmconform.peers.base import Launch, ProcessPeer
from dcmconform.peers.container.backend import ContainerBackend
from dcmconform.peers.container.imagechoice import Choice
from dcmconform.target import Endpoint


# dcm4che: only as a container -------------------------------------------------------------------
class Dcm4cheStorescp(ProcessPeer):
    """dcm4che's ``storescp`` (Java), as the public image ``dcm4che/dcm4che-tools`` has it."""

    name = "dcm4che"
    package = None
    program = "/opt/dcm4che/bin/storescp"
    roles = ("scp", "scu")
    notes = "dcm4che-tools storescp: Verification + storage SCP, any called AE title, stores into its folder"

    def default_ae_title(self) -> str:
        return "STORESCP"

    def launch(self, port: int) -> Launch:
        argv = [self.program, "-b", f"{self.ae_title}@127.0.0.1:{port}", "--directory", str(self.storage_dir())]
        return Launch(argv, dict(os.environ), self.workdir)

    def scu_argv(self, target: Endpoint, files: list[Path], calling_aet: str = "") -> list[str] | None:
        return ["/opt/dcm4che/bin/storescu", "-b", calling_aet or self.calling_aet,
                "-c", f"{target.ae_title}@{target.host}:{target.port}", *map(str, files)]


class _Dcm4cheContainer(ContainerBackend, Dcm4cheStorescp):
    def container_argv(self, launch: Launch, choice: Choice) -> tuple[list[str], list[str]]:
        return [launch.argv[0]], launch.argv[1:]  # the same path in the public image and in any override


# Registration -----------------------------------------------------------------------------------
# native registry name -> image key
CONTAINERIZED = {"orthanc": "orthanc", "dcmtk": "dcmtk", "dcmqrscp": "dcmtk", "ctn": "ctn"}


def container_class(native: type[ProcessPeer], native_name: str, image_key: str) -> type[ProcessPeer]:
    """``NAME:container``: the native peer class with the container backend mixed in."""
    return type(f"{native.__name__}Container", (ContainerBackend, native),
                {"native_name": native_name, "image_key": image_key,
                 "__module__": __name__, "__doc__": f"{native.__name__} in a container ({image_key} image)."})


def container_peers(natives: dict[str, Callable[[], ProcessPeer]]) -> dict[str, Callable[[], ProcessPeer]]:
    """The ``NAME:container`` registry entries for the native peers that have an image, and dcm4che."""
    found: dict[str, Callable[[], ProcessPeer]] = {}
    for native_name, key in CONTAINERIZED.items():
        native = natives.get(native_name)
        if isinstance(native, type) and issubclass(native, ProcessPeer):
            found[f"{native_name}:container"] = container_class(native, native_name, key)
    dcm4che = type("Dcm4cheContainer", (_Dcm4cheContainer,),
                   {"native_name": "dcm4che", "image_key": "dcm4che",
                    "__module__": __name__})
    found["dcm4che:container"] = dcm4che
    return found
