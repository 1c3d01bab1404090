"""The zoo SCP: a small, strictly conformant Storage/Verification SCP and archive on raw sockets.

It speaks through :mod:`dcmconform.wire` so each defect switch can break exactly one rule.
With no defect it is the suite's reference for "every check passes"; with a defect on, the
checks named in :mod:`dcmconform.peers.zoo.defects` must fail or warn.

This module is the server and each connection's upper-layer state machine (PS3.8 9.2): reading
PDUs, ARTIM, the idle timer, sending. What it answers lives with the job:
:mod:`.negotiation` (the A-ASSOCIATE-RQ), :mod:`.services` (the DIMSE requests), :mod:`.config`.

Behaviour with no defect:
- ARTIM: a connection that sends no complete A-ASSOCIATE-RQ within ``artim`` seconds is closed.
- Before the association (Sta2) anything but an A-ASSOCIATE-RQ is answered A-ABORT (2/2, or 2/1
  for an unknown PDU type); a request over 1 MB or one that does not decode, A-ABORT 2/6.
- In the association (Sta6): P-DATA-TF (responses fragmented to the requestor's maximum length),
  P-DATA-TF over our own maximum or on an unaccepted context -> A-ABORT, A-RELEASE-RQ ->
  A-RELEASE-RP, an unexpected or unknown PDU -> A-ABORT (2/2 or 2/1), idle for ``idle`` seconds ->
  A-ABORT and close.

Each defect here overrides one of these steps and is named where it does.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import socketserver
import threading
import time

from pydicom.dataset import Dataset

import dcmconform.peers.zoo.limit as limit
import dcmconform.peers.zoo.load as load
import dcmconform.peers.zoo.planted as planted
import dcmconform.peers.zoo.vulnerable as vulnerable
from dcmconform.dimse.commands import DATA_SET_PRESENT, decode_command, encode_command
from dcmconform.dimse.pdv import Assembler, fragments
from dcmconform.peers.zoo import negotiation, services, tls
from dcmconform.peers.zoo.config import MAX_ASSOCIATE_RQ, ZooConfig
from dcmconform.wire import pdus as pd
from dcmconform.wire.errors import WireError

__all__ = ["Closed", "ZooConfig", "ZooConnection", "ZooServer", "serve_in_thread"]

A_ASSOCIATE_RQ, P_DATA_TF = 0x01, 0x04

# Defect -> (size over which it acts on an A-ASSOCIATE-RQ, what it does), before decoding it.
LARGE_RQ = {
    "crash-on-large-rq": (24 * 1024, negotiation.crash(70)),  # die like a buffer overflow would
    "abort-rq-over-8k": (8 * 1024, negotiation.abort(2, 6)),
}

# Defect -> the faults in reassembly (PS3.8 Annex E) it aborts (2/6) although the standard allows them.
FRAGMENT_FAULTS = {
    "one-pdv-per-pdu": lambda pdu: len(pdu.pdvs) > 1,
    "command-fragments-unsupported": lambda pdu: any(p.is_command and not p.is_last for p in pdu.pdvs),
    # as if each fragment had to hold whole tags and lengths
    "aligned-fragments-only": lambda pdu: any(len(p.data) % 4 for p in pdu.pdvs if not p.is_last),
}


class Closed(Exception):
    """The peer closed, or we gave up on it; end this connection."""


class ZooConnection:
    """One TCP connection through the upper-layer state machine."""

    def __init__(self, sock: socket.socket, config: ZooConfig, server: ZooServer) -> None:
        self.sock = sock
        self.cfg = config
        self.server = server
        self.d = config.defects
        self.peer_max = 0
        self.accepted: dict[int, tuple[str, str]] = {}  # context ID -> (abstract, transfer syntax)
        self.assembler = Assembler()
        self.calling_ae = ""
        self.released = False  # it ended with A-RELEASE (peers/zoo/limit.py)
        self.received = 0  # bytes received so far
        self.partial = False  # the peer closed in the middle of a PDU (peers/zoo/planted.py)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if "one-sender-at-a-time" in self.d:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SENDER_BUFFER)  # a fixed buffer: it fills soon

    # Transport ---------------------------------------------------------------------------
    def send(self, pdu: pd.PDU) -> None:
        if "delay-40ms" in self.d and isinstance(pdu, pd.PDataTF):
            time.sleep(0.04)  # the defect itself: a Nagle/delayed-ACK style stall
        if "latency-grows-with-load" in self.d and isinstance(pdu, pd.PDataTF):
            time.sleep(load.load_delay())
        with _ONE_SENDER if "one-sender-at-a-time" in self.d else contextlib.nullcontext():
            self.sock.sendall(pdu.encode())

    def read_exact(self, n: int, deadline: float | None) -> bytes:
        got = bytearray()
        while len(got) < n:
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError
                self.sock.settimeout(remaining)
            else:
                self.sock.settimeout(None)
            chunk = self.sock.recv(min(n - len(got), 1 << 20))
            if not chunk:
                if limit.BARE_CONNECT in self.d and not self.received:
                    os._exit(76)  # the defect: a health check's bare connect kills the node
                self.partial = self.partial or bool(got)
                raise Closed
            self.received += len(chunk)
            if "throughput-cap" in self.d:
                load.throttle(len(chunk))
            got += chunk
        return bytes(got)

    def read_pdu(self, deadline: float | None, limit: int) -> tuple[int, bytes]:
        head = self.read_exact(pd.PDU_HEADER, deadline)
        code, length = pd.header(head)
        vulnerable.check_length(self.d, length)
        planted.check_header(self.d, code, length, self.cfg.max_length)
        if length > limit:
            return code, head  # caller decides; the body is never read (no pre-allocation)
        try:
            return code, head + self.read_exact(length, deadline)
        except Closed:
            self.partial = self.partial or length > 0
            raise

    def read_what_came(self, deadline: float | None) -> tuple[int, bytes]:
        """Defect ignore-pdu-length: a PDU header, then whatever arrives within 0.3 s, length field ignored."""
        head = self.read_exact(pd.PDU_HEADER, deadline)
        body = bytearray()
        self.sock.settimeout(0.3)
        with contextlib.suppress(TimeoutError):
            while chunk := self.sock.recv(1 << 16):
                body += chunk
        return head[0], head[:2] + len(body).to_bytes(4, "big") + bytes(body)

    def stall(self) -> None:
        """Say nothing (the defects that go silent): swallow what arrives until the peer closes."""
        while True:
            self.read_exact(1, None)

    def abort(self, source: int = 2, reason: int = 0) -> None:
        with contextlib.suppress(OSError):
            self.send(pd.AAbort(source, reason))
        raise Closed

    def reject(self, result: int, source: int, reason: int) -> None:
        with contextlib.suppress(OSError):
            self.send(pd.AAssociateRJ(result, source, reason))
        raise Closed

    # Association establishment (Sta2) --------------------------------------------------------
    def run(self) -> None:
        try:
            self.establish()
            self.serve()
        except (Closed, TimeoutError, OSError):
            pass
        finally:
            with contextlib.suppress(OSError):
                self.sock.close()

    def establish(self) -> None:
        """Sta2: the A-ASSOCIATE-RQ within ARTIM (PS3.8 9.1.5), else close; then answer it (AE-6)."""
        d = self.d
        # workers-held-before-request: its workers wait for the request with no deadline either
        held = "workers-held-before-request" in d
        artim = None if "never-close-idle" in d or held else time.monotonic() + self.cfg.artim
        if "ignore-pdu-length" in d:
            code, data = self.read_what_came(artim)
        else:
            code, data = self.read_pdu(artim, MAX_ASSOCIATE_RQ)
        if code != A_ASSOCIATE_RQ:
            # Sta2 + anything but A-ASSOCIATE-RQ: AA-1 (A-ABORT) or AA-4/unrecognized (PS3.8 Table 9-10).
            # Overrides: ignore-unknown-pdu-type, silent-on-unexpected-pdu say nothing instead.
            known = code in pd.PDU_NAMES
            if ("silent-on-unexpected-pdu" if known else "ignore-unknown-pdu-type") in d:
                self.stall()
            self.abort(2, 2 if known else 1)
        if len(data) == pd.PDU_HEADER and pd.header(data)[1] > 0:
            self.abort(2, 6)  # longer than any A-ASSOCIATE-RQ we accept: refuse, never allocate
        for name, (size, outcome) in LARGE_RQ.items():
            if name in d and len(data) > size:
                outcome(self)
        try:
            rq = pd.decode_pdu(data)
        except WireError:
            if "silent-on-malformed-rq" in d:
                self.stall()
            self.abort(2, 6)  # PS3.8 Table 9-26: invalid PDU parameter value
        assert isinstance(rq, pd.AAssociateRQ)
        if planted.CRASH in d and planted.crashes_on(rq):
            planted.crash()
        ac = negotiation.answer(self, rq)
        self.peer_max = rq.maximum_length or 0
        self.calling_ae = negotiation.calling_ae(rq)
        self.send(ac)

    # Data transfer (Sta6) --------------------------------------------------------------------
    def serve(self) -> None:
        """Sta6 until released, aborted or idle (PS3.8 Table 9-10)."""
        d = self.d
        while True:
            limit = MAX_ASSOCIATE_RQ if "tolerate-oversized-pdata" in d else self.cfg.max_length + 6
            code, data = self.read_pdu(time.monotonic() + self.cfg.idle, limit)
            if code == P_DATA_TF and len(data) == pd.PDU_HEADER and pd.header(data)[1] > 0:
                self.abort(2, 6)  # P-DATA-TF over our maximum length (PS3.8 D.1)
            if "abort-pdata-at-max" in d and code == P_DATA_TF and pd.header(data)[1] >= self.cfg.max_length:
                self.abort(2, 6)  # the defect: an off-by-one in the length comparison
            if planted.HANG in d and code == P_DATA_TF and planted.overruns(data):
                planted.wedge()
                self.stall()
            if code not in pd.PDU_NAMES:
                if "ignore-unknown-pdu-type" in d:
                    continue
                self.abort(2, 1)  # AA-4: unrecognized PDU
            try:
                pdu = pd.decode_pdu(data)
            except WireError:
                self.abort(2, 6)
            if isinstance(pdu, pd.PDataTF):
                self.data(pdu)
            elif isinstance(pdu, pd.AReleaseRQ):
                self.release()
            elif isinstance(pdu, pd.AAbort):
                self.aborted()
            elif "silent-on-unexpected-pdu" not in d:
                self.abort(2, 2)  # AA-1: unexpected PDU

    def release(self) -> None:
        """A-RELEASE-RQ: A-RELEASE-RP and close (AR-2, AR-4). Override: release-answered-with-abort."""
        if "release-answered-with-abort" in self.d:
            self.abort(2, 0)
        self.send(pd.AReleaseRP())
        self.released = True
        raise Closed

    def aborted(self) -> None:
        """A-ABORT from the requestor: close (AA-3). Overrides: the defects that die on it."""
        if "die-on-abort" in self.d:
            os._exit(74)  # the defect: freeing the association twice
        if "die-on-abort-mid-data-set" in self.d and self.assembler.partial:
            os._exit(75)  # the defect: freeing a half-received data set twice
        if "keep-open-after-abort" in self.d:
            self.stall()  # the defect: the connection stays open until the requestor closes it
        raise Closed

    def data(self, pdu: pd.PDataTF) -> None:
        """P-DATA-TF (DT-2): PDVs joined into messages (PS3.8 Annex E); PDVs on a context that was not
        accepted -> A-ABORT 2/6; a data set without its command -> A-ABORT 2/2."""
        for name, fault in FRAGMENT_FAULTS.items():
            if name in self.d and fault(pdu):
                self.abort(2, 6)
        for pdv in pdu.pdvs:
            if pdv.context_id not in self.accepted:
                self.abort(2, 6)
            if pdv.is_command:
                vulnerable.check_command(self.d, pdv.data)
                if vulnerable.DEAF in self.d and vulnerable.malformed(pdv.data):
                    self.stall()  # the defect: this association's thread is gone, nothing answers on it
            message = self.assembler.feed_pdv(pdv)
            if message is None or (pdv.is_command and not message.complete):
                continue
            if message.orphan:
                self.abort(2, 2)
            if message.command is None:
                raise Closed  # a command set that does not decode: hang up
            services.dispatch(self, message.context_id, message.command, message.dataset)

    # Talking while serving one request ------------------------------------------------------------
    def respond(self, context_id: int, rsp: Dataset) -> None:
        if "wrong-message-id-responded" in self.d:
            rsp.MessageIDBeingRespondedTo = (rsp.MessageIDBeingRespondedTo + 1) & 0xFFFF
        for pdu in self.cut(encode_command(rsp), context_id):
            self.send(pdu)

    def send_message(self, context_id: int, command: Dataset, data: bytes | None) -> None:
        """A command and its data set, if any."""
        if data is not None:
            command.CommandDataSetType = DATA_SET_PRESENT
        self.respond(context_id, command)
        if data is not None:
            for pdu in self.cut(data, context_id, command=False):
                self.send(pdu)

    def cut(self, data: bytes, context_id: int, command: bool = True) -> list[pd.PDataTF]:
        """One command (or data set) as P-DATA-TFs that fit the requestor's maximum length.
        Override: ignore-max-pdu."""
        limit = self.peer_max if self.peer_max and "ignore-max-pdu" not in self.d else 0
        return fragments(data, context_id, command, limit)

    def next_command(self, deadline: float, wait: bool = True) -> Dataset | None:
        """The next whole command set from the requestor (data sets skipped); ``None`` if none waits.

        With ``wait`` False, returns ``None`` at once unless bytes are already there (C-CANCEL poll).
        """
        assembler = Assembler()
        while True:
            if not wait and not assembler.partial:
                readable, _, _ = select.select([self.sock], [], [], 0)
                if not readable:
                    return None
            code, data = self.read_pdu(deadline, self.cfg.max_length + 6)
            if code != P_DATA_TF or len(data) == pd.PDU_HEADER:
                self.abort(2, 2)
            pdu = pd.decode_pdu(data)
            assert isinstance(pdu, pd.PDataTF)
            for pdv in pdu.pdvs:
                message = assembler.feed_pdv(pdv) if pdv.is_command else None
                if message is not None:
                    return decode_command(message.command_bytes)


_ONE_AT_A_TIME = threading.Lock()  # defect serve-one-connection-at-a-time
_ONE_SENDER = threading.Lock()  # defect one-sender-at-a-time
SENDER_BUFFER = 16384
# Defect die-on-association-burst: more connections than this within BURST_WINDOW seconds kill the node. Counted
# as they arrive, not as they are up at once: how many of a burst overlap depends on how fast this process
# accepts them (a listen backlog of 5), which a loaded machine decides (it passed ROBUST-003 once in CI).
BURST_LIMIT = 16
BURST_WINDOW = 10.0
_ARRIVALS: list[float] = []
_ARRIVALS_LOCK = threading.Lock()


def _arrived() -> int:
    """Count this connection, and return how many arrived within the last BURST_WINDOW seconds."""
    now = time.monotonic()
    with _ARRIVALS_LOCK:
        _ARRIVALS.append(now)
        _ARRIVALS[:] = [t for t in _ARRIVALS if now - t <= BURST_WINDOW]
        return len(_ARRIVALS)
# Defect workers-held-before-request: 8 workers, each taken by a connection from its first byte on.
WORKERS = 8
_WORKERS = threading.BoundedSemaphore(WORKERS)


class _Handler(socketserver.BaseRequestHandler):
    server: ZooServer

    def handle(self) -> None:
        serial = "serve-one-connection-at-a-time" in self.server.config.defects
        limited = limit.DEFECT in self.server.config.defects
        if limited and not limit.admit(self.request):
            return
        hang = "hang-at-4-associations" in self.server.config.defects
        if not planted.serving():
            planted.refuse(self.request)  # a planted bug broke the node until its watchdog restarts it
            return
        sock = self.request
        if self.server.config.tls is not None:
            sock = tls.accept(sock, self.server.config)
            if sock is None:
                return
        else:
            tls.plaintext_port_greeting(sock, self.server.config)
        pooled = "workers-held-before-request" in self.server.config.defects
        with _ONE_AT_A_TIME if serial else _WORKERS if pooled else contextlib.nullcontext():
            conn = ZooConnection(sock, self.server.config, self.server)
            try:
                up = load.enter()
                if "die-on-association-burst" in self.server.config.defects and _arrived() > BURST_LIMIT:
                    os._exit(79)  # the defect: a thread it cannot start takes the whole process down
                if up > load.HANG_AT and hang:
                    with contextlib.suppress(Closed, OSError):
                        conn.stall()  # the defect: no answer at the limit, not A-ASSOCIATE-RJ 2/3/2
                    return
                conn.run()
            finally:
                if planted.LEAK in self.server.config.defects and conn.partial:
                    planted.leaked()
                load.leave()
                if limited:
                    limit.release(conn.released)


class ZooServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], config: ZooConfig) -> None:
        self.config = config
        super().__init__(address, _Handler)


def serve_in_thread(config: ZooConfig, host: str = "127.0.0.1", port: int = 0) -> tuple[ZooServer, threading.Thread]:
    server = ZooServer((host, port), config)
    thread = threading.Thread(target=server.serve_forever, name="zoo-scp", daemon=True)
    thread.start()
    return server, thread
