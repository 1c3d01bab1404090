"""The probe classifies every kind of answer, over real sockets, and never waits past its deadline."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from dcmconform.net import probe as pr
from dcmconform.net.target import Endpoint
from dcmconform.wire import pdus as pd

RQ = pd.associate_rq("SCP", "DCMCONFORM", [(1, "1.2.840.10008.1.1", ["1.2.840.10008.1.2"])])


@pytest.fixture
def raw_server() -> Iterator[Callable[[Callable[[socket.socket], None]], Endpoint]]:
    """A one-connection TCP server on loopback whose behaviour is a function of the socket."""
    listeners: list[socket.socket] = []
    threads: list[threading.Thread] = []

    def start(behaviour: Callable[[socket.socket], None]) -> Endpoint:
        lsock = socket.create_server(("127.0.0.1", 0))
        listeners.append(lsock)

        def serve() -> None:
            conn, _ = lsock.accept()
            conn.settimeout(5)
            try:
                conn.recv(65536)
                behaviour(conn)
            except OSError:
                pass
            finally:
                conn.close()

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        threads.append(thread)
        return Endpoint("SCP", "127.0.0.1", lsock.getsockname()[1])

    yield start
    for lsock in listeners:
        lsock.close()
    for thread in threads:
        thread.join(timeout=5)


def _hold(conn: socket.socket) -> None:
    conn.recv(1)  # keep the socket open until the client goes away


def _reset(conn: socket.socket) -> None:
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


@pytest.mark.parametrize(
    ("behaviour", "kind"),
    [
        (lambda c: c.sendall(pd.AAssociateRJ(1, 1, 7).encode()), pr.REJECTED),
        (lambda c: c.sendall(pd.AAbort(2, 6).encode()), pr.ABORTED),
        (lambda c: None, pr.CLOSED),
        (_reset, pr.RESET),
        (lambda c: (c.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n"), _hold(c)), pr.GARBAGE),
        (lambda c: (c.sendall(pd.AAssociateRJ(1, 1, 7).encode()[:5]), _hold(c)), pr.SILENT),
        (lambda c: (c.sendall(b"\x03\x00\x00\x00\x00\x05\x00\x01\x01\x07\x00"), _hold(c)), pr.GARBAGE),
        (_hold, pr.SILENT),
    ],
    ids=["rejected", "aborted", "closed", "reset", "http-garbage", "half-header", "bad-length", "silent"],
)
def test_classifies(raw_server: Callable[..., Endpoint], behaviour: Callable[[socket.socket], None], kind: str) -> None:
    endpoint = raw_server(behaviour)
    started = time.monotonic()
    observed = pr.Probe(endpoint, "DCMCONFORM", timeout=1.0).associate(RQ)
    assert observed.kind == kind, observed.describe()
    assert time.monotonic() - started < 3.0, "the probe waited past its deadline"
    assert observed.transcript.events, "every exchange is recorded"


def test_refused_port_is_reported_not_raised() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound but not listening: connections are refused
        observed = pr.Probe(Endpoint("X", "127.0.0.1", port), "DCMCONFORM", timeout=1.0).associate(RQ)
    assert observed.kind == pr.REFUSED
    assert "nothing listens" in observed.describe()


def test_absurd_length_is_not_read(raw_server: Callable[..., Endpoint]) -> None:
    endpoint = raw_server(lambda c: (c.sendall(b"\x02\x00\xff\xff\xff\xf0"), _hold(c)))
    observed = pr.Probe(endpoint, "DCMCONFORM", timeout=1.0).associate(RQ)
    assert observed.kind == pr.GARBAGE
    assert "absurd" in observed.detail


def test_accepted_and_released_against_the_zoo(zoo_endpoint: Endpoint) -> None:
    probe = pr.Probe(zoo_endpoint, "DCMCONFORM", timeout=3.0)
    observed = probe.associate(probe.request([(1, "1.2.840.10008.1.1", ["1.2.840.10008.1.2"])]))
    assert observed.kind == pr.ACCEPTED
    assert [pc.result for pc in observed.expect_accept().presentation_contexts] == [0]
    assert observed.release is not None
    assert observed.release.kind == pr.RELEASED
    dump = observed.transcript.dump()
    assert "Context ID:        1 (Accepted)" in dump
    assert "=VerificationSOPClass" in dump
