"""Nothing judged is never green (issue 27): a node that accepts TCP and never serves an association
is a set-up error (one line naming the first contact's answer, exit 2), found by the pre-flight's real
A-ASSOCIATE-RQ; a node that stops serving mid-run ends the run within a minute, never with exit 0.

The nodes here are small loopback servers, each bounded in time (``LIFETIME``) and in connections.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dcmconform.wire import pdus as pd

LIFETIME = 90.0
ABORT = pd.AAbort(source=2, reason=0).encode()  # A-ABORT from the service provider, reason not specified


class Node:
    """A listener on a free loopback port that answers every connection with ``behaviour``:
    ``silent`` (reads, never answers), ``reset`` (RST at once), ``abort`` (A-ABORT to the request), or
    ``proxy-then-silent`` (forwards the first ``serve`` connections to ``upstream``, then is silent),
    ``abort-stranger`` (A-ABORT to the calling AE title DCMC_STRANGER, forwards every other request) and
    ``proxy-then-abort`` (the same, and A-ABORT to everyone after ``serve`` connections)."""

    def __init__(self, behaviour: str, upstream: tuple[str, int] | None = None, serve: int = 0) -> None:
        self.behaviour, self.upstream, self.serve = behaviour, upstream, serve
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.connections = 0
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        ends = time.monotonic() + LIFETIME
        while not self.stop.is_set() and time.monotonic() < ends and self.connections < 2000:
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            threading.Thread(target=self._handle, args=(conn, self.connections), daemon=True).start()

    def _handle(self, conn: socket.socket, number: int) -> None:
        conn.settimeout(2.0)
        with contextlib.suppress(OSError):
            if self.behaviour == "reset":
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                conn.close()
                return
            if self.behaviour == "abort":
                conn.recv(65536)
                conn.sendall(ABORT)
                time.sleep(0.2)
                conn.close()
                return
            if self.behaviour == "proxy-then-silent" and number <= self.serve and self.upstream is not None:
                self._forward(conn)
                return
            if self.behaviour in ("abort-stranger", "proxy-then-abort"):
                first = conn.recv(65536)
                stranger = first[26:42].strip() == b"DCMC_STRANGER"  # the calling AE title field
                if stranger or (self.behaviour == "proxy-then-abort" and number > self.serve):
                    conn.sendall(ABORT)
                    time.sleep(0.2)
                    conn.close()
                    return
                self._forward(conn, first)
                return
            self.held.append(conn)  # silent: keep it open, read nothing back to the sender

    def _forward(self, conn: socket.socket, first: bytes = b"") -> None:
        assert self.upstream is not None
        up = socket.create_connection(self.upstream, timeout=5)
        up.sendall(first)
        done = threading.Event()

        def pump(src: socket.socket, dst: socket.socket) -> None:
            with contextlib.suppress(OSError):
                src.settimeout(LIFETIME)
                while not done.is_set():
                    data = src.recv(65536)
                    if not data:
                        break
                    dst.sendall(data)
            done.set()
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

        threading.Thread(target=pump, args=(up, conn), daemon=True).start()
        pump(conn, up)
        up.close()
        conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(2)
        for s in [self.sock, *self.held]:
            with contextlib.suppress(OSError):
                s.close()


@contextlib.contextmanager
def node(behaviour: str, **kw: object) -> Iterator[Node]:
    n = Node(behaviour, **kw)  # type: ignore[arg-type]
    try:
        yield n
    finally:
        n.close()


def dcmconform(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dcmconform", *args], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize(("behaviour", "words"), [
    ("silent", "never served an association: no answer before the deadline"),
    ("reset", "never served an association: the target reset the connection"),
    ("abort", "answered our first A-ASSOCIATE-RQ (Verification) with A-ABORT"),
])
def test_a_node_that_never_serves_is_a_set_up_error(behaviour: str, words: str, tmp_path: Path) -> None:
    with node(behaviour) as n:
        started = time.monotonic()
        done = dcmconform("run", "--target", f"NODE@127.0.0.1:{n.port}", "--timeout", "2",
                          "--report-dir", str(tmp_path / "r"))
        took = time.monotonic() - started
    assert done.returncode == 2, done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and words in lines[0], done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert took < 60
    assert not (tmp_path / "r" / "conformance.json").exists()  # no report that could pass for a run


def test_plain_pytest_against_a_silent_node_is_a_usage_error(tmp_path: Path) -> None:
    """`pytest suites --target` has no CLI pre-flight: the session's first contact says the same, with
    pytest's exit code for a usage error (4)."""
    import dcmconform.suites

    suites = Path(dcmconform.suites.__file__).parent
    with node("silent") as n:
        done = subprocess.run([sys.executable, "-m", "pytest", str(suites), "-p", "no:cacheprovider", "-q",
                               "--target", f"NODE@127.0.0.1:{n.port}", "--timeout", "2", "--check", "SEC-014",
                               "--report-dir", str(tmp_path / "r")],
                              capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
                              cwd=suites.parent)
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout[-2000:] + done.stderr[-2000:]
    assert "never served an association" in done.stdout + done.stderr


@pytest.mark.slow
def test_a_node_that_goes_silent_mid_run_ends_the_run_soon_and_not_green(tmp_path: Path) -> None:
    """The node serves the pre-flight and the first checks, then every connection is silent: the check
    it went down during is charged, the next checks are not run, and after three of them the session
    stops asking: the whole association area ends within a minute with exit 1."""
    from dcmconform.peers.registry import make_peer

    peer = make_peer("pynetdicom")
    endpoint = peer.start()
    try:
        with node("proxy-then-silent", upstream=(endpoint.host, endpoint.port), serve=6) as n:
            started = time.monotonic()
            done = dcmconform("run", "--target", f"{endpoint.ae_title}@127.0.0.1:{n.port}", "--timeout", "2",
                              "--artim-wait", "2", "--only", "association", "--report-dir", str(tmp_path / "r"))
            took = time.monotonic() - started
    finally:
        peer.stop()
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    doc = json.loads((tmp_path / "r" / "conformance.json").read_text())
    down = doc["target"]["down"]
    assert down["checks_down"] >= 3
    not_run = [r for r in doc["results"] if r["outcome"] == "not run"]
    assert len(not_run) > 20
    assert sum("stopped asking" in r["summary"] for r in not_run) == len(not_run) - 3
    assert took < 60, f"{took:.0f} s"


@contextlib.contextmanager
def in_front_of_pynetdicom(behaviour: str, serve: int = 0) -> Iterator[tuple[Node, str]]:
    """``behaviour`` in front of the embedded reference peer: (the node, its AE title)."""
    from dcmconform.peers.registry import make_peer

    peer = make_peer("pynetdicom")
    endpoint = peer.start()
    try:
        with node(behaviour, upstream=(endpoint.host, endpoint.port), serve=serve) as n:
            yield n, endpoint.ae_title
    finally:
        peer.stop()


def results_of(report: Path) -> dict[str, dict[str, str]]:
    return {r["id"]: r for r in json.loads((report / "conformance.json").read_text())["results"]}


@pytest.mark.slow
def test_an_abort_for_an_unknown_calling_ae_passes_only_beside_a_control_association(tmp_path: Path) -> None:
    """SEC-014 and SEC-015 pass on an A-ABORT to the unknown calling AE only because our known calling AE
    associates in the same check; when it cannot either (everyone is aborted by then), nothing was compared."""
    with in_front_of_pynetdicom("abort-stranger") as (n, aet):
        done = dcmconform("run", "--target", f"{aet}@127.0.0.1:{n.port}", "--timeout", "3", "--check", "SEC-014",
                          "--check", "SEC-015", "--report-dir", str(tmp_path / "a"))
    got = results_of(tmp_path / "a")
    for check_id in ("SEC-014", "SEC-015"):
        assert got[check_id]["outcome"] == "pass", (done.stderr, got[check_id])
        assert "while our known calling AE associated right after" in got[check_id]["summary"]
    # Pre-flight (association and C-ECHO) and the session's first contact are served; then everyone is aborted.
    with in_front_of_pynetdicom("proxy-then-abort", serve=3) as (n, aet):
        dcmconform("run", "--target", f"{aet}@127.0.0.1:{n.port}", "--timeout", "3", "--check", "SEC-014",
                   "--report-dir", str(tmp_path / "b"))
    got = results_of(tmp_path / "b")
    assert got["SEC-014"]["outcome"] == "n.a.", got["SEC-014"]
    assert "our own calling AE could not associate either" in got["SEC-014"]["summary"]
