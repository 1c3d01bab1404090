"""The container backend: a reference peer in a throwaway container (``--peer orthanc:container``).

A container peer is its native peer run inside a container: the same command line, the same
generated configuration files in the same folder (bind-mounted at the same path), host networking
(``network="host"``) on a free loopback port, the same readiness check (a C-ECHO), and what it
received read the same way (Orthanc's REST API on its loopback HTTP port, or the mounted folder).
So the expectations file of a peer holds whatever its backend.

Images, for each peer, in this order (:mod:`.imagechoice`):

1. an override: ``--image PEER=REF`` (``dcmconform run``), the environment variable
   ``DCMCONFORM_IMAGES="orthanc=REF,dcmtk=REF"``, or the YAML file named by
   ``DCMCONFORM_IMAGES_FILE`` (default ``./dcmconform-images.yaml``): ``{orthanc: REF, pull: never}``;
2. the local image ``dcmconform/<peer>:local`` built by ``scripts/build-images.sh`` from
   ``peers/images/<peer>/`` (the Debian package of the native peer on a debootstrapped base);
3. the public image (``orthancteam/orthanc``, then ``jodogne/orthanc``; ``dcm4che/dcm4che-tools``),
   pulled on first use unless pulling is off: ``DCMCONFORM_PULL=never``, ``pull: never`` in the
   file, or an engine labelled ``dcmconform.pull=never`` (``scripts/docker-engine.sh start --no-pull``).
   With a public image the program runs by its name on the image's PATH, not by the Debian path.

Clean-up (:mod:`.cleanup`): every container carries the labels ``dcmconform.peer=1``,
``dcmconform.run`` (this process's run id) and ``dcmconform.owner`` (host, pid and start time of the
process that made it). A peer's ``stop()`` removes its container (also after a failed start or an
interrupt); at exit this process removes every container of its run; the first start in a process
removes the containers whose owner process is gone (a SIGKILLed run); ``scripts/docker-engine.sh
stop`` removes them all. testcontainers' reaper (Ryuk) is not used: its image cannot be pulled
everywhere and it reaches its container over a bridge network, which the engine of
docker-engine.sh does not have.

Modules: :mod:`.dockerapi` (the engine: client, look-ups, pulls), :mod:`.imagechoice`,
:mod:`.cleanup` (labels, sweeps), :mod:`.backend` (the container peer: start, readiness, stop,
logs), :mod:`.peers` (the registry entries, dcm4che).
"""

from __future__ import annotations

from dcmconform.peers.container.backend import ContainerBackend, ContainerProcess
from dcmconform.peers.container.cleanup import (
    LABEL_INSTANCE,
    LABEL_NAME,
    LABEL_OWNER,
    LABEL_PEER,
    LABEL_RUN,
    OWNER,
    RUN_ID,
    owner_alive,
    remove_containers,
    sweep_orphans,
)
from dcmconform.peers.container.dockerapi import engine, engine_problem
from dcmconform.peers.container.imagechoice import Choice, choose_image
from dcmconform.peers.container.peers import container_class, container_peers

__all__ = [
    "LABEL_INSTANCE", "LABEL_NAME", "LABEL_OWNER", "LABEL_PEER", "LABEL_RUN", "OWNER", "RUN_ID", "Choice",
    "ContainerBackend", "ContainerProcess", "choose_image", "container_class", "container_peers", "engine",
    "engine_problem", "owner_alive", "remove_containers", "sweep_orphans",
]
