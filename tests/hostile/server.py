"""A small hostile SCP on 127.0.0.1 for the bounds tests (issue 13): one behaviour per server.

Every loop here is bounded in count and in time (``LIFETIME``), and every socket wait has a
deadline, so nothing outlives the test that started it.
"""

from __future__ import annotations

import contextlib
import functools
import socket
import socketserver
import struct
import threading
import time
import zlib
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
              "odd-length-echo-rsp", "deflate-bomb", "trickle-get", "pdata-flood", "pdata-flood-small", "move-bomb")
DEFLATED = "1.2.840.10008.1.2.1.99"
BOMB_BYTES = 1536 * 1024 * 1024  # what the bomb inflates to (1.5 GiB)
SILENCE = 1.0  # "flood-on-silence": a connection that sends nothing this long is flooded; a request is served
TRICKLE_EVERY = 0.5  # seconds between two C-STORE sub-operations of "trickle-get" (under --timeout)


@functools.cache
def bomb() -> bytes:
    """A data set in Deflated Explicit VR Little Endian of ~1.5 MB that inflates to 1.5 GiB: one private
    OB element (0009,1010) of zeros, after a Query/Retrieve Level."""
    head = b"\x08\x00\x52\x00CS\x06\x00STUDY " + b"\x09\x00\x10\x10OB\x00\x00" + struct.pack("<L", BOMB_BYTES)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    out = [packer.compress(head)]
    zeros = bytes(1 << 24)
    out += [packer.compress(zeros) for _ in range(BOMB_BYTES // len(zeros))]
    out.append(packer.flush())
    return b"".join(out)


def store_request(sop_class: str, sop_instance: str, message_id: int = 1, **extra: object) -> bytes:
    """The command set of a C-STORE-RQ (with a data set)."""
    from pydicom.dataset import Dataset

    rq = Dataset()
    rq.CommandGroupLength = 0
    rq.AffectedSOPClassUID = sop_class
    rq.CommandField = 0x0001
    rq.MessageID = message_id
    rq.Priority = 0
    rq.CommandDataSetType = 0x0000
    rq.AffectedSOPInstanceUID = sop_instance
    for keyword, value in extra.items():
        setattr(rq, keyword, value)
    return encode_command(rq)


def store_bomb(port: int, called: str, stored: list[tuple[str, str]], deadline: float) -> int:
    """As a C-MOVE SCP would: one association to 127.0.0.1:``port``, each object of ``stored`` sent as a
    Deflated data set that inflates to 1.5 GiB. How many C-STORE-RSPs came back."""
    classes = sorted({c for c, _ in stored})
    contexts: list[it.Item] = [it.PresentationContextRQItem(2 * i + 1, [it.AbstractSyntaxSubItem(c), it.TransferSyntaxSubItem(DEFLATED)])
                               for i, c in enumerate(classes)]
    rq = pd.AAssociateRQ(called.ljust(16), "HOSTILE".ljust(16), [
        it.ApplicationContextItem(it.APPLICATION_CONTEXT), *contexts,
        it.UserInformationItem([it.MaximumLengthSubItem(16384), it.ImplementationClassUIDSubItem("1.2.826.0.1.3680043.9.9999")])])
    answered = 0
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    except OSError:
        return 0  # nobody listens (the pre-condition probe's C-MOVE): the C-MOVE fails its sub-operations
    with sock:
        if not _send(sock, rq.encode()):
            return 0
        ac = _read_pdu(sock, deadline)
        if ac is None or ac[:1] != b"\x02":
            return 0
        for n, (sop_class, uid) in enumerate(stored):
            context = 2 * classes.index(sop_class) + 1
            command = _command_pdu(context, store_request(sop_class, uid, n + 1, MoveOriginatorMessageID=1,
                                                          MoveOriginatorApplicationEntityTitle="DCMCONFORM"))
            data = b"".join(p.encode() for p in fragments(bomb(), context, False, 16384))
            if not _send(sock, command + data):
                break
            if _read_pdu(sock, deadline) is not None:
                answered += 1
        _send(sock, pd.AReleaseRQ().encode())
        _read_pdu(sock, deadline)
    return answered


def sub_operation(context_id: int, message_id: int) -> bytes:
    """A small C-STORE-RQ (Secondary Capture, Explicit VR LE) as a C-GET sub-operation: command, data set."""
    rq = store_request("1.2.840.10008.5.1.4.1.1.7", f"1.2.826.0.1.3680043.10.1482.99.{message_id}", message_id)
    data = b"\x08\x00\x16\x00UI\x1a\x00" + b"1.2.840.10008.5.1.4.1.1.7\x00"
    data += b"\x09\x00\x10\x10OB\x00\x00" + struct.pack("<L", 1024) + bytes(1024)
    command = b"".join(p.encode() for p in fragments(rq, context_id, True, 16384))
    return command + b"".join(p.encode() for p in fragments(data, context_id, False, 16384))


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


def _accept(rq: pd.AAssociateRQ, syntax: str = "") -> bytes:
    """Every context accepted, in its first proposed transfer syntax, or in ``syntax`` whatever was proposed."""
    contexts: list[it.Item] = [it.PresentationContextACItem(pc.context_id, 0, [it.TransferSyntaxSubItem(
                                   syntax or pc.transfer_syntaxes[0])]) for pc in rq.presentation_contexts]
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
    contexts: dict[int, str | None]  # context ID -> abstract syntax, of the A-ASSOCIATE-RQ

    def handle(self) -> None:
        sock: socket.socket = self.request
        deadline = time.monotonic() + LIFETIME
        behaviour = self.server.behaviour
        self.server.connections += 1
        first = _read_pdu(sock, time.monotonic() + SILENCE) if behaviour == "flood-on-silence" else None
        if behaviour == "flood-on-silence" and first is None:  # a connection that says nothing is flooded
            chunk = b"\x07" * 65536
            sent = 0
            while time.monotonic() < deadline and sent < self.server.flood_bytes and _send(sock, chunk):
                sent += len(chunk)
            return
        first = first or _read_pdu(sock, deadline)
        if first is None or first[:1] != b"\x01":
            return
        try:
            rq = pd.decode_pdu(first)
        except WireError:
            return
        assert isinstance(rq, pd.AAssociateRQ)
        ac = _accept(rq, DEFLATED if behaviour == "deflate-bomb" else "")
        self.contexts = {pc.context_id: pc.abstract_syntax for pc in rq.presentation_contexts}
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
        if behaviour in ("pdata-flood", "pdata-flood-small") and field == 0x0030:
            # Never-last P-DATA-TFs in answer to C-ECHO: 8 MB ones (over our maximum) or 16 KiB ones
            size = 8_000_000 if behaviour == "pdata-flood" else 16378
            pdu = pd.PDataTF([pd.PDV(context_id=context_id, control=0x01, data=b"\x00" * size)]).encode()
            sent = 0
            while time.monotonic() < deadline and sent < self.server.flood_bytes and not self.server.stopping.is_set():
                if not _send(sock, pdu):
                    return False
                sent += len(pdu)
            return False
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
        if behaviour == "deflate-bomb" and field == 0x0020:  # one pending C-FIND-RSP whose identifier is the bomb
            rsp = response(rq, C_FIND_RSP, PENDING)
            rsp.CommandDataSetType = 0x0000
            command = _command_pdu(context_id, encode_command(rsp))
            data = b"".join(p.encode() for p in fragments(bomb(), context_id, False, 16384))
            return _send(sock, command + data) and _send(
                sock, _command_pdu(context_id, encode_command(response(rq, C_FIND_RSP, 0x0000))))
        if field == 0x0001:  # C-STORE-RQ: kept in mind (move-bomb sends these objects back)
            self.server.stored.append((str(rq.get("AffectedSOPClassUID", "")), str(rq.get("AffectedSOPInstanceUID", ""))))
        if behaviour == "move-bomb" and field == 0x0021 and self.server.move_port:
            stored = list(self.server.stored) or [("1.2.840.10008.5.1.4.1.1.7", "1.2.826.0.1.3680043.10.1482.98.3")]
            done = store_bomb(self.server.move_port, str(rq.get("MoveDestination", "")), stored, deadline)
            final = response(rq, 0x8021, 0x0000, NumberOfRemainingSuboperations=0, NumberOfCompletedSuboperations=done,
                             NumberOfFailedSuboperations=len(stored) - done, NumberOfWarningSuboperations=0)
            return _send(sock, _command_pdu(context_id, encode_command(final)))
        if behaviour == "trickle-get" and field == 0x0010:  # C-STORE sub-operations for ever, no C-GET-RSP
            store = next((i for i, a in self.contexts.items() if a == "1.2.840.10008.5.1.4.1.1.7"), context_id)
            message_id = 100
            while time.monotonic() < deadline and message_id < 100_000 and not self.server.stopping.is_set():
                if not _send(sock, sub_operation(store, message_id)):
                    return False
                message_id += 1
                if self.server.stopping.wait(TRICKLE_EVERY):
                    break
            return False
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
        self.stored: list[tuple[str, str]] = []  # (SOP class, SOP instance) of the C-STORE-RQs it answered
        self.move_port = 0  # move-bomb: where our Move Destination listens

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


