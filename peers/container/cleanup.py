"""The labels every dcmconform container carries, and the removal of leftovers: by label (a run's,
an instance's) and the sweep of containers whose owner process is gone (a SIGKILLed run)."""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from pathlib import Path

from dcmconform.peers.container import dockerapi

LABEL_PEER = "dcmconform.peer"
LABEL_RUN = "dcmconform.run"
LABEL_OWNER = "dcmconform.owner"
LABEL_INSTANCE = "dcmconform.instance"
LABEL_NAME = "dcmconform.peer-name"
RUN_ID = uuid.uuid4().hex[:12]


def _start_ticks(pid: int) -> str:
    """The process's start time in clock ticks since boot (tells a reused pid apart), or ''."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


OWNER = f"{socket.gethostname()}:{os.getpid()}:{_start_ticks(os.getpid())}"


def owner_alive(owner: str) -> bool:
    """Whether the process named by a ``dcmconform.owner`` label still runs (other hosts: assumed yes)."""
    host, _, rest = owner.partition(":")
    pid_text, _, ticks = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return True
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not ticks or _start_ticks(pid) == ticks


def labels_for(peer_name: str, instance: str) -> dict[str, str]:
    return {LABEL_PEER: "1", LABEL_RUN: RUN_ID, LABEL_OWNER: OWNER, LABEL_INSTANCE: instance,
            LABEL_NAME: peer_name}


def remove_containers(**labels: str) -> list[str]:
    """Remove (force) every container with all these labels; returns their short IDs."""
    import docker.errors

    filters = {"label": [LABEL_PEER + "=1", *(f"{k}={v}" for k, v in labels.items())]}
    removed = []
    for container in dockerapi.engine().containers.list(all=True, filters=filters):
        with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
            container.remove(force=True)
            removed.append(container.short_id)
    return removed


def sweep_orphans() -> list[str]:
    """Remove the dcmconform containers whose owner process is gone; returns their short IDs."""
    import docker.errors

    removed = []
    for container in dockerapi.engine().containers.list(all=True, filters={"label": LABEL_PEER + "=1"}):
        owner = container.labels.get(LABEL_OWNER)
        if owner and not owner_alive(owner):
            with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
                container.remove(force=True)
                removed.append(container.short_id)
    return removed


_swept = False


def sweep_once() -> None:
    """:func:`sweep_orphans`, the first time a process starts a container."""
    global _swept
    if not _swept:
        _swept = True
        sweep_orphans()


def remove_this_run() -> None:
    """At exit: every container of this process's run (if it ever reached the engine)."""
    if dockerapi.connected():
        with contextlib.suppress(Exception):
            remove_containers(**{LABEL_RUN: RUN_ID})
