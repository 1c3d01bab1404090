"""The embedded default target: a reference SCP built on pynetdicom, a small archive.

Verification plus every storage SOP class pynetdicom knows, each with the uncompressed transfer
syntaxes and the common lossless/lossy ones (SCP/SCU role selection accepted, for C-GET), and
Patient and Study Root Query/Retrieve FIND and GET over what it stored (no C-MOVE; see
:mod:`dcmconform.peers.pynetdicom_archive`); checks the called AE title (so a wrong one is
rejected with 1/1/7); stores what it receives under its folder. Runs as its own process
(``python -m dcmconform.peers.pynetdicom_scp``) so that a crash is a finding, not ours.
"""

from __future__ import annotations

import argparse
import copy
import signal
import socket
import sys
from pathlib import Path
from typing import Any

from dcmconform.net.target import Endpoint
from dcmconform.peers.base import Launch, ProcessPeer
from dcmconform.peers.certificates import PeerCertificates, from_arguments


class PynetdicomPeer(ProcessPeer):
    name = "pynetdicom"
    package = "pynetdicom"
    program = "python -m dcmconform.peers.pynetdicom_scp"
    roles = ("scp", "scu")
    notes = ("embedded default: Verification + every storage SOP class + Patient/Study Root C-FIND and C-GET "
             "(no C-MOVE), checks the called AE title, TCP_NODELAY on accepted sockets, stores Part 10 files")

    tls_capable = True

    def default_ae_title(self) -> str:
        return "DCMCONFORM_REF"

    def version(self) -> str | None:
        from importlib.metadata import version

        return version("pynetdicom")

    def scu_argv(self, target: Endpoint, files: list[Path], calling_aet: str = "") -> list[str] | None:
        return [sys.executable, "-m", "pynetdicom", "storescu", target.host, str(target.port), *map(str, files),
                "-aec", target.ae_title, "-aet", calling_aet or self.calling_aet]

    def launch(self, port: int) -> Launch:
        import os

        argv = [sys.executable, "-m", "dcmconform.peers.pynetdicom_scp", "--port", str(port),
                "--aet", self.ae_title, "--dir", str(self.storage_dir())]
        if self.tls and self.certificates is not None:
            argv += self.certificates.as_arguments()
        return Launch(argv, dict(os.environ), self.workdir)


def release_unrequested(assoc: Any) -> None:
    """Free the worker of a connection that ended before it asked for an association.

    pynetdicom 3's acceptor thread waits ``acse_timeout`` (30 s) for an A-ASSOCIATE indication, and
    none comes once the connection is gone: a close, an A-ABORT or an undecodable PDU in Sta2 only
    takes its upper layer back to Sta1 (PS3.8 Table 9-10, AA-1/AA-2/AA-5). The thread counts against
    ``maximum_associations`` (10) all that time, so ten such connections within 30 s (a port scan, a
    health probe that only connects, a malformed request) make the node refuse every association with
    A-ASSOCIATE-RJ 2/3/2. Called on EVT_CONN_CLOSE: an empty indication ends the wait at once, as the
    acceptor's own timeout would. A connection that stays open and silent still waits ``acse_timeout``.
    """
    if assoc.is_acceptor and assoc.requestor.primitive is None:
        assoc.dul.to_user_queue.put(None)  # receive_pdu() returns None: the acceptor's "timed out" path


class Contexts(list):  # type: ignore[type-arg]
    """The SCP's supported presentation contexts, each association's own copy made directly.

    pynetdicom's server deep-copies them for every connection (``copy.deepcopy``): with every storage SOP
    class in nine transfer syntaxes, about 1,400 contexts and 8 to 10 ms of CPU per connection, most of
    what the embedded default spends on an association. The same copy made directly: a context holds
    None, booleans, integers and UIDs (immutable) and one list of transfer syntaxes (copied)."""

    def __deepcopy__(self, memo: dict[int, Any]) -> list[Any]:
        out = []
        for context in self:
            twin = copy.copy(context)
            twin._transfer_syntax = list(context._transfer_syntax)
            out.append(twin)
        return out


def serve(port: int, aet: str, folder: Path, host: str = "127.0.0.1",
          certificates: PeerCertificates | None = None) -> None:
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
    from pynetdicom import AE, StoragePresentationContexts, evt
    from pynetdicom.sop_class import Verification

    from dcmconform.peers.pynetdicom_archive import LEVELS, Archive

    syntaxes = [ImplicitVRLittleEndian, ExplicitVRLittleEndian, DeflatedExplicitVRLittleEndian,
                ExplicitVRBigEndian, RLELossless, JPEGBaseline8Bit, JPEGLosslessSV1, JPEGLSLossless,
                JPEG2000Lossless]
    ae = AE(ae_title=aet)
    ae.require_called_aet = True
    ae.maximum_pdu_size = 16384
    ae.add_supported_context(Verification, [ImplicitVRLittleEndian, ExplicitVRLittleEndian])
    for context in StoragePresentationContexts:  # both roles: a C-GET requestor asks to be the storage SCP
        ae.add_supported_context(context.abstract_syntax, syntaxes, scu_role=True, scp_role=True)
    for model in LEVELS:
        ae.add_supported_context(model, [ImplicitVRLittleEndian, ExplicitVRLittleEndian])
    archive = Archive(folder)

    def on_open(event: evt.Event) -> None:
        # Answer small PDUs at once rather than after the client's delayed ACK (~40 ms).
        event.assoc.dul.socket.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def on_close(event: evt.Event) -> None:
        release_unrequested(event.assoc)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"pynetdicom SCP {aet} listening on {host}:{port}", flush=True)
    ae.start_server((host, port), block=True, contexts=Contexts(ae.supported_contexts),
                    ssl_context=certificates.server_context() if certificates is not None else None,
                    evt_handlers=[(evt.EVT_CONN_OPEN, on_open), (evt.EVT_CONN_CLOSE, on_close), (evt.EVT_C_STORE, archive.on_store),
                                  (evt.EVT_C_FIND, archive.on_find), (evt.EVT_C_GET, archive.on_get)])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--aet", default="DCMCONFORM_REF")
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--tls-files", nargs=5, metavar="PEM", help="speak TLS: CA, server cert and key, client cert and key")
    args = parser.parse_args(argv)
    serve(args.port, args.aet, args.dir, certificates=from_arguments(args.tls_files))


if __name__ == "__main__":
    main()
