"""The container peer: a native peer class with :class:`ContainerBackend` mixed in runs its launch
in a container (host network, its folder mounted at the same path, our labels), waits for it with
the native readiness check, reports its exit like a process (:class:`ContainerProcess`) and keeps
its logs when it stops. At exit, this process stops its container peers and removes its run's
containers.

testcontainers' :class:`DockerContainer` is used through its public methods only; the two things it
has no public call for (a container the engine has not created yet, closing its client) are in
:func:`_wrapped` and :func:`_close`.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import dcmconform.peers.base as base
from dcmconform.peers.base import Launch, PeerUnavailable, free_port
from dcmconform.peers.container import dockerapi
from dcmconform.peers.container.cleanup import (
    LABEL_INSTANCE,
    labels_for,
    remove_containers,
    remove_this_run,
    sweep_once,
)
from dcmconform.peers.container.imagechoice import Choice, choose_image
from dcmconform.peers.images import build as images
from dcmconform.net.target import Endpoint

os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")  # before testcontainers is imported


# testcontainers' DockerContainer ----------------------------------------------------------------
def _wrapped(container: Any) -> Any | None:
    """The docker SDK container behind a ``DockerContainer``, or ``None`` while the engine has not
    created it (``get_wrapped_container()`` raises then)."""
    from testcontainers.core.exceptions import ContainerStartException

    try:
        return container.get_wrapped_container()
    except ContainerStartException:
        return None


def _close(container: Any) -> None:
    """Close the docker SDK client a ``DockerContainer`` made (its ``stop()`` would also remove the
    container, which :meth:`ContainerBackend._terminate` does itself, after reading the logs)."""
    with contextlib.suppress(Exception):
        container.get_docker_client().client.close()


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
    # set in start()
    _container: Any  # testcontainers' DockerContainer, None once stopped
    _instance: str  # its dcmconform.instance label

    def _choice(self) -> Choice:
        return choose_image(self.image_key)

    def available(self) -> str | None:
        problem = dockerapi.engine_problem()
        if problem:
            return problem
        try:
            return self._choice().problem
        except PeerUnavailable as exc:
            return str(exc)
        except Exception as exc:  # the engine failed a request
            return f"the Docker engine failed a request: {str(exc).splitlines()[0][:200] if str(exc) else exc!r}"

    def image(self) -> str | None:
        return self._choice().ref if dockerapi.engine_problem() is None else None

    def version(self) -> str | None:
        choice = self._choice()
        if not choice.present or choice.ref is None:
            return None
        labels = dockerapi.find_image(choice.ref).labels or {}
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
        sweep_once()
        if not choice.present:
            dockerapi.pull(choice.ref)
        testcontainers_config.ryuk_disabled = True  # our labels and sweeps do its work
        port = free_port()
        launch = self.launch(port)  # type: ignore[attr-defined]
        self.storage_dir().mkdir(parents=True, exist_ok=True)  # type: ignore[attr-defined]
        entrypoint, command = self.container_argv(launch, choice)
        instance = uuid.uuid4().hex[:12]
        self._instance = instance
        folder = str(self.workdir)
        container = (DockerContainer(choice.ref, docker_client_kw={"timeout": int(dockerapi.ENGINE_TIMEOUT)})
                     .with_command(command)
                     .with_volume_mapping(folder, folder, "rw")
                     .with_kwargs(entrypoint=entrypoint, network="host", labels=labels_for(self.name, instance),
                                  user=f"{os.getuid()}:{os.getgid()}", working_dir=str(launch.cwd),
                                  # an init as PID 1 passes SIGTERM on: a peer that is PID 1 itself
                                  # has no default signal actions and would wait for the SIGKILL
                                  init=True, stop_signal="SIGTERM")
                     .with_envs(**self.container_env(launch)))
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
        wrapped = _wrapped(container)
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
            _close(container)
        if proc is not None:
            self._last_exit = proc.returncode

    def logs(self) -> str:
        text = super().logs()  # type: ignore[misc]  # the log file: start lines, and the logs of stopped containers
        container = getattr(self, "_container", None)
        wrapped = _wrapped(container) if container is not None else None
        if wrapped is not None:
            with contextlib.suppress(Exception):
                text += wrapped.logs(stdout=True, stderr=True).decode(errors="replace")
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


def _stop_at_exit() -> None:
    for peer in list(base._LIVE):
        if isinstance(peer, ContainerBackend):
            with contextlib.suppress(Exception):
                peer.stop()  # type: ignore[attr-defined]  # the native peer class's stop()
    remove_this_run()


atexit.register(_stop_at_exit)
