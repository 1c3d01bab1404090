"""The peer interface and the native-process backend.

A peer starts on a free loopback port with its own temporary folder, is ready when a C-ECHO
succeeds (never a sleep), keeps its logs, reports how it died, and is always stopped: by its
owner, and otherwise by the sweep in :func:`stop_all` (atexit, SIGTERM/SIGHUP), with the kernel's
parent-death signal as the last line (a peer whose owner is SIGKILLed gets SIGTERM).

After a crash, :meth:`ProcessPeer.restart` brings the same peer back on a new port, keeping its
folder and log, so that the next check gets a fresh peer (see :mod:`dcmconform.harness.peerguard`).
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
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from dcmconform.net.assoc import liveness
from dcmconform.peers.certificates import PeerCertificates, make_certificates
from dcmconform.net.target import Endpoint

READY_TIMEOUT = 30.0
STOP_TIMEOUT = 5.0
LOG_READ_LIMIT = 4 * 1024 * 1024  # CTN in an error loop logs ~150 MB/s; reading it all once killed a run (OOM)
SETPRIV = "/usr/bin/setpriv"  # util-linux: sets the parent-death signal, then execs the peer


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


def missing(path: str, install: str) -> str | None:
    """The standard reason for a missing program: ``"/usr/bin/x not found: apt-get install y"``."""
    return None if os.access(path, os.X_OK) else f"{path} not found: {install}"


def debian_version(package: str) -> str | None:
    """The installed version of a Debian package, or ``None``."""
    try:
        done = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True,
                              timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


# The sweep ------------------------------------------------------------------------------------
_LIVE: set[ProcessPeer] = set()
_SWEEP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
_sweep_installed = False


def stop_all() -> None:
    """Stop every peer this process started (atexit and the SIGTERM/SIGHUP sweep call this)."""
    for peer in list(_LIVE):
        peer.stop()


atexit.register(stop_all)


def _sweep_then_die(signum: int, _frame: object) -> None:
    stop_all()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _install_sweep() -> None:
    """On SIGTERM/SIGHUP stop our peers, then die of the signal as we would have.

    Only where nobody else handles the signal (the CLI turns SIGTERM into KeyboardInterrupt,
    whose ``finally`` blocks stop the peers), and only from the main thread (Python's rule).
    """
    global _sweep_installed
    if _sweep_installed or threading.current_thread() is not threading.main_thread():
        return
    for signum in _SWEEP_SIGNALS:
        if signal.getsignal(signum) is signal.SIG_DFL:
            signal.signal(signum, _sweep_then_die)
    _sweep_installed = True


@dataclass
class Launch:
    argv: list[str]
    env: dict[str, str]
    cwd: Path


class ProcessPeer:
    """A peer that runs as a local process. Subclasses say how to launch it.

    Class attributes describe the peer for ``dcmconform peers list``: ``backend`` (native or
    container), ``package`` (the Debian/PyPI package that brings it), ``program`` (what runs),
    ``roles`` (scp, and scu when :meth:`scu_argv` can drive it), ``notes`` (one line on how it is
    configured and what to know about it).

    ``move_destinations`` (AE title -> (host, port)) are the C-MOVE destinations the peer must know;
    set them before :meth:`start`. A peer that serves C-MOVE writes them into the configuration it
    generates (Orthanc's ``DicomModalities``, dcmqrscp's host table, the zoo's command line); the
    others ignore them. The session gives every reference peer our storage SCP this way.
    """

    name = "process"
    backend = "native"
    package: str | None = None
    program: str | None = None
    roles: tuple[str, ...] = ("scp",)
    notes = ""
    calling_aet = "DCMCONFORM"
    tls_capable = False  # launch() can start it with TLS (self.certificates) when ``tls`` is set

    def __init__(self, ae_title: str = "", workdir: Path | None = None, keep: bool = False,
                 move_destinations: dict[str, tuple[str, int]] | None = None) -> None:
        self.ae_title = ae_title or self.default_ae_title()
        self.move_destinations: dict[str, tuple[str, int]] = dict(move_destinations or {})
        self.keep = keep
        self._workdir = workdir
        self.endpoint: Endpoint | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0  # how many times the process was launched (restarts after a crash count)
        self.tls = False  # start it speaking TLS (--tls), with self.certificates made at the first start
        self.certificates: PeerCertificates | None = None
        self._last_exit: int | None = None
        self._final_logs = ""

    # The folder is made on first use, so that asking available() or describe() leaves nothing behind.
    @property
    def workdir(self) -> Path:
        if self._workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix=f"dcmconform-{self.name}-"))
        return self._workdir

    @workdir.setter
    def workdir(self, value: Path) -> None:
        self._workdir = value

    @property
    def log_path(self) -> Path:
        return self.workdir / "peer.log"

    # Subclass hooks ----------------------------------------------------------------------
    def default_ae_title(self) -> str:
        return self.name.upper()[:16]

    def available(self) -> str | None:
        """``None`` when the peer can run here, else the reason it cannot (and how to fix it)."""
        return None

    def launch(self, port: int) -> Launch:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def storage_dir(self) -> Path:
        return self.workdir / "received"

    def ready(self) -> str | None:
        """``None`` when the started peer serves, else what is still missing. Default: a C-ECHO."""
        assert self.endpoint is not None
        check = liveness(self.endpoint, self.calling_aet, timeout=5)
        return None if check.alive else check.detail

    def make_certificates(self) -> PeerCertificates:
        """A CA, our client certificate and the peer's, made for a start with ``tls`` (in its folder)."""
        return make_certificates(self.workdir / "tls")

    def version(self) -> str | None:
        return debian_version(self.package) if self.package else None

    def scu_argv(self, target: Endpoint, files: list[Path], calling_aet: str = "") -> list[str] | None:
        """The command that makes this peer send ``files`` to ``target`` as a C-STORE SCU, or ``None``
        when the peer cannot be driven that way (for SCU-side checks)."""
        return None

    def describe(self) -> dict[str, Any]:
        """What ``peers list`` and the reports say about the peer (no process is started)."""
        reason = self.available()
        return {"name": self.name, "backend": self.backend, "package": self.package, "program": self.program,
                "roles": list(self.roles), "ae_title": self.ae_title, "available": reason is None, "reason": reason,
                "version": None if reason else self.version(), "notes": self.notes}

    # Interface ---------------------------------------------------------------------------
    def start(self) -> Endpoint:
        reason = self.available()
        if reason:
            raise PeerUnavailable(f"{self.name}: {reason}")
        if self.tls and not self.tls_capable:
            raise PeerUnavailable(f"{self.name}: no TLS mode here (peers with one: dcmtk, orthanc, pynetdicom, zoo)")
        if self.tls and self.certificates is None:
            self.certificates = self.make_certificates()
        port = free_port()
        launch = self.launch(port)
        self.storage_dir().mkdir(parents=True, exist_ok=True)
        argv = launch.argv
        if os.access(SETPRIV, os.X_OK) and threading.current_thread() is threading.main_thread():
            # The parent-death signal belongs to the thread that forks: only the main thread lives as
            # long as the process. It stops the peer even when we are SIGKILLed and no sweep runs.
            argv = [SETPRIV, "--pdeathsig", "TERM", "--", *argv]
        _install_sweep()
        with open(self.log_path, "ab") as log:
            log.write(f"--- start {self.starts + 1}: {' '.join(launch.argv)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                argv, cwd=launch.cwd, env=launch.env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )
        _LIVE.add(self)
        self.starts += 1
        client = self.certificates.client() if self.tls and self.certificates is not None else None
        self.endpoint = Endpoint(self.ae_title, "127.0.0.1", port, client)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()  # also on KeyboardInterrupt while waiting: no half-started peer survives
            raise
        return self.endpoint

    def restart(self) -> Endpoint:
        """Start again on a new port after the process died (or stop it first); keeps folder and log."""
        self._terminate()
        return self.start()

    def _wait_ready(self) -> None:
        assert self.endpoint is not None and self.proc is not None
        deadline = time.monotonic() + READY_TIMEOUT
        detail = "not tried"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            # Straight to the C-ECHO: no bare TCP connect first, some peers do not survive one
            # (CTN's simple_storage exits when a connection closes without an A-ASSOCIATE-RQ).
            not_ready = self.ready()
            if not_ready is None:
                return
            detail = not_ready
            _pause(self.proc, 0.1)
        ended = describe_exit(self.proc.poll())
        what = (f"did not become ready: it ended first ({ended})" if ended
                else f"did not become ready within {READY_TIMEOUT:.0f}s ({detail})")
        tail = self.logs()[-2000:]
        self.stop()
        raise PeerFailed(f"{self.name} {what}\n{tail}")

    def _terminate(self) -> None:
        """End the process group (SIGTERM, then SIGKILL), keeping the folder."""
        proc, self.proc = self.proc, None
        _LIVE.discard(self)
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=STOP_TIMEOUT)
        self._last_exit = proc.returncode

    def stop(self) -> None:
        """Stop the process and remove its folder (unless ``keep``). Safe to call any number of times."""
        self._terminate()
        if not self.keep and self._workdir is not None and self._workdir.exists():
            self._final_logs = self.logs()
            shutil.rmtree(self._workdir, ignore_errors=True)

    def logs(self) -> str:
        """The peer's log; only its last LOG_READ_LIMIT bytes (a peer stuck in an error loop writes gigabytes)."""
        if self._workdir is not None and self.log_path.exists():
            with open(self.log_path, "rb") as log:
                size = log.seek(0, os.SEEK_END)
                log.seek(max(0, size - LOG_READ_LIMIT))
                tail = log.read().decode(errors="replace")
            return tail if size <= LOG_READ_LIMIT else f"[{size - LOG_READ_LIMIT} earlier bytes not shown]\n{tail}"
        return self._final_logs

    def received(self) -> list[Path]:
        folder = self.storage_dir()
        return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []

    def exit_status(self) -> str | None:
        """How the process ended, or ``None`` while it runs (or before it was ever started)."""
        if self.proc is not None:
            return describe_exit(self.proc.poll())
        return describe_exit(self._last_exit)

    def __enter__(self) -> Endpoint:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _pause(proc: subprocess.Popen[bytes], seconds: float) -> None:
    """Wait for the process to exit or ``seconds`` to pass, whichever comes first."""
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=seconds)
