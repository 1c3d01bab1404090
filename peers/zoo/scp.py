"""The zoo SCP: a small, strictly conformant Storage/Verification SCP on raw sockets.

It speaks through :mod:`dcmconform.wire` so each defect switch can break exactly one rule.
With no defect it is the suite's reference for "every check passes"; with a defect on, the
checks named in :mod:`dcmconform.peers.zoo.defects` must fail or warn.

Behaviour with no defect (PS3.8 9.2 state machine, 9.3 PDUs; PS3.7 Annex D):
- ARTIM: a connection that sends no complete A-ASSOCIATE-RQ within ``artim`` seconds is closed.
- A-ASSOCIATE-RQ checks in this order: protocol version bit 0 (RJ 1/2/2), application context
  (RJ 1/1/2), called AE title (RJ 1/1/7), calling AE title on the allow list (RJ 1/1/3), no
  presentation context (RJ 1/1/1), even/zero/duplicate context IDs (A-ABORT 2/6).
- Each context is answered once, same ID: 0 with the first proposed syntax it supports, 3 for an
  unknown abstract syntax, 4 when no transfer syntax is supported. Unknown items are ignored.
- In the association: C-ECHO, C-STORE (stored byte for byte under the storage folder),
  responses fragmented to the requestor's maximum length, P-DATA-TF over our own maximum or on
  an unaccepted context -> A-ABORT, A-RELEASE-RQ -> A-RELEASE-RP, an unexpected or unknown
  PDU -> A-ABORT (2/2 or 2/1), idle for ``idle`` seconds -> A-ABORT and close.
"""

from __future__ import annotations

import contextlib
import os
import socket
import socketserver
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filewriter import write_file_meta_info
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLosslessSV1,
    JPEGLSLossless,
    RLELossless,
)

from dcmconform.dimse.commands import (
    C_ECHO_RQ,
    C_ECHO_RSP,
    C_STORE_RQ,
    C_STORE_RSP,
    encode_command,
    response,
    response_field,
)
from dcmconform.dimse.pdv import Assembler, fragments
from dcmconform.peers.zoo import archive
from dcmconform.peers.zoo.defects import validate
from dcmconform.uids import OUR_ROOT, SECONDARY_CAPTURE, VERIFICATION
from dcmconform.wire import items as it
from dcmconform.wire import pdus as pd
from dcmconform.wire.errors import WireError

ZOO_IMPLEMENTATION_UID = f"{OUR_ROOT}.99"
ZOO_VERSION = "DCMCONFORM_ZOO"
TRANSFER_SYNTAXES = [
    ExplicitVRLittleEndian,  # Explicit VR Little Endian
    ImplicitVRLittleEndian,  # Implicit VR Little Endian
    DeflatedExplicitVRLittleEndian,  # Deflated Explicit VR Little Endian
    ExplicitVRBigEndian,  # Explicit VR Big Endian
    RLELossless,  # RLE Lossless
    JPEGBaseline8Bit,  # JPEG Baseline
    JPEGLosslessSV1,  # JPEG Lossless SV1
    JPEGLSLossless,  # JPEG-LS Lossless
    JPEG2000Lossless,  # JPEG 2000 Lossless
]
MAX_ASSOCIATE_RQ = 1024 * 1024  # like DCMTK's dcmAssociatePDUSizeLimit


def storage_sop_classes() -> list[str]:
    from pynetdicom import StoragePresentationContexts

    return [str(c.abstract_syntax) for c in StoragePresentationContexts]


@dataclass
class ZooConfig:
    ae_title: str = "ZOO"
    allowed_calling: frozenset[str] = frozenset({"DCMCONFORM"})
    defects: frozenset[str] = frozenset()
    storage: Path = Path("received")
    max_length: int = 16384
    artim: float = 2.0
    idle: float = 30.0
    move_destinations: dict[str, tuple[str, int]] = field(default_factory=dict)  # C-MOVE: AE title -> (host, port)
    abstract_syntaxes: frozenset[str] = field(default_factory=lambda: frozenset(
        [VERIFICATION, *storage_sop_classes(), *archive.SERVICE_CLASSES]))

    def __post_init__(self) -> None:
        self.defects = validate(self.defects)  # the switches: asking about a misspelt one raises


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
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    # Transport ---------------------------------------------------------------------------
    def send(self, pdu: pd.PDU) -> None:
        if "delay-40ms" in self.d and isinstance(pdu, pd.PDataTF):
            time.sleep(0.04)  # the defect itself: a Nagle/delayed-ACK style stall
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
                raise Closed
            got += chunk
        return bytes(got)

    def read_pdu(self, deadline: float | None, limit: int) -> tuple[int, bytes]:
        head = self.read_exact(pd.PDU_HEADER, deadline)
        code, length = pd.header(head)
        if length > limit:
            return code, head  # caller decides; the body is never read (no pre-allocation)
        return code, head + self.read_exact(length, deadline)

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

    # Association establishment ---------------------------------------------------------
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
        artim = None if "never-close-idle" in self.d else time.monotonic() + self.cfg.artim
        if "ignore-pdu-length" in self.d:
            code, data = self.read_what_came(artim)
        else:
            code, data = self.read_pdu(artim, MAX_ASSOCIATE_RQ)
        if code != 0x01:
            if ("ignore-unknown-pdu-type" if code not in pd.PDU_NAMES else "silent-on-unexpected-pdu") in self.d:
                self.stall()
            # Sta2 + anything but A-ASSOCIATE-RQ: AA-1 (A-ABORT) or AA-4/unrecognized (PS3.8 Table 9-10)
            self.abort(2, 1 if code not in pd.PDU_NAMES else 2)
        if len(data) == pd.PDU_HEADER and pd.header(data)[1] > 0:
            self.abort(2, 6)  # longer than any A-ASSOCIATE-RQ we accept: refuse, never allocate
        if "crash-on-large-rq" in self.d and len(data) > 24 * 1024:
            os._exit(70)  # the defect: die like a buffer overflow would
        if "abort-rq-over-8k" in self.d and len(data) > 8 * 1024:
            self.abort(2, 6)
        try:
            rq = pd.decode_pdu(data)
        except WireError:
            if "silent-on-malformed-rq" in self.d:
                self.stall()
            self.abort(2, 6)
        assert isinstance(rq, pd.AAssociateRQ)
        self.answer(rq)

    def reject(self, result: int, source: int, reason: int) -> None:
        with contextlib.suppress(OSError):
            self.send(pd.AAssociateRJ(result, source, reason))
        raise Closed

    def answer(self, rq: pd.AAssociateRQ) -> None:
        d = self.d
        calling = rq.calling_ae.strip(" ")
        if "silent-on-empty-calling-ae" in d and not rq.calling_ae.strip(" \x00"):
            self.read_exact(1, None if "never-close-idle" in d else time.monotonic() + 3600)
        user = rq.user_information
        if "crash-without-user-info" in d and user is None:
            os._exit(72)  # the defect: a null dereference
        if "hang-up-without-implementation-uid" in d and rq.implementation_class_uid is None:
            raise Closed
        if "crash-on-long-version-name" in d and len(rq.implementation_version_name or "") > 16:
            os._exit(73)  # the defect: the name copied into a 16-byte buffer
        if "reject-everything" in d:
            self.reject(1, 1, 1)
        if not rq.protocol_version & 1 and "accept-any-protocol-version" not in d:
            self.reject(1, 2, 2)
        if "strict-protocol-version" in d and rq.protocol_version != 1:
            self.reject(1, 2, 2)
        if rq.application_context != it.APPLICATION_CONTEXT and "ignore-application-context" not in d:
            self.reject(1, 1, 2)
        called = rq.called_ae.rstrip(" ") if "called-ae-leading-spaces-significant" in d else rq.called_ae.strip(" ")
        if "called-ae-case-insensitive" in d:
            called = self.cfg.ae_title if called.upper() == self.cfg.ae_title.upper() else called
        if called != self.cfg.ae_title and "accept-wrong-called-ae" not in d:
            self.reject(1, 1, 7)
        if calling not in self.cfg.allowed_calling and "accept-any-calling-ae" not in d:
            self.reject(1, 1, 3)
        contexts = rq.presentation_contexts
        if not contexts and "accept-no-context" not in d:
            self.reject(1, 1, 1)
        ids = [pc.context_id for pc in contexts]
        bad_id = any(i % 2 == 0 for i in ids) and "accept-even-context-id" not in d
        duplicate = len(set(ids)) != len(ids) and "answer-duplicate-id-twice" not in d
        descending = "require-ascending-context-ids" in d and ids != sorted(ids)
        if bad_id or duplicate or descending:
            self.abort(2, 6)
        if self.refuses(rq):
            self.abort(2, 6)
        subs = user.items if user is not None else []
        unknown_sub = "abort-on-unknown-sub-item" in d and any(isinstance(i, it.UnknownItem) for i in subs)
        unknown_item = "abort-on-unknown-item" in d and any(isinstance(i, it.UnknownItem) for i in rq.items)
        if unknown_sub or unknown_item:
            self.abort(2, 4)
        if ("abort-on-extended-negotiation" in d and any(isinstance(i, it.SOPClassExtendedNegotiationSubItem) for i in subs)
                or "abort-on-async-window" in d and any(isinstance(i, it.AsyncOperationsWindowSubItem) for i in subs)):
            self.abort(2, 5)
        if "reject-small-max-length" in d and 0 < (rq.maximum_length or 0) < 1024:
            self.reject(1, 1, 1)
        self.peer_max = rq.maximum_length or 0
        self.calling_ae = calling
        self.send(self.accept(rq))

    def refuses(self, rq: pd.AAssociateRQ) -> bool:
        """The defects that test fields the standard says not to test, or misread a maximum length."""
        d, maximum = self.d, rq.maximum_length
        if "check-reserved-fields" in d and (rq.header_reserved or rq.reserved_after_version or any(rq.reserved_block)):
            return True
        if "check-item-reserved-bytes" in d:
            everything = [*rq.items, *(sub for item in rq.items for sub in getattr(item, "items", []))]
            if any(i.header_reserved for i in everything) or any(pc.reserved != (0, 0, 0) for pc in rq.presentation_contexts):
                return True
        return ("zero-max-length-aborts" in d and maximum == 0) or ("max-length-overflow" in d and (maximum or 0) >= 1 << 31)

    def accept(self, rq: pd.AAssociateRQ) -> pd.AAssociateAC:
        d = self.d
        answers: list[it.Item] = []
        refused = {VERIFICATION} if "no-verification" in d else set()
        refused |= {SECONDARY_CAPTURE} if "no-secondary-capture" in d else set()
        for pc in rq.presentation_contexts:
            abstract, proposed = pc.abstract_syntax, pc.transfer_syntaxes
            if "max-64-transfer-syntaxes" in d:
                proposed = proposed[:64]
            common = [ts for ts in proposed if ts in TRANSFER_SYNTAXES]
            if "context-id-signed-byte" in d and pc.context_id > 127:
                result, ts = 2, (proposed or [TRANSFER_SYNTAXES[1]])[0]  # the defect: a "negative" ID
            elif abstract not in self.cfg.abstract_syntaxes or abstract in refused:
                result, ts = (1 if "wrong-result-unknown-abstract" in d else 3), (proposed or [TRANSFER_SYNTAXES[1]])[0]
            elif not common and "accept-unproposed-ts" not in d:
                result, ts = (3 if "wrong-result-unsupported-ts" in d else 4), (proposed or [TRANSFER_SYNTAXES[1]])[0]
            else:
                result, ts = 0, (TRANSFER_SYNTAXES[0] if "accept-unproposed-ts" in d or not common else common[0])
            if result == 0:
                self.accepted[pc.context_id] = (abstract or "", ts)
            cid = (pc.context_id + 2) % 256 if "renumber-contexts-in-ac" in d else pc.context_id
            answers.append(it.PresentationContextACItem(cid, result, [it.TransferSyntaxSubItem(ts)]))
        if "drop-context-in-ac" in d and answers:
            answers.pop()
        if "reverse-contexts-in-ac" in d:
            answers.reverse()
        if "hang-up-when-nothing-accepted" in d and not self.accepted:
            raise Closed  # the defect: the node hangs up without a word
        user: list[it.Item] = [it.MaximumLengthSubItem(self.cfg.max_length)]
        if "no-implementation-uid-in-ac" not in d:
            user.append(it.ImplementationClassUIDSubItem(ZOO_IMPLEMENTATION_UID))
        windows = rq.user_information.find(it.AsyncOperationsWindowSubItem) if rq.user_information else []
        for window in windows:
            bigger = "async-window-answer-too-large" in d
            user.append(it.AsyncOperationsWindowSubItem(window.invoked + 1, window.performed + 1) if bigger  # type: ignore[attr-defined]
                        else it.AsyncOperationsWindowSubItem(1, 1))
        for role in rq.role_selections:
            # The SCP role for a storage class is the C-GET sub-operations' (archive.get).
            scp = role.scp_role if role.sop_class_uid in self.cfg.abstract_syntaxes else 0
            granted = (1, 1) if "grant-unproposed-role" in d else (role.scu_role, scp)
            user.append(it.RoleSelectionSubItem(role.sop_class_uid, *granted))
        if "role-item-without-request" in d and not rq.role_selections:
            user += [it.RoleSelectionSubItem(a, 1, 0) for a, _ in self.accepted.values() if a != VERIFICATION]
        user.append(it.ImplementationVersionNameSubItem(ZOO_VERSION))
        items: list[it.Item] = [it.ApplicationContextItem(it.APPLICATION_CONTEXT), *answers, it.UserInformationItem(user)]
        if "swap-ae-titles-in-ac" in d:
            return pd.AAssociateAC(rq.calling_ae, rq.called_ae, items)
        return pd.AAssociateAC(rq.called_ae, rq.calling_ae, items)

    # Data transfer -----------------------------------------------------------------------
    def serve(self) -> None:
        while True:
            limit = MAX_ASSOCIATE_RQ if "tolerate-oversized-pdata" in self.d else self.cfg.max_length + 6
            code, data = self.read_pdu(time.monotonic() + self.cfg.idle, limit)
            if code == 0x04 and len(data) == pd.PDU_HEADER and pd.header(data)[1] > 0:
                self.abort(2, 6)  # P-DATA-TF over our maximum length (PS3.8 D.1)
            if "abort-pdata-at-max" in self.d and code == 0x04 and pd.header(data)[1] >= self.cfg.max_length:
                self.abort(2, 6)  # the defect: an off-by-one in the length comparison
            if code not in pd.PDU_NAMES:
                if "ignore-unknown-pdu-type" in self.d:
                    continue
                self.abort(2, 1)
            try:
                pdu = pd.decode_pdu(data)
            except WireError:
                self.abort(2, 6)
            if isinstance(pdu, pd.PDataTF):
                self.data(pdu)
            elif isinstance(pdu, pd.AReleaseRQ):
                if "release-answered-with-abort" in self.d:
                    self.abort(2, 0)
                self.send(pd.AReleaseRP())
                raise Closed
            elif isinstance(pdu, pd.AAbort):
                if "die-on-abort" in self.d:
                    os._exit(74)  # the defect: freeing the association twice
                if "die-on-abort-mid-data-set" in self.d and self.assembler.partial:
                    os._exit(75)  # the defect: freeing a half-received data set twice
                raise Closed
            elif "silent-on-unexpected-pdu" not in self.d:
                self.abort(2, 2)

    def data(self, pdu: pd.PDataTF) -> None:
        archive.check_fragments(self, pdu)
        for pdv in pdu.pdvs:
            if pdv.context_id not in self.accepted:
                self.abort(2, 6)
            message = self.assembler.feed_pdv(pdv)
            if message is None or (pdv.is_command and not message.complete):
                continue
            if message.orphan:
                self.abort(2, 2)
            if message.command is None:
                raise Closed  # a command set that does not decode: hang up
            self.dispatch(message.context_id, message.command, message.dataset)

    def dispatch(self, context_id: int, command: Dataset, dataset: bytes | None) -> None:
        field_ = command.get("CommandField")
        if field_ == C_ECHO_RQ:
            status = 0x0211 if "echo-status-failure" in self.d else 0x0000
            self.respond(context_id, response(command, C_ECHO_RSP, status))
        elif field_ in archive.HANDLED:
            archive.handle(self, context_id, command, dataset)
        elif field_ == C_STORE_RQ and dataset is not None:
            self.respond(context_id, self.store(context_id, command, dataset))
        else:
            self.respond(context_id, response(command, response_field(field_ or 0), 0x0211))

    def store(self, context_id: int, command: Dataset, dataset: bytes) -> Dataset:
        refused = archive.store_refusal(self, context_id, command, dataset)
        if refused is not None:
            return response(command, C_STORE_RSP, refused)
        if "lose-stored-object" not in self.d:
            abstract, ts = self.accepted[context_id]
            meta = FileMetaDataset()
            meta.MediaStorageSOPClassUID = command.AffectedSOPClassUID
            meta.MediaStorageSOPInstanceUID = command.AffectedSOPInstanceUID
            meta.TransferSyntaxUID = ts
            meta.ImplementationClassUID = ZOO_IMPLEMENTATION_UID
            name = "".join(c for c in str(command.AffectedSOPInstanceUID) if c.isdigit() or c == ".") or "unnamed"
            self.cfg.storage.mkdir(parents=True, exist_ok=True)
            with open(self.cfg.storage / f"{name}.dcm", "wb") as fp:
                fp.write(b"\x00" * 128 + b"DICM")
                write_file_meta_info(fp, meta)  # type: ignore[arg-type]
                fp.write(dataset)
        if "b000-without-comment" in self.d:
            return response(command, C_STORE_RSP, 0xB000)
        return response(command, C_STORE_RSP, 0x0000)

    def respond(self, context_id: int, rsp: Dataset) -> None:
        if "wrong-message-id-responded" in self.d:
            rsp.MessageIDBeingRespondedTo = (rsp.MessageIDBeingRespondedTo + 1) & 0xFFFF
        for pdu in self.cut(encode_command(rsp), context_id):
            self.send(pdu)

    def cut(self, data: bytes, context_id: int, command: bool = True) -> list[pd.PDataTF]:
        """One command (or data set) as P-DATA-TFs that fit the requestor's maximum length."""
        limit = self.peer_max if self.peer_max and "ignore-max-pdu" not in self.d else 0
        return fragments(data, context_id, command, limit)


_ONE_AT_A_TIME = threading.Lock()  # defect serve-one-connection-at-a-time


class _Handler(socketserver.BaseRequestHandler):
    server: ZooServer

    def handle(self) -> None:
        serial = "serve-one-connection-at-a-time" in self.server.config.defects
        with _ONE_AT_A_TIME if serial else contextlib.nullcontext():
            ZooConnection(self.request, self.server.config, self.server).run()


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
