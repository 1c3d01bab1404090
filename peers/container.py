"""The container backend: a reference peer in a throwaway container (``--peer orthanc:container``).

A container peer is its native peer run inside a container: the same command line, the same
generated configuration files in the same folder (bind-mounted at the same path), host networking
(``network="host"``) on a free loopback port, the same readiness check (a C-ECHO), and what it
received read the same way (Orthanc's REST API on its loopback HTTP port, or the mounted folder).
So the expectations file of a peer holds whatever its backend.

Images, for each peer, in this order:

1. an override: ``--image PEER=REF`` (``dcmconform run``), the environment variable
   ``DCMCONFORM_IMAGES="orthanc=REF,dcmtk=REF"``, or the YAML file named by
   ``DCMCONFORM_IMAGES_FILE`` (default ``./dcmconform-images.yaml``): ``{orthanc: REF, pull: never}``;
2. the local image ``dcmconform/<peer>:local`` built by ``scripts/build-images.sh`` from
   ``peers/images/<peer>/`` (the Debian package of the native peer on a debootstrapped base);
3. the public image (``orthancteam/orthanc``, then ``jodogne/orthanc``; ``dcm4che/dcm4che-tools``),
   pulled on first use unless pulling is off: ``DCMCONFORM_PULL=never``, ``pull: never`` in the
   file, or an engine labelled ``dcmconform.pull=never`` (``scripts/docker-engine.sh start --no-pull``).
   With a public image the program runs by its name on the image's PATH, not by the Debian path.

Clean-up: every container carries the labels ``dcmconform.peer=1``, ``dcmconform.run`` (this
process's run id) and ``dcmconform.owner`` (host, pid and start time of the process that made it).
A peer's ``stop()`` removes its container (also after a failed start or an interrupt); at exit this
process removes every container of its run; the first start in a process removes the containers
whose owner process is gone (a SIGKILLed run); ``scripts/docker-engine.sh stop`` removes them all.
testcontainers' reaper (Ryuk) is not used: its image cannot be pulled everywhere and it reaches its
container over a bridge network, which the engine of docker-engine.sh does not have.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dcmconform.peers.base as base
from dcmconform.peers.base import Launch, PeerUnavailable, ProcessPeer, free_port
from dcmconform.peers.images import build as images
from dcmconform.peers.images import env_overrides
from dcmconform.target import Endpoint

os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")

LABEL_PEER = "dcmconform.peer"
LABEL_RUN = "dcmconform.run"
LABEL_OWNER = "dcmconform.owner"
LABEL_INSTANCE = "dcmconform.instance"
LABEL_NAME = "dcmconform.peer-name"
PULL_LABEL = "dcmconform.pull"
ENGINE_TIMEOUT = 10.0  # seconds for one request to the engine
PULL_TIMEOUT = 900.0
IMAGES_FILE = "dcmconform-images.yaml"
RUN_ID = uuid.uuid4().hex[:12]

# Public images users can pull, per image key (first that is present wins, else the first is pulled).
PUBLIC_IMAGES: dict[str, tuple[str, ...]] = {
    "orthanc": ("orthancteam/orthanc", "jodogne/orthanc"),
    "dcmtk": (),
    "ctn": (),
    "dcm4che": ("dcm4che/dcm4che-tools",),
}


# The engine -------------------------------------------------------------------------------------
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


def _image(ref: str) -> Any | None:
    import docker.errors

    try:
        return engine().images.get(ref)
    except docker.errors.ImageNotFound:
        return None


# Image choice -----------------------------------------------------------------------------------
def _file_settings() -> dict[str, str]:
    path = Path(os.environ.get("DCMCONFORM_IMAGES_FILE", IMAGES_FILE))
    if not path.exists():
        return {}
    import yaml

    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise PeerUnavailable(f"{path}: expected a mapping PEER: IMAGE (and optionally pull: never|missing)")
    return {str(k): v for k, v in data.items()}


def image_overrides() -> dict[str, str]:
    found = {k: v for k, v in _file_settings().items() if k != "pull"}
    found.update(env_overrides())
    return found


def pull_policy() -> tuple[str, str]:
    """``(policy, why)``: policy ``missing`` (pull an absent public image) or ``never``."""
    if os.environ.get("DCMCONFORM_PULL"):
        policy = os.environ["DCMCONFORM_PULL"]
        why = "DCMCONFORM_PULL"
    elif "pull" in _file_settings():
        policy, why = _file_settings()["pull"], os.environ.get("DCMCONFORM_IMAGES_FILE", IMAGES_FILE)
    else:
        labels = engine().info().get("Labels") or []
        policy, why = ("never", f"engine label {PULL_LABEL}=never") if f"{PULL_LABEL}=never" in labels else (
            "missing", "default")
    if policy not in ("missing", "never"):
        raise PeerUnavailable(f"{why}: pull policy {policy!r} is not 'missing' or 'never'")
    return policy, why


@dataclass(frozen=True)
class Choice:
    """The image a container peer will run, or why there is none."""

    ref: str | None
    source: str  # override, local, public
    present: bool
    problem: str | None = None
    note: str = ""


def choose_image(key: str) -> Choice:
    overrides = image_overrides()
    if key in overrides:
        ref = overrides[key]
        if _image(ref) is not None:
            return Choice(ref, "override", True)
        policy, why = pull_policy()
        if policy == "never":
            return Choice(None, "override", False, f"image {ref} (override) is not present and pulling is off ({why})")
        return Choice(ref, "override", False, note="pulled on first start")
    local = images.local_ref(key)
    found = _image(local)
    if found is not None:
        want = images.expected_inputs(key) if key in images.buildable() else None
        stale = want is not None and found.labels.get(images.INPUTS_LABEL) != want
        return Choice(local, "local", True,
                      note="stale: peers/images changed since the build, rerun scripts/build-images.sh" if stale else "")
    publics = PUBLIC_IMAGES.get(key, ())
    for ref in publics:
        if _image(ref) is not None:
            return Choice(ref, "public", True)
    build_hint = (f"no local image {local} (scripts/build-images.sh {key})" if key in images.buildable()
                  else f"no Dockerfile in peers/images/ for {key}")
    if not publics:
        return Choice(None, "local", False, f"{build_hint}; there is no public image of {key}")
    policy, why = pull_policy()
    if policy == "never":
        return Choice(None, "public", False,
                      f"public image {publics[0]} is not present and pulling is off ({why}); {build_hint}")
    return Choice(publics[0], "public", False, note="pulled on first start")


def _pull(ref: str) -> None:
    import docker

    repository, _, tag = ref.rpartition(":") if ":" in ref.rsplit("/", 1)[-1] else (ref, "", "latest")
    client = docker.from_env(timeout=int(PULL_TIMEOUT))
    try:
        client.images.pull(repository, tag=tag or "latest")
    except Exception as exc:
        raise PeerUnavailable(f"cannot pull {ref}: {str(exc).splitlines()[0][:300]}") from None
    finally:
        client.close()


# Ownership and the sweep ------------------------------------------------------------------------
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
    for container in engine().containers.list(all=True, filters=filters):
        with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
            container.remove(force=True)
            removed.append(container.short_id)
    return removed


def sweep_orphans() -> list[str]:
    """Remove the dcmconform containers whose owner process is gone; returns their short IDs."""
    import docker.errors

    removed = []
    for container in engine().containers.list(all=True, filters={"label": LABEL_PEER + "=1"}):
        owner = container.labels.get(LABEL_OWNER)
        if owner and not owner_alive(owner):
            with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
                container.remove(force=True)
                removed.append(container.short_id)
    return removed


_swept = False


def _sweep_once() -> None:
    global _swept
    if not _swept:
        _swept = True
        sweep_orphans()


def _sweep_at_exit() -> None:
    for peer in list(base._LIVE):
        if isinstance(peer, ContainerBackend):
            with contextlib.suppress(Exception):
                peer.stop()
    if _client is not None:
        with contextlib.suppress(Exception):
            remove_containers(**{LABEL_RUN: RUN_ID})


atexit.register(_sweep_at_exit)


# The running container as a process -------------------------------------------------------------
class ContainerProcess:
    """What the peer code expects of a ``Popen`` (``poll``, ``wait``, ``returncode``), for a container.

    Exit codes above 128 are reported as deaths by signal (``-11`` for 139), as the container's
    main process is the peer itself.
    """

    def __init__(self, container: Any, argv: list[str]) -> None:
        self.container = container
        self.args = argv
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is not None:
            return self.returncode
        import docker.errors

        try:
            self.container.reload()
        except docker.errors.NotFound:
            self.returncode = -signal.SIGKILL  # removed behind our back
            return self.returncode
        if self.container.status in ("exited", "dead"):
            code = int(self.container.attrs["State"]["ExitCode"])
            self.returncode = -(code - 128) if 128 < code <= 128 + 64 else code
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(self.args, timeout or 0)
            time.sleep(0.05)  # poll interval of a bounded wait
        return code


# The backend ------------------------------------------------------------------------------------
class ContainerBackend:
    """Mixed in before a native peer class: runs that peer's launch inside a container.

    Subclasses (made by :func:`container_class`) set ``image_key`` (which image: orthanc, dcmtk,
    ctn, dcm4che) and ``native_name`` (the registry name of the native peer). ``name`` stays the
    native peer's (its AE title, folder names and expectations file are the same); ``backend`` says
    ``container`` and the registry name is ``NAME:container``.
    """

    backend = "container"
    image_key = ""
    native_name = ""
    stop_timeout = 5

    # set in __init__ of the native class; declared for type checkers
    name: str
    ae_title: str
    starts: int
    endpoint: Endpoint | None
    proc: Any
    workdir: Path
    log_path: Path
    _last_exit: int | None

    def _choice(self) -> Choice:
        return choose_image(self.image_key)

    def available(self) -> str | None:
        problem = engine_problem()
        if problem:
            return problem
        try:
            return self._choice().problem
        except PeerUnavailable as exc:
            return str(exc)
        except Exception as exc:  # the engine failed a request
            return f"the Docker engine failed a request: {str(exc).splitlines()[0][:200] if str(exc) else exc!r}"

    def image(self) -> str | None:
        return self._choice().ref if engine_problem() is None else None

    def version(self) -> str | None:
        choice = self._choice()
        if not choice.present or choice.ref is None:
            return None
        labels = _image(choice.ref).labels or {}
        return labels.get(images.VERSION_LABEL) or labels.get("org.opencontainers.image.version")

    def describe(self) -> dict[str, Any]:
        described = super().describe()  # type: ignore[misc]
        described["backend"] = "container"
        described["image"] = None
        if described["available"]:
            choice = self._choice()
            described["image"] = choice.ref
            extra = f"image {choice.ref} ({choice.source}{'; ' + choice.note if choice.note else ''})"
            described["notes"] = f"{extra}; {described['notes']}" if described["notes"] else extra
        return described

    # How the native command line runs in the image ---------------------------------------------
    def container_argv(self, launch: Launch, choice: Choice) -> tuple[list[str], list[str]]:
        """``(entrypoint, command)``. A local image has the native program at the same path; a
        public one has it on its PATH under the same name."""
        program = launch.argv[0]
        if choice.source != "local" and os.path.isabs(program):
            program = os.path.basename(program)
        return [program], launch.argv[1:]

    def container_env(self, launch: Launch) -> dict[str, str]:
        """What the peer sets on top of our environment (TCP_NODELAY=1, ...): never our whole environment."""
        return {k: v for k, v in launch.env.items() if os.environ.get(k) != v}

    def start(self) -> Endpoint:
        from testcontainers.core.config import testcontainers_config
        from testcontainers.core.container import DockerContainer

        reason = self.available()
        if reason:
            raise PeerUnavailable(f"{self.name}:container: {reason}")
        choice = self._choice()
        assert choice.ref is not None
        _sweep_once()
        if not choice.present:
            _pull(choice.ref)
        testcontainers_config.ryuk_disabled = True  # our labels and sweeps do its work
        port = free_port()
        launch = self.launch(port)  # type: ignore[attr-defined]
        self.storage_dir().mkdir(parents=True, exist_ok=True)  # type: ignore[attr-defined]
        entrypoint, command = self.container_argv(launch, choice)
        instance = uuid.uuid4().hex[:12]
        self._instance = instance
        folder = str(self.workdir)
        container = (DockerContainer(choice.ref, docker_client_kw={"timeout": int(ENGINE_TIMEOUT)})
                     .with_command(command)
                     .with_volume_mapping(folder, folder, "rw")
                     .with_kwargs(entrypoint=entrypoint, network="host", labels=labels_for(self.name, instance),
                                  user=f"{os.getuid()}:{os.getgid()}", working_dir=str(launch.cwd),
                                  # an init as PID 1 passes SIGTERM on: a peer that is PID 1 itself
                                  # has no default signal actions and would wait for the SIGKILL
                                  init=True, stop_signal="SIGTERM"))
        container.env.update(self.container_env(launch))
        base._install_sweep()
        with open(self.log_path, "ab") as log:
            log.write(f"--- start {self.starts + 1}: container {choice.ref}: {' '.join([*entrypoint, *command])}\n"
                      .encode())
        base._LIVE.add(self)  # type: ignore[arg-type]  # before the container exists: the sweep finds it
        self._container = container
        self.starts += 1
        self.endpoint = Endpoint(self.ae_title, "127.0.0.1", port)
        try:
            container.start()
            self.proc = ContainerProcess(container.get_wrapped_container(), [*entrypoint, *command])
            self._wait_ready()  # type: ignore[attr-defined]  # the native C-ECHO readiness, same deadline
        except BaseException:
            self.stop()  # type: ignore[attr-defined]  # also on KeyboardInterrupt: no half-started container
            raise
        return self.endpoint

    def _terminate(self) -> None:
        """Stop the container (SIGTERM, then SIGKILL after ``stop_timeout``), keep its log, remove it."""
        import docker.errors

        proc, self.proc = self.proc, None
        container, self._container = getattr(self, "_container", None), None
        base._LIVE.discard(self)  # type: ignore[arg-type]
        if container is None:
            return
        wrapped = container._container
        try:
            if wrapped is not None:
                with contextlib.suppress(docker.errors.APIError):
                    wrapped.stop(timeout=self.stop_timeout)
                if proc is not None:
                    proc.poll()
                with contextlib.suppress(docker.errors.APIError):
                    output = wrapped.logs(stdout=True, stderr=True)
                    with open(self.log_path, "ab") as log:
                        log.write(output)
                wrapped.remove(force=True, v=True)
        except docker.errors.NotFound:
            pass
        except Exception:
            # The engine did not answer as expected: remove by label, whatever exists of it.
            with contextlib.suppress(Exception):
                remove_containers(**{LABEL_INSTANCE: self._instance})
        else:
            if wrapped is None:  # interrupted while the engine was creating it
                remove_containers(**{LABEL_INSTANCE: self._instance})
        finally:
            with contextlib.suppress(Exception):
                container.get_docker_client().client.close()
        if proc is not None:
            self._last_exit = proc.returncode

    def logs(self) -> str:
        text = super().logs()  # type: ignore[misc]  # the log file: start lines, and the logs of stopped containers
        container = getattr(self, "_container", None)
        if container is not None and container._container is not None:
            with contextlib.suppress(Exception):
                text += container._container.logs(stdout=True, stderr=True).decode(errors="replace")
        return text

    def scu_argv(self, target: Endpoint, files: list[Path], calling_aet: str = "") -> list[str] | None:
        """The native SCU command, run in a throwaway container of the same image (``docker run --rm``)."""
        argv = super().scu_argv(target, files, calling_aet)  # type: ignore[misc]
        docker = shutil.which("docker")
        if argv is None or docker is None or self.available():
            return None
        choice = self._choice()
        assert choice.ref is not None
        entrypoint, command = self.container_argv(Launch(argv, {}, Path.cwd()), choice)
        mounts = []
        for folder in sorted({str(Path(f).resolve().parent) for f in files}):
            mounts += ["-v", f"{folder}:{folder}:ro"]
        labels = []
        for key, value in labels_for(f"{self.name}-scu", uuid.uuid4().hex[:12]).items():
            labels += ["--label", f"{key}={value}"]
        return [docker, "run", "--rm", "--init", "--network", "host", "--user", f"{os.getuid()}:{os.getgid()}",
                "-e", "TCP_NODELAY=1", *labels, *mounts, "--entrypoint", entrypoint[0], choice.ref, *command]


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
