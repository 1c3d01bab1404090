"""The peer interface and the native-process backend.

A peer starts on a free loopback port with its own temporary folder, is ready when a C-ECHO
succeeds (never a sleep), keeps its logs, reports how it died, and is always stopped: by its
owner, and otherwise by the atexit/signal sweep in :func:`stop_all`.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from dcmconform.assoc import liveness
from dcmconform.target import Endpoint

READY_TIMEOUT = 30.0


class PeerUnavailable(Exception):
    """The peer cannot run on this machine (missing binary, no Docker, ...): the message says why."""


class PeerFailed(Exception):
    """The peer was started but did not become ready; the message carries its log tail."""


class Peer(Protocol):
    name: str

    def start(self) -> Endpoint: ...
    def stop(self) -> None: ...
    def logs(self) -> str: ...
    def received(self) -> list[Path]: ...
    def exit_status(self) -> str | None: ...


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def describe_exit(code: int | None) -> str | None:
    """``None`` while running; otherwise "exit code 3" or "killed by signal 11 (SIGSEGV)"."""
    if code is None:
        return None
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = "unknown"
        return f"killed by signal {-code} ({name})"
    return f"exit code {code}"


_LIVE: set[ProcessPeer] = set()


def stop_all() -> None:
    """Stop every peer this process started (atexit and signal handlers call this)."""
    for peer in list(_LIVE):
        peer.stop()


atexit.register(stop_all)


@dataclass
class Launch:
    argv: list[str]
    env: dict[str, str]
    cwd: Path


class ProcessPeer:
    """A peer that runs as a local process. Subclasses say how to launch it."""

    name = "process"
    calling_aet = "DCMCONFORM"

    def __init__(self, ae_title: str = "", workdir: Path | None = None, keep: bool = False) -> None:
        self.ae_title = ae_title or self.default_ae_title()
        self.keep = keep
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix=f"dcmconform-{self.name}-"))
        self.endpoint: Endpoint | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.workdir / "peer.log"

    # Subclass hooks ----------------------------------------------------------------------
    def default_ae_title(self) -> str:
        return self.name.upper()[:16]

    def available(self) -> str | None:
        """``None`` when the peer can run here, else the reason it cannot."""
        return None

    def launch(self, port: int) -> Launch:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def storage_dir(self) -> Path:
        return self.workdir / "received"

    # Interface ---------------------------------------------------------------------------
    def start(self) -> Endpoint:
        reason = self.available()
        if reason:
            raise PeerUnavailable(f"{self.name}: {reason}")
        port = free_port()
        launch = self.launch(port)
        self.storage_dir().mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child owns it until stop()
        self.proc = subprocess.Popen(
            launch.argv, cwd=launch.cwd, env=launch.env, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
        log.close()
        _LIVE.add(self)
        self.endpoint = Endpoint(self.ae_title, "127.0.0.1", port)
        self._wait_ready()
        return self.endpoint

    def _wait_ready(self) -> None:
        assert self.endpoint is not None and self.proc is not None
        deadline = time.monotonic() + READY_TIMEOUT
        detail = "not tried"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if _port_open(self.endpoint):
                check = liveness(self.endpoint, self.calling_aet, timeout=5)
                if check.alive:
                    return
                detail = check.detail
            else:
                detail = "port not open yet"
            _pause(self.proc, 0.1)
        status = describe_exit(self.proc.poll()) or f"still running, not ready ({detail})"
        tail = self.logs()[-2000:]
        self.stop()
        raise PeerFailed(f"{self.name} did not become ready within {READY_TIMEOUT:.0f}s: {status}\n{tail}")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        _LIVE.discard(self)
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        self._last_exit = proc.returncode if proc is not None else getattr(self, "_last_exit", None)
        if not self.keep and self.workdir.exists():
            self._final_logs = self.logs()
            shutil.rmtree(self.workdir, ignore_errors=True)

    def logs(self) -> str:
        if self.log_path.exists():
            return self.log_path.read_text(errors="replace")
        return getattr(self, "_final_logs", "")

    def received(self) -> list[Path]:
        folder = self.storage_dir()
        return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []

    def exit_status(self) -> str | None:
        """How the process ended, or ``None`` while it runs."""
        if self.proc is not None:
            return describe_exit(self.proc.poll())
        return describe_exit(getattr(self, "_last_exit", None))

    def __enter__(self) -> Endpoint:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _port_open(endpoint: Endpoint) -> bool:
    try:
        with socket.create_connection((endpoint.host, endpoint.port), timeout=0.5):
            return True
    except OSError:
        return False


def _pause(proc: subprocess.Popen[bytes], seconds: float) -> None:
    """Wait for the process to exit or ``seconds`` to pass, whichever comes first."""
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=seconds)
