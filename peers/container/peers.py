"""The ``NAME:container`` registry entries: each native peer that has an image, with
:class:`ContainerBackend` mixed in (dcm4che's with :class:`Dcm4cheInImage`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from dcmconform.peers.base import Launch, ProcessPeer
from dcmconform.peers.container.backend import ContainerBackend
from dcmconform.peers.container.imagechoice import Choice
from dcmconform.peers.images.dcm4che_dist import IMAGE_HOME


class Dcm4cheInImage(ContainerBackend):
    """dcm4che's tools run from ``/opt/dcm4che/bin``, where the local image (peers/images/dcm4che/)
    and the public image ``dcm4che/dcm4che-tools`` both have them; the native peer's distribution
    may be anywhere."""

    def container_argv(self, launch: Launch, choice: Choice) -> tuple[list[str], list[str]]:
        return [f"{IMAGE_HOME}/bin/{Path(launch.argv[0]).name}"], launch.argv[1:]


# Registration -----------------------------------------------------------------------------------
# native registry name -> image key
CONTAINERIZED = {"orthanc": "orthanc", "dcmtk": "dcmtk", "dcmqrscp": "dcmtk", "ctn": "ctn",
                 "dcm4che": "dcm4che", "dcm4che-qr": "dcm4che"}
BACKENDS: dict[str, type[ContainerBackend]] = {"dcm4che": Dcm4cheInImage}  # image key -> backend, when not the plain one


def container_class(native: type[ProcessPeer], native_name: str, image_key: str) -> type[ProcessPeer]:
    """``NAME:container``: the native peer class with the container backend mixed in."""
    return type(f"{native.__name__}Container", (BACKENDS.get(image_key, ContainerBackend), native),
                {"native_name": native_name, "image_key": image_key,
                 "__module__": __name__, "__doc__": f"{native.__name__} in a container ({image_key} image)."})


def container_peers(natives: dict[str, Callable[[], ProcessPeer]]) -> dict[str, Callable[[], ProcessPeer]]:
    """The ``NAME:container`` registry entries for the native peers that have an image."""
    found: dict[str, Callable[[], ProcessPeer]] = {}
    for native_name, key in CONTAINERIZED.items():
        native = natives.get(native_name)
        if isinstance(native, type) and issubclass(native, ProcessPeer):
            found[f"{native_name}:container"] = container_class(native, native_name, key)
    return found
