"""Hostile nodes with a handler of their own (issue 28), on the hostile server of :mod:`tests.hostile.server`.

:class:`EchoingHandler` quotes the credentials it was sent: in its A-ASSOCIATE-AC (a 59H server response
holding the passcode, and the passcode as its version name when short enough) and in the Error Comment of
every response (a C-ECHO-RSP of success, a failure to anything else: the passcode as text, in hex and in
base64), as a node that logs or echoes what it received would."""

from __future__ import annotations

import base64
import contextlib
import socket
import time
from collections.abc import Iterator

from pydicom.dataset import Dataset

from dcmconform.dimse.commands import encode_command, response
from dcmconform.wire import items as it
from dcmconform.wire import pdus as pd
from dcmconform.wire.errors import WireError
from tests.hostile.server import LIFETIME, Handler, HostileServer, _accept, _command_pdu, _read_pdu, _send, hostile


def quoted(secret: bytes) -> str:
    return f"user rejected: {secret.decode()} {secret.hex()} {base64.b64encode(secret).decode()}"


@contextlib.contextmanager
def serving(handler: type[Handler]) -> Iterator[HostileServer]:
    """A hostile server whose connections ``handler`` serves."""
    with hostile("drip-ac") as server:  # (a behaviour the base class knows; the handler has its own)
        server.RequestHandlerClass = handler
        yield server


class RequestHandler(Handler):
    """A node that reads the A-ASSOCIATE-RQ, then :meth:`associate` answers it (and serves, or not)."""

    def handle(self) -> None:
        sock: socket.socket = self.request
        deadline = time.monotonic() + LIFETIME
        first = _read_pdu(sock, deadline)
        if first is None or first[:1] != b"\x01":
            return
        try:
            rq = pd.decode_pdu(first)
        except WireError:
            return
        if isinstance(rq, pd.AAssociateRQ) and _send(sock, self.associate(rq)):
            self._serve(sock, deadline)

    def associate(self, rq: pd.AAssociateRQ) -> bytes:
        """The answer to ``rq``: every context accepted in its first transfer syntax."""
        return _accept(rq)


class EchoingHandler(RequestHandler):
    secret = b""  # what the last request carried as its passcode

    def associate(self, rq: pd.AAssociateRQ) -> bytes:
        given = rq.user_information.find(it.UserIdentityRQSubItem) if rq.user_information else []
        self.secret = given[0].secondary if given else b""  # type: ignore[attr-defined]
        contexts: list[it.Item] = [it.PresentationContextACItem(pc.context_id, 0, [it.TransferSyntaxSubItem(
            pc.transfer_syntaxes[0])]) for pc in rq.presentation_contexts]
        version = self.secret.decode() if 4 <= len(self.secret) <= 16 else "ECHO"
        user = it.UserInformationItem([it.MaximumLengthSubItem(16384),
                                       it.ImplementationClassUIDSubItem("1.2.826.0.1.3680043.9.9999"),
                                       it.UserIdentityACSubItem(self.secret), it.ImplementationVersionNameSubItem(version)])
        return pd.AAssociateAC(rq.called_ae, rq.calling_ae, [it.ApplicationContextItem(it.APPLICATION_CONTEXT),
                                                             *contexts, user]).encode()

    def _answer(self, sock: socket.socket, context_id: int, rq: object, deadline: float) -> bool:
        assert isinstance(rq, Dataset)
        field = rq.get("CommandField") | 0x8000
        rsp = response(rq, field, 0x0000 if field == 0x8030 else 0xC000, ErrorComment=quoted(self.secret))
        return _send(sock, _command_pdu(context_id, encode_command(rsp)))
