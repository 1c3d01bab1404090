"""Reading PDUs from a socket, in one place: every wait with a deadline, no PDU longer than the bound
read (its length field is the target's, untrusted), and the ways a read ends named alike for the raw
probe (:class:`dcmconform.net.probe.Connection`), pynetdicom's socket (:class:`dcmconform.net.assoc.BoundedSocket`),
the fast send path (:mod:`dcmconform.exchange.sender`) and the scenario SCP of the SCU side
(:mod:`dcmconform.scu.scenario`)."""

from __future__ import annotations

import errno
import socket
import time
from collections.abc import Callable

from dcmconform.base.limits import MAX_READ
from dcmconform.wire import pdus as pd

CLOSED, RESET, SILENT = "closed", "reset", "silent"


class ReadFailed(Exception):
    """The read ended before the bytes wanted: ``kind`` closed, reset or silent (the deadline passed);
    ``cause`` the socket's error, ``None`` for an orderly close or the deadline."""

    def __init__(self, kind: str, cause: OSError | None = None) -> None:
        super().__init__(kind if cause is None else f"{kind}: {cause}")
        self.kind = kind
        self.cause = cause


class Stopped(Exception):
    """The caller's stop flag was raised while the read waited."""


class Oversized(Exception):
    """A PDU header announced ``length`` bytes, over the bound: the body is not read."""

    def __init__(self, length: int, bound: int) -> None:
        super().__init__(f"a PDU of {length} bytes announced (over our read bound)")
        self.length = length
        self.bound = bound


def read_into(sock: socket.socket, n: int, deadline: float | None, got: bytearray,
              stop: Callable[[], bool] | None = None, poll: float = 0.2) -> None:
    """Read until ``got`` holds ``n`` bytes. ``deadline`` (monotonic) ``None``: wait as long as it takes;
    with ``stop``, look at it every ``poll`` seconds. Raises :class:`ReadFailed` (``got`` keeps what came)."""
    while len(got) < n:
        if stop is not None and stop():
            raise Stopped
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            raise ReadFailed(SILENT)
        sock.settimeout(poll if stop is not None and (remaining is None or remaining > poll) else remaining)
        try:
            chunk = sock.recv(min(n - len(got), 1 << 20))
        except TimeoutError:
            if stop is not None:
                continue  # the deadline is looked at above
            raise ReadFailed(SILENT) from None
        except ConnectionResetError as exc:
            raise ReadFailed(RESET, exc) from None
        except OSError as exc:
            raise ReadFailed(RESET if exc.errno in (errno.ECONNRESET, errno.EPIPE) else CLOSED, exc) from None
        if not chunk:
            raise ReadFailed(CLOSED)
        got += chunk


def read_header(sock: socket.socket, deadline: float | None, got: bytearray,
                stop: Callable[[], bool] | None = None, poll: float = 0.2) -> tuple[int, int]:
    """Read a PDU's 6-byte header into ``got``: ``(pdu_type, length)``."""
    read_into(sock, pd.PDU_HEADER, deadline, got, stop, poll)
    return pd.header(bytes(got[:pd.PDU_HEADER]))


def read_pdu(sock: socket.socket, deadline: float | None, got: bytearray | None = None, bound: int = MAX_READ,
             stop: Callable[[], bool] | None = None, poll: float = 0.2) -> bytes:
    """One whole PDU's bytes (header and body). Raises :class:`ReadFailed`, :class:`Stopped`, or
    :class:`Oversized` when its length field is over ``bound`` (the body is then not read)."""
    got = bytearray() if got is None else got
    _, length = read_header(sock, deadline, got, stop, poll)
    if length > bound:
        raise Oversized(length, bound)
    read_into(sock, pd.PDU_HEADER + length, deadline, got, stop, poll)
    return bytes(got)
