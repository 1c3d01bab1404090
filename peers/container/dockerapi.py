"""The Docker engine: one docker SDK client for this process, whether a local engine answers, and
image look-ups and pulls. Every request has a deadline (``ENGINE_TIMEOUT``, ``PULL_TIMEOUT``)."""

from __future__ import annotations

import os
import threading
from typing import Any

from dcmconform.peers.base import PeerUnavailable

ENGINE_TIMEOUT = 10.0  # seconds for one request to the engine
PULL_TIMEOUT = 900.0

_client: Any = None
_client_lock = threading.Lock()


def engine() -> Any:
    """A docker SDK client for the engine (``DOCKER_HOST`` or the local socket); raises on no answer."""
    global _client
    with _client_lock:
        if _client is not None:
            try:
                _client.ping()  # the engine may have gone since
            except Exception:
                _client = None
        if _client is None:
            import docker

            client = docker.from_env(timeout=int(ENGINE_TIMEOUT))
            client.ping()
            _client = client
        return _client


def connected() -> bool:
    """Whether this process has reached the engine (so there may be containers of ours to remove)."""
    return _client is not None


def engine_problem() -> str | None:
    """``None`` when a local engine answers, else why not and what to do."""
    host = os.environ.get("DOCKER_HOST", "")
    if host and not host.startswith("unix://"):
        return (f"DOCKER_HOST={host} is not a local engine: container peers use host networking on "
                "loopback ports and mount their folder, so they need the engine of this machine")
    try:
        engine()
    except Exception as exc:  # docker.errors.DockerException, requests errors, OSError
        where = host or "unix:///var/run/docker.sock"
        first = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        return (f"no Docker engine answers at {where} ({first}); start one "
                "(scripts/docker-engine.sh start) or install Docker")
    return None


def find_image(ref: str) -> Any | None:
    """The engine's image ``ref``, or ``None`` when it has none of that name."""
    import docker.errors

    try:
        return engine().images.get(ref)
    except docker.errors.ImageNotFound:
        return None


def pull(ref: str) -> None:
    """Pull ``ref`` (``repository[:tag]``, default tag ``latest``); :class:`PeerUnavailable` if it fails."""
    import docker

    repository, _, tag = ref.rpartition(":") if ":" in ref.rsplit("/", 1)[-1] else (ref, "", "latest")
    client = docker.from_env(timeout=int(PULL_TIMEOUT))
    try:
        client.images.pull(repository, tag=tag or "latest")
    except Exception as exc:
        raise PeerUnavailable(f"cannot pull {ref}: {str(exc).splitlines()[0][:300]}") from None
    finally:
        client.close()
