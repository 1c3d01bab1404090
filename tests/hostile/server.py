"""A small hostile SCP on 127.0.0.1 for the bounds tests (issue 13): one behaviour per server.

Every loop here is bounded in count and in time (``LIFETIME``), and every socket wait has a
deadline, so nothing outlives the test that started it.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import struct
import threading
import time
from collections.abc import Iterator

from dcmconform.dimse.commands import C_FIND_RSP, C_STORE_RSP, encode_command, response
from dcmconform.dimse.pdv import Assembler, fragments
from dcmconform.net.target import Endpoint
from dcmconform.wire import items as it
from dcmconform.wire import pdus as pd
from dcmconform.wire.errors import WireError

LIFETIME = 60.0  # no connection is served longer than this
PENDING = 0xFF00
BEHAVIOURS = ("drip-ac", "drip-after-first", "huge-length", "endless-pending", "flood-on-silence", "stop-reading", "store-rsp-for-echo",
              "odd-length-echo-rsp")


def _read_pdu(sock: socket.socket, deadline: float) -> bytes | None:
    """One whole PDU (at most 1 MiB, or None on close/timeout)."""
    got = bytearray()
    need = pd.PDU_HEADER
    while len(got) < need:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        sock.settimeout(min(remaining, 1.0))
        try:
            chunk = sock.recv(need - len(got))
        except TimeoutError:
            continue
        except OSError:
            return None
        if not chunk:
            return None
        got += chunk
        if len(got) == pd.PDU_HEADER and need == pd.PDU_HEADER:
            length = struct.unpack(">L", got[2:6])[0]
            if length > 1 << 20:
                return None
            need += length
    return bytes(got)


def _accept(rq: pd.AAssociateRQ) -> bytes:
    contexts: list[it.Item] = [it.PresentationContextACItem(pc.context_id, 0, [it.TransferSyntaxSubItem(pc.transfer_syntaxes[0])])
                               for pc in rq.presentation_contexts]
    user = it.UserInformationItem([it.MaximumLengthSubItem(16384), it.ImplementationClassUIDSubItem("1.2.826.0.1.3680043.9.9999")])
    items: list[it.Item] = [it.ApplicationContextItem(it.APPLICATION_CONTEXT), *contexts, user]
    return pd.AAssociateAC(rq.called_ae, rq.calling_ae, items).encode()


def _send(sock: socket.socket, data: bytes) -> bool:
    sock.settimeout(5.0)
    try:
        sock.sendall(data)
    except OSError:
        return False
    return True


def _command_pdu(context_id: int, command: bytes) -> bytes:
    return b"".join(p.encode() for p in fragments(command, context_id, True, 16384))


class Handler(socketserver.BaseRequestHandler):
    server: HostileServer

    def handle(self) -> None:
        sock: socket.socket = self.request
        deadline = time.monotonic() + LIFETIME
        behaviour = self.server.behaviour
        self.server.connections += 1
        if behaviour == "flood-on-silence":
            chunk = b"\x07" * 65536
            sent = 0
            while time.monotonic() < deadline and sent < self.server.flood_bytes and _send(sock, chunk):
                sent += len(chunk)
            return
        first = _read_pdu(sock, deadline)
        if first is None or first[:1] != b"\x01":
            return
        try:
            rq = pd.decode_pdu(first)
        except WireError:
            return
        assert isinstance(rq, pd.AAssociateRQ)
        ac = _accept(rq)
        if behaviour == "drip-ac" or (behaviour == "drip-after-first" and self.server.connections > 1):
            for byte in ac:
                if time.monotonic() > deadline or not _send(sock, bytes([byte])):
                    return
                time.sleep(1.0)
            return
        if behaviour == "huge-length":
            _send(sock, struct.pack(">BBL", 0x02, 0, 0xFFFFFFFF))
            sent = 0
            chunk = b"\x00" * 65536
            while time.monotonic() < deadline and sent < self.server.flood_bytes and _send(sock, chunk):
                sent += len(chunk)
            return
        if not _send(sock, ac):
            return
        if behaviour == "stop-reading":  # accept, then never read again: the client's sends fill the buffers
            while time.monotonic() < deadline and not self.server.stopping.wait(0.2):
                pass
            return
        self._serve(sock, deadline)

    def _serve(self, sock: socket.socket, deadline: float) -> None:
        assembler = Assembler()
        while time.monotonic() < deadline:
            data = _read_pdu(sock, deadline)
            if data is None or data[:1] in (b"\x07",):
                return
            if data[:1] == b"\x05":
                _send(sock, pd.AReleaseRP().encode())
                return
            if data[:1] != b"\x04":
                continue
            pdu = pd.decode_pdu(data)
            assert isinstance(pdu, pd.PDataTF)
            for message in assembler.feed_pdu(pdu, len(data) - 6):
                if message.command is not None and not self._answer(sock, message.context_id, message.command, deadline):
                    return

    def _answer(self, sock: socket.socket, context_id: int, rq: object, deadline: float) -> bool:
        from pydicom.dataset import Dataset

        assert isinstance(rq, Dataset)
        field = rq.get("CommandField")
        behaviour = self.server.behaviour
        if field == 0x0030:  # C-ECHO-RQ
            if behaviour == "store-rsp-for-echo":
                rsp = response(rq, C_STORE_RSP, 0x0000)
                return _send(sock, _command_pdu(context_id, encode_command(rsp)))
            if behaviour == "odd-length-echo-rsp":
                good = encode_command(response(rq, 0x8030, 0x0000))
                # Status (0000,0900), US, with an odd length of 3: no decoder can read it as a US
                at = good.find(struct.pack("<HH", 0x0000, 0x0900))
                bad = good[:at] + struct.pack("<HHI", 0x0000, 0x0900, 3) + b"\x00\x00\x00" + good[at + 10:]
                bad = struct.pack("<HHII", 0, 0, 4, len(bad) - 12) + bad[12:]
                return _send(sock, _command_pdu(context_id, bad))
            return _send(sock, _command_pdu(context_id, encode_command(response(rq, 0x8030, 0x0000))))
        if field in (0x0020, 0x0010, 0x0021):  # C-FIND, C-GET, C-MOVE: pending for ever (bounded here)
            if behaviour != "endless-pending":
                return _send(sock, _command_pdu(context_id, encode_command(response(rq, field | 0x8000, 0xA900))))
            pending = encode_command(response(rq, field | 0x8000 if field != 0x0020 else C_FIND_RSP, PENDING))
            pdu = _command_pdu(context_id, pending)
            count = 0
            while time.monotonic() < deadline and count < 2_000_000 and not self.server.stopping.is_set():
                if not _send(sock, pdu):
                    return False
                count += 1
            return False
        return _send(sock, _command_pdu(context_id, encode_command(response(rq, field | 0x8000, 0x0000))))


class HostileServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, behaviour: str, flood_bytes: int = 1 << 30) -> None:
        assert behaviour in BEHAVIOURS, behaviour
        super().__init__(("127.0.0.1", 0), Handler)
        self.behaviour = behaviour
        self.flood_bytes = flood_bytes
        self.connections = 0
        self.stopping = threading.Event()

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint("HOSTILE", "127.0.0.1", self.server_address[1])


@contextlib.contextmanager
def hostile(behaviour: str, flood_bytes: int = 1 << 30) -> Iterator[HostileServer]:
    """A hostile server in a daemon thread; stopped (and its connections told to end) on exit."""
    server = HostileServer(behaviour, flood_bytes)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


